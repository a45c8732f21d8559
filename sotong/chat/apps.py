from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "sotong.chat"
    label = "chat"
    verbose_name = _("KakaoTalk chat")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sotong.channels import actions as channel_actions
        from sotong.chat import tasks  # noqa: F401 - registers periodic jobs
        from sotong.chat.actions import converse
        from sotong.chat.sessions import is_chat_case
        from sotong.inbox import triage

        # KakaoTalk's skill requests are answered by the conversation.
        channel_actions.CONVERSATIONS["kakao"] = converse

        # The chatbot already tried the FAQ with the citizen: a case it hands to staff is
        # for people, never answered again from the FAQ.
        triage.AUTO_ANSWER_VETOES.append(is_chat_case)
