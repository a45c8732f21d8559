from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sotong.channels.models import Channel, InboundEvent
from sotong.core.admin import AuditedAdmin


@admin.register(Channel)
class ChannelAdmin(AuditedAdmin[Channel]):
    """Credentials are neither shown nor editable here: connect through the settings pages."""

    list_display = [
        "name",
        "kind",
        "account_id",
        "organisation",
        "department",
        "status",
        "last_checked_at",
        "credential_expires_at",
    ]
    list_filter = ["organisation", "kind", "status"]
    search_fields = ["name", "account_id"]
    exclude = ["credentials"]
    readonly_fields = [
        "webhook_secret",
        "last_checked_at",
        "last_check_ok",
        "missing_scopes",
        "credential_expires_at",
    ]

    def _fields(self, obj: Channel) -> list[str]:
        return [
            name for name in super()._fields(obj) if name not in {"credentials", "webhook_secret"}
        ]


EVENT_FIELDS = (
    "channel",
    "kind",
    "external_id",
    "post_external_id",
    "parent_external_id",
    "conversation_id",
    "occurred_at",
    "received_at",
    "processed_at",
    "text",
    "author_name",
)


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin[InboundEvent]):
    list_display = ["received_at", "channel", "kind", "external_id", "processed_at"]
    list_filter = ["channel__organisation", "kind"]
    # Citizens' words and names stay out of the list; open an event to see them.
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
