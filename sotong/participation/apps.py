from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    name = "sotong.participation"
    label = "participation"
    verbose_name = _("Participation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sotong.inbox import ingest
        from sotong.participation.collect import ballots_from

        # Comments under a poll's posts are votes: read in the transaction that takes them in.
        ingest.MESSAGE_HOOKS.append(ballots_from)
