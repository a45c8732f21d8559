"""The content calendar's addresses. Apart from the compose pages' ``publishing`` URLs so
the two can be worked on (and included) separately."""

from django.urls import path

from sotong.publishing import calendar_views as views

app_name = "calendar"

urlpatterns = [
    path("calendar/", views.month, name="month"),
    path("calendar/week/", views.week, name="week"),
    path("calendar/feed/", views.feed_link, name="feed_link"),
    path("calendar/feed/<str:token>.ics", views.ics, name="ics"),
    path("calendar/publications/<int:pk>/reschedule/", views.reschedule, name="reschedule"),
]
