from django.urls import path

from sotong.publishing import topics_views

app_name = "topics"

urlpatterns = [
    path("settings/topics/", topics_views.topic_list, name="list"),
    path("settings/topics/<int:pk>/rename/", topics_views.topic_rename, name="rename"),
    path("settings/topics/<int:pk>/<slug:action>/", topics_views.topic_action, name="action"),
]
