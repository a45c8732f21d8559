from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FaqConfig(AppConfig):
    name = "sotong.faq"
    label = "faq"
    verbose_name = _("Frequently asked questions")
    default_auto_field = "django.db.models.BigAutoField"
