from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AudienceConfig(AppConfig):
    name = "sotong.audience"
    label = "audience"
    verbose_name = _("Audience")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sotong.audience import tasks  # noqa: F401 - registers periodic jobs
