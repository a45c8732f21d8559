from django.urls import path

from sotong.inbox import views

app_name = "inbox"

urlpatterns = [
    path("inbox/", views.index, name="index"),
    path("inbox/cases/<int:pk>/", views.case_detail, name="case"),
    path("inbox/cases/<int:pk>/<slug:action>/", views.case_action, name="case_action"),
]
