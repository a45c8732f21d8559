from django.urls import path

from sotong.notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read-all/", views.read_all, name="read_all"),
    path("notifications/<int:pk>/read/", views.read, name="read"),
]
