from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "sotong.publishing"
    label = "publishing"
    verbose_name = _("Publishing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sotong.publishing import tasks  # noqa: F401 - registers periodic jobs
