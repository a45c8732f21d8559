from django.urls import path

from sotong.faq import views

app_name = "faq"

urlpatterns = [
    path("faq/", views.faq_list, name="list"),
    path("faq/try/", views.faq_try, name="try"),
    path("faq/new/", views.faq_create, name="create"),
    path("faq/<int:pk>/", views.faq_edit, name="edit"),
    path("faq/<int:pk>/<slug:action>/", views.faq_action, name="action"),
]
