from django.urls import path

from sotong.channels import views

app_name = "channels"

urlpatterns = [
    path("settings/channels/", views.channel_list, name="list"),
    path("settings/channels/connect/<slug:kind>/login/", views.oauth_start, name="oauth_start"),
    path(
        "settings/channels/connect/<slug:kind>/callback/",
        views.oauth_callback,
        name="oauth_callback",
    ),
    path("settings/channels/connect/<slug:kind>/", views.channel_connect, name="connect"),
    path("settings/channels/<int:pk>/", views.channel_detail, name="detail"),
    path("settings/channels/<int:pk>/<slug:action>/", views.channel_action, name="action"),
    path("hooks/<slug:kind>/<str:secret>/", views.webhook, name="webhook"),
]
