"""Read queries for the publishing pages, each scoped through ``for_staff``: department
staff see their own department's posts and nothing of another department's."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from sotong.channels.models import Channel, ChannelStatus
from sotong.core import selectors as core_selectors
from sotong.core.models import Department, Staff
from sotong.core.roles import DEPARTMENT_ROLES
from sotong.publishing import adapt
from sotong.publishing.models import Campaign, Post, PostStatus, Publication, Variant


def posts(staff: Staff) -> QuerySet[Post]:
    return Post.objects.for_staff(staff).select_related("department", "author", "campaign")


def awaiting_approval(staff: Staff) -> QuerySet[Post]:
    """Posts waiting for a decision, soonest publish time first."""
    return (
        posts(staff)
        .filter(status=PostStatus.IN_REVIEW)
        .prefetch_related("variants__channel")
        .order_by("publish_at", "created_at")
    )


def variants(staff: Staff) -> QuerySet[Variant]:
    return Variant.objects.for_staff(staff).select_related("post", "channel")


def publications(staff: Staff) -> QuerySet[Publication]:
    return Publication.objects.for_staff(staff).select_related("variant__post", "channel")


def campaigns(staff: Staff) -> QuerySet[Campaign]:
    return Campaign.objects.for_staff(staff).order_by("name")


def writable_departments(staff: Staff) -> QuerySet[Department]:
    """The departments ``staff`` may write for: a department author their own (and the
    units under it); editors and administrators any active department."""
    departments = core_selectors.departments(staff)
    if staff.role in DEPARTMENT_ROLES:
        departments = departments.filter(pk__in=staff.department_scope_ids())
    return departments


def postable_channels(staff: Staff) -> list[Channel]:
    """Channels a post can go to: ones whose platform takes posts (by API or by hand) and
    that are not paused. Department staff write for the city's own channels too (the
    channel list in settings hides those from them), but never for another department's."""
    channels = Channel.objects.for_organisation(staff.organisation_id).exclude(
        status=ChannelStatus.PAUSED
    )
    if staff.role in DEPARTMENT_ROLES:
        channels = channels.filter(
            Q(department__isnull=True) | Q(department__in=staff.department_scope_ids())
        )
    return [channel for channel in channels.order_by("name") if adapt.can_publish_to(channel.kind)]
