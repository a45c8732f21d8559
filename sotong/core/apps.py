from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "sotong.core"
    label = "core"
    verbose_name = _("Organisation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the periodic jobs the scheduler runs.
        from sotong.core import tasks  # noqa: F401
