from django.urls import path

from sotong.inbox import settings_views, views

app_name = "inbox"

urlpatterns = [
    path("inbox/", views.index, name="index"),
    path("inbox/cases/<int:pk>/", views.case_detail, name="case"),
    path("inbox/cases/<int:pk>/<slug:action>/", views.case_action, name="case_action"),
    path("settings/routing-model/", settings_views.routing_model, name="routing_model"),
    path(
        "settings/routing-model/retrain/",
        settings_views.routing_model_retrain,
        name="routing_model_retrain",
    ),
]
