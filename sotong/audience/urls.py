"""Included before the channels' URLs: ``settings/channels/<pk>/<action>/`` and
``hooks/<kind>/<secret>/`` there would otherwise take these addresses."""

from django.urls import path

from sotong.audience import views

app_name = "audience"

urlpatterns = [
    path("settings/channels/<int:pk>/audience/", views.channel_audience, name="channel"),
    path("settings/channels/<int:pk>/audience/record/", views.record, name="record"),
    path("settings/channels/<int:pk>/audience/import/", views.import_file, name="import"),
    path("settings/channels/<int:pk>/audience/collect/", views.collect, name="collect"),
    path("settings/channels/<int:pk>/audience.csv", views.download, name="download"),
    path("hooks/kakao-friends/<str:secret>/", views.kakao_friends, name="kakao_friends"),
]
