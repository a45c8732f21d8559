from django.urls import path

from sotong.publishing import views

app_name = "publishing"

urlpatterns = [
    path("compose/", views.compose, name="compose"),
    path("compose/preview/", views.preview, name="preview"),
    path("posts/", views.post_list, name="posts"),
    path("posts/<int:pk>/", views.post_detail, name="post"),
    path("posts/<int:pk>/<slug:action>/", views.post_action, name="post_action"),
    path("approvals/", views.approvals, name="approvals"),
    path("variants/<int:pk>/", views.variant_edit, name="variant_edit"),
    path("changes/<int:pk>/<slug:action>/", views.change_action, name="change_action"),
    path(
        "publications/<int:pk>/<slug:action>/",
        views.publication_action,
        name="publication_action",
    ),
]
