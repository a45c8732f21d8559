from django.urls import path, re_path

from sotong.publishing import approval_views

app_name = "approval"

urlpatterns = [
    path("settings/approval/", approval_views.chain, name="chain"),
    path("settings/approval/<int:pk>/", approval_views.step_edit, name="step_edit"),
    path("settings/approval/<int:pk>/remove/", approval_views.step_remove, name="step_remove"),
    re_path(
        r"^settings/approval/(?P<pk>[0-9]+)/(?P<direction>up|down)/$",
        approval_views.step_move,
        name="step_move",
    ),
]
