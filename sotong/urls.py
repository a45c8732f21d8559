from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from sotong.web import views as web_views

admin.site.site_header = "Sotong (소통)"
admin.site.site_title = "Sotong"

urlpatterns = [
    path("accounts/login/", web_views.SotongLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", web_views.health, name="health"),
    path("api/", include("sotong.api.urls")),
    path("", include("sotong.audience.urls")),  # before channels: see its urls.py
    path("", include("sotong.channels.urls")),
    path("", include("sotong.inbox.urls")),
    path("", include("sotong.chat.urls")),
    path("", include("sotong.participation.urls")),
    path("", include("sotong.publishing.image_urls")),
    path("", include("sotong.publishing.urls")),
    path("", include("sotong.publishing.calendar_urls")),
    path("", include("sotong.publishing.series_urls")),
    path("", include("sotong.publishing.approval_urls")),
    path("", include("sotong.publishing.topics_urls")),
    path("", include("sotong.notifications.urls")),
    path("", include("sotong.faq.urls")),
    path("", include("sotong.web.urls")),
]
