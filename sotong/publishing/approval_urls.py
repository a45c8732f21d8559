from django.urls import path

from sotong.publishing import approval_views

app_name = "approval"

urlpatterns = [
    path("settings/approval/", approval_views.chain, name="chain"),
    path("settings/approval/<int:pk>/", approval_views.step_edit, name="step_edit"),
    path("settings/approval/<int:pk>/remove/", approval_views.step_remove, name="step_remove"),
]
