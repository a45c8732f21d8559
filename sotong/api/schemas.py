"""Request and response bodies of the API. Datetimes are ISO 8601 with an offset and are
answered in Asia/Seoul; one sent without an offset is read as Asia/Seoul time."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator

SEOUL_NOTE = "ISO 8601 with offset (e.g. 2026-11-24T09:00:00+09:00); without one, Asia/Seoul."


def _aware(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        # The site's zone is Asia/Seoul (settings.TIME_ZONE).
        return timezone.make_aware(value)
    return value


def _web_address(value: str) -> str:
    value = value.strip()
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValueError(_("Enter the post's address on the platform.")) from None
    return value


Moment = Annotated[dt.datetime, AfterValidator(_aware)]
WebAddress = Annotated[str, Field(max_length=500), AfterValidator(_web_address)]


# -- channels and text ------------------------------------------------------------------


class TextLimitsOut(Schema):
    max_length: int | None = Field(description="Longest text, counted as the platform counts.")
    counting: str = Field(description="'chars' (code points) or 'twitter' (weighted).")
    image_required: bool
    max_images: int
    max_hashtags: int | None


class DepartmentOut(Schema):
    id: int
    name: str


class ChannelOut(Schema):
    id: int
    kind: str
    name: str
    department: DepartmentOut | None
    status: str
    by_hand: bool = Field(description="No publishing API: staff publish it and confirm the URL.")
    limits: TextLimitsOut


class ChannelRef(Schema):
    id: int
    kind: str
    name: str


class FitIn(Schema):
    channel_kind: str = Field(examples=["x"])
    text: str = Field(max_length=100_000)


class FitOut(Schema):
    weighted_length: int
    limit: int | None
    fits: bool
    remaining: int | None = None
    problems: list[str] = Field(
        default=[], description="Codes such as 'too_long:12', 'image_required'."
    )


# -- posts ------------------------------------------------------------------------------


class ComposeIn(Schema):
    department: int | None = Field(
        None, description="Id of a department you write for. Default: your own department."
    )
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=50_000)
    link: str = Field("", max_length=200)
    hashtags: list[str] = Field(default=[], max_length=30, examples=[["순천", "공사안내"]])
    topics: list[str] = Field(default=[], examples=[["안전"]])
    campaign: int | None = Field(None, description="Id of an existing campaign.")
    campaign_name: str = Field(
        "", max_length=100, description="Or a campaign's name: made if it does not exist."
    )
    channels: list[int] = Field(min_length=1, description="Ids of the channels to post to.")
    publish_at: Moment | None = Field(None, description=SEOUL_NOTE)


class VariantIn(Schema):
    text: str = Field(min_length=1, max_length=100_000)


class SubmitIn(Schema):
    publish_at: Moment | None = Field(None, description=SEOUL_NOTE + " Default: now.")


class CommentIn(Schema):
    comment: str = Field("", max_length=5000)


class WithdrawIn(Schema):
    reason: str = Field(
        "", max_length=2000, description="Why it is withdrawn (required; kept with the post)."
    )


class ConfirmIn(Schema):
    url: WebAddress


class RescheduleIn(Schema):
    due_at: Moment = Field(description=SEOUL_NOTE)


class VariantOut(Schema):
    id: int
    channel: ChannelRef
    text: str
    edited: bool
    fit: FitOut


class ChangeOut(Schema):
    id: int
    publication: int
    kind: str = Field(description="'edit' or 'delete' (a withdrawal).")
    state: str = Field(
        description="pending, applying, done, by_hand (a person makes it and confirms), "
        "failed, unconfirmed, held or superseded."
    )
    reason: str = Field(description="Why it failed or is held, in the platform's words.")
    text: str = Field(description="For an edit: the new text (to paste by hand when by_hand).")
    by_hand: bool = Field(description="The platform cannot make it: a person does, then confirms.")
    requested_by: str
    created_at: dt.datetime
    done_at: dt.datetime | None
    done_by_hand: bool


class PublicationOut(Schema):
    id: int
    post: int
    post_title: str
    department: DepartmentOut
    campaign: str | None
    channel: ChannelRef
    state: str
    hold_reason: str
    due_at: dt.datetime
    published_at: dt.datetime | None
    url: str
    external_id: str
    reason: str
    by_hand: bool
    withdrawn_at: dt.datetime | None = None
    changes: list[ChangeOut] = Field(
        default=[], description="Edits and deletions after it went out, oldest first."
    )


class ReviewOut(Schema):
    decision: str
    by: str
    comment: str
    at: dt.datetime
    step: str | None


class RevisionOut(Schema):
    number: int
    at: dt.datetime
    by: str
    why: str = Field(
        description="composed, edited, variant_edited, edited_after_publishing or withdrawn."
    )
    why_label: str = Field(description="The reason in words (Korean).")
    note: str


class StepOut(Schema):
    name: str
    rule: str
    complete: bool
    current: bool


class PostSummary(Schema):
    id: int
    title: str
    status: str
    department: DepartmentOut
    author: str | None
    campaign: str | None
    publish_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    channels: list[ChannelRef]


class PostDetail(PostSummary):
    body: str
    link: str
    hashtags: list[str]
    topics: list[str]
    variants: list[VariantOut]
    publications: list[PublicationOut]
    reviews: list[ReviewOut] = Field(description="The post's timeline of approval steps.")
    approval_chain: list[StepOut]
    may_decide: bool = Field(description="Whether you may approve or send it back now.")
    revisions: list[RevisionOut] = Field(
        description="The post's history: who changed it, when and why, oldest first."
    )
    withdrawn_at: dt.datetime | None
    withdraw_reason: str


class PostPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PostSummary]


class TopicOut(Schema):
    id: int
    name: str
    position: int
