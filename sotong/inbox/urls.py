from django.urls import path

from sotong.inbox import settings_views, views

app_name = "inbox"

urlpatterns = [
    path("inbox/", views.index, name="index"),
    path("inbox/cases/<int:pk>/", views.case_detail, name="case"),
    # Before the generic case action below, which would take these slugs for actions.
    path("inbox/cases/<int:pk>/canned/", views.insert_canned, name="insert_canned"),
    path("inbox/cases/<int:pk>/photos/<int:photo_pk>/", views.case_photo, name="photo"),
    path("inbox/cases/<int:pk>/sensitivity/", views.set_sensitivity, name="sensitivity"),
    path(
        "inbox/cases/<int:pk>/replies/<int:reply_pk>/<slug:decision>/",
        views.review_reply,
        name="review_reply",
    ),
    path("inbox/cases/<int:pk>/<slug:action>/", views.case_action, name="case_action"),
    # Public: citizens answer here without signing in; the signed token is the key.
    path("survey/<str:token>/", views.survey, name="survey"),
    path("settings/routing-model/", settings_views.routing_model, name="routing_model"),
    path(
        "settings/routing-model/retrain/",
        settings_views.routing_model_retrain,
        name="routing_model_retrain",
    ),
    path("settings/inbox/", settings_views.inbox_options, name="options"),
    path("settings/canned-responses/", settings_views.canned_list, name="canned_list"),
    path("settings/canned-responses/new/", settings_views.canned_create, name="canned_create"),
    path("settings/canned-responses/<int:pk>/", settings_views.canned_edit, name="canned_edit"),
    path(
        "settings/canned-responses/<int:pk>/<slug:action>/",
        settings_views.canned_action,
        name="canned_action",
    ),
]
