from django.urls import path

from sotong.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/organisation/", views.organisation_settings, name="organisation"),
    path("settings/departments/", views.department_list, name="departments"),
    path(
        "settings/departments/<int:pk>/rename/", views.department_rename, name="department_rename"
    ),
    path(
        "settings/departments/<int:pk>/duties/",
        views.department_duties,
        name="department_duties",
    ),
    path("settings/departments/<int:pk>/merge/", views.department_merge, name="department_merge"),
    path("settings/staff/", views.staff_list, name="staff"),
    path("settings/staff/<int:pk>/", views.staff_change, name="staff_change"),
    path("settings/staff/<int:pk>/active/", views.staff_set_active, name="staff_set_active"),
    path("settings/calendar/", views.calendar_settings, name="calendar"),
    path(
        "settings/calendar/<int:pk>/remove/",
        views.calendar_exception_remove,
        name="calendar_exception_remove",
    ),
    path("settings/audit/", views.audit_log, name="audit"),
]
