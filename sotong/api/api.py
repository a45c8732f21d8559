"""The JSON API, v1: channels, text fit, topics, posts (compose, edit, submit, approve,
withdraw, history), the approval queue, the calendar of publications and the changes made
to them after publishing. Thin: each operation parses its input,
looks rows up through the scoped selectors (404 outside the caller's scope) and calls the
publishing actions, which check permissions and rules."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from functools import partial
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Router, Schema
from ninja.openapi.docs import Swagger
from ninja.responses import Status

from sotong.api import errors
from sotong.api.auth import SessionAuth, TokenAuth, caller_key
from sotong.api.errors import ApiError, ErrorOut
from sotong.api.inbox_api import router as inbox_router
from sotong.api.models import IdempotencyKey
from sotong.api.schemas import (
    ChangeOut,
    ChannelOut,
    ChannelRef,
    CommentIn,
    ComposeIn,
    ConfirmIn,
    DepartmentOut,
    FitIn,
    FitOut,
    PostDetail,
    PostPage,
    PostSummary,
    PublicationOut,
    RescheduleIn,
    ReviewOut,
    RevisionOut,
    StepOut,
    SubmitIn,
    TextLimitsOut,
    TopicOut,
    VariantIn,
    VariantOut,
    WithdrawIn,
)
from sotong.channels.models import Channel
from sotong.core.models import Department, Staff
from sotong.platforms.base import connector_classes
from sotong.publishing import actions, adapt, propagation, selectors
from sotong.publishing.forms import PAST_GRACE
from sotong.publishing.models import (
    ChangeState,
    Post,
    PostStatus,
    Publication,
    PublicationChange,
    PublicationState,
)

IDEMPOTENCY_WINDOW = dt.timedelta(hours=24)
MAX_PAGE = 100
MAX_CALENDAR_DAYS = 366

DESCRIPTION = """\
소통(Sotong) 게시 API: 한 번 쓴 글을 채널별로 맞추고, 승인을 받아, 예약하고, 게시합니다.
웹 화면(글쓰기, 승인 대기, 게시 일정)과 같은 일을 같은 권한으로 합니다.

Sotong's publishing API: write a post once, adapt it per channel, approve, schedule and
publish it. It does what the web pages do (compose, approval queue, calendar) with exactly
the caller's permissions: department staff see and write only their own department's posts.

**Authentication.** Send `Authorization: Bearer <token>` with a token made under
설정 → API 토큰 (Settings → API tokens). A signed-in browser session also works (unsafe
methods need Django's CSRF token), so "Try it out" on this page works as you.

**Times.** ISO 8601 with an offset, answered in Asia/Seoul (`+09:00`); a time sent
without an offset is read as Asia/Seoul.

**Errors.** Always `{"error": {"code", "message", "fields"}}`: 400 a rule refused the
request (message in Korean), 401 no valid token, 403 not allowed, 404 not found or not
yours to see, 409 an idempotency key reused with another body, 422 the body or query does
not parse (`fields` names each problem).

**Idempotency.** `POST /posts` takes an `Idempotency-Key` header: the same key from the same
token (or signed-in user) within 24 hours returns the post made the first time.
"""


def _docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The docs page and its OpenAPI document are for staff: the page needs a signed-in
    session (its "Try it out" runs as that session); the document is also given to a
    valid API token, so client generators can fetch it."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "staff", None) is not None:
            return view(request, *args, **kwargs)
        is_page = isinstance(view, partial) and view.func.__name__ == "openapi_view"
        if is_page:
            return redirect_to_login(request.get_full_path())
        try:
            staff = TokenAuth()(request)
        except Exception:  # noqa: BLE001 - any refusal of the token is the same 401
            staff = None
        if staff is None:
            return errors.error_response(
                api,
                request,
                401,
                "unauthenticated",
                _("Sign in, or send a valid API token as “Authorization: Bearer <token>”."),
            )
        return view(request, *args, **kwargs)

    return wrapped


api = NinjaAPI(
    title="Sotong API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=_docs_access,
)
errors.install(api)


def documented(*codes: int) -> dict[int, Any]:
    """Error responses every operation documents (401 always; the others as it can meet)."""
    return dict.fromkeys((401, *codes), ErrorOut)


def _staff(request: HttpRequest) -> Staff:
    return cast(Staff, request.auth)  # type: ignore[attr-defined]


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value) if value is not None else None


def _department(department: Department) -> DepartmentOut:
    return DepartmentOut(id=department.pk, name=department.name)


def _channel_ref(channel: Channel) -> ChannelRef:
    return ChannelRef(id=channel.pk, kind=channel.kind, name=channel.name)


def _fit(fit: adapt.Fit) -> FitOut:
    return FitOut(
        weighted_length=fit.weighted_length,
        limit=fit.limit,
        fits=fit.fits,
        remaining=fit.remaining,
        problems=list(fit.problems),
    )


# -- channels and text ------------------------------------------------------------------

channels_router = Router(tags=["channels"])


@channels_router.get(
    "/channels",
    response={200: list[ChannelOut], **documented()},
    summary="Channels a post can go to / 게시할 수 있는 채널",
    description="The channels you may choose when composing: not paused, and for department "
    "staff the city-wide ones and their own department's.",
)
def list_channels(request: HttpRequest) -> list[ChannelOut]:
    result = []
    for channel in selectors.postable_channels(_staff(request)):
        limits = channel.connector_class.limits
        result.append(
            ChannelOut(
                id=channel.pk,
                kind=channel.kind,
                name=channel.name,
                department=_department(channel.department) if channel.department else None,
                status=channel.status,
                by_hand=channel.connector_class.publishes_by_hand(),
                limits=TextLimitsOut(
                    max_length=limits.max_length,
                    counting=limits.counting,
                    image_required=limits.image_required,
                    max_images=limits.max_images,
                    max_hashtags=limits.max_hashtags,
                ),
            )
        )
    return result


@channels_router.post(
    "/text/fit",
    response={200: FitOut, **documented(422)},
    summary="Measure a text as a platform counts it / 글자 수 세기",
    description="The same as `sotong text fit --channel KIND`: X counts Hangul and emoji as 2 "
    "and every URL as 23; other platforms count characters.",
    tags=["text"],
)
def text_fit(request: HttpRequest, payload: FitIn) -> FitOut:
    kinds = sorted(platform.kind for platform in connector_classes())
    if payload.channel_kind not in kinds:
        raise ApiError(
            422,
            "validation_error",
            _("Some fields are missing or not valid."),
            {
                "channel_kind": [
                    _("Unknown channel kind; one of: %(kinds)s") % {"kinds": ", ".join(kinds)}
                ]
            },
        )
    return _fit(adapt.measure(payload.channel_kind, payload.text))


# -- posts ------------------------------------------------------------------------------

posts_router = Router(tags=["posts"])


def _summary_fields(post: Post) -> dict[str, Any]:
    return {
        "id": post.pk,
        "title": post.title,
        "status": post.status,
        "department": _department(post.department),
        "author": post.author.display_name if post.author else None,
        "campaign": post.campaign.name if post.campaign else None,
        "publish_at": _local(post.publish_at),
        "created_at": _local(post.created_at),
        "updated_at": _local(post.updated_at),
        "channels": [_channel_ref(variant.channel) for variant in post.variants.all()],
    }


def _publication(publication: Publication) -> PublicationOut:
    post = publication.variant.post
    return PublicationOut(
        id=publication.pk,
        post=post.pk,
        post_title=post.title,
        department=_department(post.department),
        campaign=post.campaign.name if post.campaign else None,
        channel=_channel_ref(publication.channel),
        state=publication.state,
        hold_reason=publication.hold_reason,
        due_at=cast(dt.datetime, _local(publication.due_at)),
        published_at=_local(publication.published_at),
        url=publication.url,
        external_id=publication.external_id,
        reason=publication.reason,
        by_hand=publication.channel.connector_class.publishes_by_hand(),
        withdrawn_at=_local(publication.withdrawn_at),
        changes=[_change(change) for change in publication.changes.all()],
    )


def _change(change: PublicationChange) -> ChangeOut:
    return ChangeOut(
        id=change.pk,
        publication=change.publication_id,
        kind=change.kind,
        state=change.state,
        reason=change.reason,
        text=change.text,
        by_hand=change.state == ChangeState.BY_HAND,
        requested_by=change.requested_label,
        created_at=cast(dt.datetime, _local(change.created_at)),
        done_at=_local(change.done_at),
        done_by_hand=change.done_by_hand,
    )


def _publications(staff: Staff) -> Any:
    return (
        selectors.publications(staff)
        .select_related("variant__post__department", "variant__post__campaign")
        .prefetch_related("changes")
    )


def _detail(staff: Staff, post: Post) -> PostDetail:
    post = selectors.posts(staff).prefetch_related("variants__channel").get(pk=post.pk)
    chain = actions.approval_chain(post)
    return PostDetail(
        **_summary_fields(post),
        body=post.body,
        link=post.link,
        hashtags=list(post.hashtags),
        topics=list(post.topics),
        variants=[
            VariantOut(
                id=variant.pk,
                channel=_channel_ref(variant.channel),
                text=variant.text,
                edited=variant.edited,
                fit=_fit(actions.variant_fit(variant)),
            )
            for variant in post.variants.select_related("channel", "post")
        ],
        publications=[
            _publication(publication)
            for publication in _publications(staff)
            .filter(variant__post=post)
            .order_by("channel__name")
        ],
        reviews=[
            ReviewOut(
                decision=review.decision,
                by=review.by_label,
                comment=review.comment,
                at=cast(dt.datetime, _local(review.at)),
                step=review.step.name if review.step else None,
            )
            for review in post.reviews.select_related("step")
        ],
        approval_chain=[
            StepOut(
                name=state.step.name,
                rule=state.step.rule,
                complete=state.complete,
                current=state.current,
            )
            for state in chain
        ],
        may_decide=actions.may_decide(staff, post, chain),
        revisions=[
            RevisionOut(
                number=revision.number,
                at=cast(dt.datetime, _local(revision.at)),
                by=revision.by_label,
                why=revision.why,
                why_label=revision.get_why_display(),
                note=revision.note,
            )
            for revision in post.revisions.all()
        ],
        withdrawn_at=_local(post.withdrawn_at),
        withdraw_reason=post.withdraw_reason,
    )


class PostFilters(Schema):
    status: PostStatus | None = None
    department: int | None = None
    campaign: int | None = None
    topic: str | None = None
    limit: int = 50
    offset: int = 0


@posts_router.get(
    "/posts",
    response={200: PostPage, **documented(422)},
    summary="List posts / 게시물 목록",
    description="Newest first; filter by status, department id, campaign id and topic name "
    f"(retired topics too); page with limit (at most {MAX_PAGE}) and offset.",
)
def list_posts(request: HttpRequest, filters: Query[PostFilters]) -> PostPage:
    if not 1 <= filters.limit <= MAX_PAGE or filters.offset < 0:
        raise ApiError(
            422,
            "validation_error",
            _("Some fields are missing or not valid."),
            {"limit": [_("Between 1 and %(max)d.") % {"max": MAX_PAGE}]},
        )
    posts = selectors.posts(_staff(request)).prefetch_related("variants__channel")
    if filters.status:
        posts = posts.filter(status=filters.status)
    if filters.department:
        posts = posts.filter(department_id=filters.department)
    if filters.campaign:
        posts = posts.filter(campaign_id=filters.campaign)
    if filters.topic:
        posts = actions.with_topic(posts, filters.topic)
    page = posts[filters.offset : filters.offset + filters.limit]
    return PostPage(
        count=posts.count(),
        limit=filters.limit,
        offset=filters.offset,
        items=[PostSummary(**_summary_fields(post)) for post in page],
    )


def _compose_arguments(staff: Staff, payload: ComposeIn) -> dict[str, Any]:
    """The compose page's choices, by id: each must be one the caller may choose."""
    problems: dict[str, list[str]] = {}
    department_id = payload.department if payload.department is not None else staff.department_id
    department = (
        selectors.writable_departments(staff).filter(pk=department_id).first()
        if department_id is not None
        else None
    )
    if department is None:
        problems["department"] = [_("Choose one of the departments you write for.")]
    postable = {channel.pk: channel for channel in selectors.postable_channels(staff)}
    unknown = [pk for pk in payload.channels if pk not in postable]
    if unknown:
        problems["channels"] = [
            _("These channels cannot be chosen: %(ids)s") % {"ids": ", ".join(map(str, unknown))}
        ]
    topics: list[str] = []
    try:
        topics = actions.clean_topics(staff.organisation_id, payload.topics)
    except ValidationError as error:
        problems["topics"] = list(error.messages)
    campaign = None
    if payload.campaign is not None:
        campaign = selectors.campaigns(staff).filter(pk=payload.campaign).first()
        if campaign is None:
            problems["campaign"] = [_("Unknown campaign.")]
        elif payload.campaign_name.strip():
            problems["campaign_name"] = [_("Choose a campaign or type a new one's name, not both.")]
    if problems:
        raise ApiError(
            422, "validation_error", _("Some fields are missing or not valid."), problems
        )
    return {
        "department": department,
        "title": payload.title,
        "body": payload.body,
        "link": payload.link,
        "hashtags": adapt.parse_hashtags(" ".join(payload.hashtags)),
        "topics": topics,
        "campaign": campaign,
        "channels": [postable[pk] for pk in dict.fromkeys(payload.channels)],
        "publish_at": payload.publish_at,
    }


def _compose(staff: Staff, payload: ComposeIn) -> Post:
    arguments = _compose_arguments(staff, payload)
    with transaction.atomic():
        # A campaign typed for a post that then fails is not left behind.
        if payload.campaign_name.strip():
            arguments["campaign"] = actions.campaign_named(
                staff, staff.organisation, payload.campaign_name
            )
        return actions.compose(staff, staff.organisation, **arguments)


@posts_router.post(
    "/posts",
    response={201: PostDetail, **documented(400, 403, 409, 422)},
    summary="Compose a post / 글쓰기",
    description="Writes the post once, with a variant adapted to each channel; it is saved "
    "as a draft. Send an `Idempotency-Key` header (any string up to 200 characters) to make "
    "retries safe: the same key from the same token or user within 24 hours returns the "
    "post made the first time (with `Idempotent-Replayed: true`).",
    openapi_extra={
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
                "description": "Makes a retried compose return the first result.",
            }
        ]
    },
)
def compose(request: HttpRequest, payload: ComposeIn) -> Any:
    staff = _staff(request)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return Status(201, _detail(staff, _compose(staff, payload)))
    if len(key) > 200:
        raise ApiError(
            422,
            "validation_error",
            _("Some fields are missing or not valid."),
            {"Idempotency-Key": [_("The value is too long.")]},
        )
    caller = caller_key(request)
    digest = hashlib.sha256(request.body).hexdigest()
    IdempotencyKey.objects.filter(
        caller=caller, key=key, created_at__lt=timezone.now() - IDEMPOTENCY_WINDOW
    ).delete()
    try:
        with transaction.atomic():
            # The key is claimed first: a concurrent request with it waits on the unique
            # constraint, then finds the post. A refused compose takes the key with it.
            record = IdempotencyKey.objects.create(
                organisation_id=staff.organisation_id,
                caller=caller,
                key=key,
                request_hash=digest,
            )
            post = _compose(staff, payload)
            record.post = post
            record.save(update_fields=["post"])
    except IntegrityError:
        record = IdempotencyKey.objects.get(caller=caller, key=key)
        if record.request_hash != digest:
            raise ApiError(
                409,
                "idempotency_key_reused",
                _("This Idempotency-Key was used for a different request."),
            ) from None
        if record.post is None:
            raise ApiError(404, "not_found", _("Not found.")) from None
        response = api.create_response(
            request, _detail(staff, record.post).model_dump(mode="json"), status=201
        )
        response["Idempotent-Replayed"] = "true"
        return response
    return Status(201, _detail(staff, post))


def _post(staff: Staff, post_id: int) -> Post:
    return get_object_or_404(selectors.posts(staff), pk=post_id)


@posts_router.get(
    "/posts/{post_id}",
    response={200: PostDetail, **documented(404)},
    summary="A post with its variants, publications and timeline / 게시물 상세",
)
def post_detail(request: HttpRequest, post_id: int) -> PostDetail:
    staff = _staff(request)
    return _detail(staff, _post(staff, post_id))


@posts_router.put(
    "/posts/{post_id}/variants/{variant_id}",
    response={200: VariantOut, **documented(400, 403, 404, 422)},
    summary="Change a variant's text / 채널별 문구 고치기",
    description="Your own wording for one channel. Editing an approved post sends it back "
    "for approval. Once the post is out, the edit must fit the channel and, once approved "
    "again, updates the post on the platform (a by-hand change where the platform cannot "
    "edit; see each publication's `changes`).",
)
def edit_variant(
    request: HttpRequest, post_id: int, variant_id: int, payload: VariantIn
) -> VariantOut:
    staff = _staff(request)
    variant = get_object_or_404(selectors.variants(staff), pk=variant_id, post_id=post_id)
    if actions.is_out(variant.post):
        variant = actions.edit_published(staff, variant, payload.text)
    else:
        variant = actions.edit_variant(staff, variant, payload.text)
    return VariantOut(
        id=variant.pk,
        channel=_channel_ref(variant.channel),
        text=variant.text,
        edited=variant.edited,
        fit=_fit(actions.variant_fit(variant)),
    )


@posts_router.post(
    "/posts/{post_id}/submit",
    response={200: PostDetail, **documented(400, 403, 404, 422)},
    summary="Send for approval and schedule / 승인 요청",
    description="Asks for approval and puts the post in the calendar at `publish_at`. A "
    "variant that does not fit its channel cannot be submitted (400).",
)
def submit(request: HttpRequest, post_id: int, payload: SubmitIn) -> PostDetail:
    staff = _staff(request)
    post = _post(staff, post_id)
    if payload.publish_at is not None and payload.publish_at < timezone.now() - PAST_GRACE:
        raise ApiError(
            422,
            "validation_error",
            _("Some fields are missing or not valid."),
            {"publish_at": [_("That time has passed; choose a later one.")]},
        )
    actions.submit(staff, post, publish_at=payload.publish_at)
    return _detail(staff, post)


@posts_router.post(
    "/posts/{post_id}/approve",
    response={200: PostDetail, **documented(400, 403, 404, 422)},
    summary="Approve / 승인",
    description="With an approval chain this approves the current step; the post is "
    "approved after the last one.",
)
def approve(request: HttpRequest, post_id: int, payload: CommentIn) -> PostDetail:
    staff = _staff(request)
    post = actions.approve(staff, _post(staff, post_id), comment=payload.comment)
    return _detail(staff, post)


@posts_router.post(
    "/posts/{post_id}/request-changes",
    response={200: PostDetail, **documented(400, 403, 404, 422)},
    summary="Request changes (comment required) / 수정 요청",
)
def request_changes(request: HttpRequest, post_id: int, payload: CommentIn) -> PostDetail:
    staff = _staff(request)
    post = actions.request_changes(staff, _post(staff, post_id), comment=payload.comment)
    return _detail(staff, post)


@posts_router.post(
    "/posts/{post_id}/reject",
    response={200: PostDetail, **documented(400, 403, 404, 422)},
    summary="Reject (comment required) / 반려",
)
def reject(request: HttpRequest, post_id: int, payload: CommentIn) -> PostDetail:
    staff = _staff(request)
    post = actions.reject(staff, _post(staff, post_id), comment=payload.comment)
    return _detail(staff, post)


@posts_router.post(
    "/posts/{post_id}/withdraw",
    response={200: PostDetail, **documented(400, 403, 404, 422)},
    summary="Withdraw a post (reason required) / 게시 철회",
    description="Takes the post back: what has not gone out is cancelled; what is out is "
    "deleted from its platform (by the worker where the platform allows it, otherwise a "
    "by-hand change in the publication's `changes`). The post and its history are kept, "
    "marked withdrawn with when and why.",
)
def withdraw(request: HttpRequest, post_id: int, payload: WithdrawIn) -> PostDetail:
    staff = _staff(request)
    post = actions.withdraw(staff, _post(staff, post_id), reason=payload.reason)
    return _detail(staff, post)


# -- approval queue -----------------------------------------------------------------------

approvals_router = Router(tags=["approvals"])


@approvals_router.get(
    "/approvals",
    response={200: list[PostSummary], **documented()},
    summary="Posts waiting for your decision / 승인 대기",
    description="Posts awaiting approval that you may decide now, soonest publish time "
    "first: with an approval chain, those whose current step names you (administrators: "
    "all); without one, all of them if you approve posts.",
)
def approval_queue(request: HttpRequest) -> list[PostSummary]:
    staff = _staff(request)
    return [
        PostSummary(**_summary_fields(post))
        for post in selectors.awaiting_approval(staff)
        if actions.may_decide(staff, post, actions.approval_chain(post))
    ]


# -- publications (the calendar) ------------------------------------------------------------

publications_router = Router(tags=["publications"])


class CalendarFilters(Schema):
    start: dt.date
    end: dt.date
    department: int | None = None
    channel: int | None = None
    campaign: int | None = None
    state: PublicationState | None = None


@publications_router.get(
    "/publications",
    response={200: list[PublicationOut], **documented(422)},
    summary="The calendar: publications in a date range / 게시 일정",
    description="Publications due or published from `start` to `end` (dates, both included, "
    f"Asia/Seoul days, at most {MAX_CALENDAR_DAYS} days), filtered by department, channel, "
    "campaign (ids) and state. Cancelled ones only when `state=cancelled`.",
)
def list_publications(
    request: HttpRequest, filters: Query[CalendarFilters]
) -> list[PublicationOut]:
    if filters.end < filters.start or (filters.end - filters.start).days >= MAX_CALENDAR_DAYS:
        raise ApiError(
            422,
            "validation_error",
            _("Some fields are missing or not valid."),
            {
                "end": [
                    _("The end must be on or after the start, within %(days)d days.")
                    % {"days": MAX_CALENDAR_DAYS}
                ]
            },
        )
    staff = _staff(request)
    zone = ZoneInfo(staff.organisation.time_zone)
    since = dt.datetime.combine(filters.start, dt.time.min, zone)
    until = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time.min, zone)
    publications = _publications(staff).filter(
        Q(due_at__gte=since, due_at__lt=until) | Q(published_at__gte=since, published_at__lt=until)
    )
    if filters.department:
        publications = publications.filter(variant__post__department_id=filters.department)
    if filters.channel:
        publications = publications.filter(channel_id=filters.channel)
    if filters.campaign:
        publications = publications.filter(variant__post__campaign_id=filters.campaign)
    if filters.state:
        publications = publications.filter(state=filters.state)
    else:
        publications = publications.exclude(state=PublicationState.CANCELLED)
    return [_publication(publication) for publication in publications.order_by("due_at", "id")]


def _publication_of(staff: Staff, publication_id: int) -> Publication:
    return get_object_or_404(_publications(staff), pk=publication_id)


@publications_router.get(
    "/publications/{publication_id}",
    response={200: PublicationOut, **documented(404)},
    summary="One publication / 게시 건",
)
def publication_detail(request: HttpRequest, publication_id: int) -> PublicationOut:
    return _publication(_publication_of(_staff(request), publication_id))


@publications_router.post(
    "/publications/{publication_id}/retry",
    response={200: PublicationOut, **documented(400, 403, 404)},
    summary="Retry an unconfirmed or failed publication / 다시 게시",
    description="A person has checked the platform: it goes out again in the next round.",
)
def retry(request: HttpRequest, publication_id: int) -> PublicationOut:
    staff = _staff(request)
    publication = actions.retry(staff, _publication_of(staff, publication_id))
    return _publication(_publication_of(staff, publication.pk))


@publications_router.post(
    "/publications/{publication_id}/confirm",
    response={200: PublicationOut, **documented(400, 403, 404, 422)},
    summary="Confirm it is published, with its URL / 게시 확인",
    description="For one published by hand, or one whose outcome was unconfirmed.",
)
def confirm(request: HttpRequest, publication_id: int, payload: ConfirmIn) -> PublicationOut:
    staff = _staff(request)
    publication = actions.confirm(staff, _publication_of(staff, publication_id), url=payload.url)
    return _publication(_publication_of(staff, publication.pk))


@publications_router.post(
    "/publications/{publication_id}/reschedule",
    response={200: PublicationOut, **documented(400, 403, 404, 422)},
    summary="Move a publication that has not gone out / 일정 변경",
)
def reschedule(request: HttpRequest, publication_id: int, payload: RescheduleIn) -> PublicationOut:
    staff = _staff(request)
    if payload.due_at <= timezone.now():
        raise ApiError(
            422,
            "validation_error",
            _("Some fields are missing or not valid."),
            {"due_at": [_("That time has passed; choose a later one.")]},
        )
    publication = actions.reschedule(staff, _publication_of(staff, publication_id), payload.due_at)
    return _publication(_publication_of(staff, publication.pk))


# -- changes after publishing ---------------------------------------------------------------

changes_router = Router(tags=["changes"])


def _change_of(staff: Staff, change_id: int) -> PublicationChange:
    return get_object_or_404(
        PublicationChange.objects.for_staff(staff).select_related("publication__channel"),
        pk=change_id,
    )


@changes_router.post(
    "/changes/{change_id}/retry",
    response={200: ChangeOut, **documented(400, 403, 404)},
    summary="Make a failed, held or unconfirmed change again / 변경 다시 시도",
    description="A person has checked the platform: the edit or deletion is made again in "
    "the next round. Not for a platform that cannot make it (400: confirm it by hand).",
)
def retry_change(request: HttpRequest, change_id: int) -> ChangeOut:
    staff = _staff(request)
    change = propagation.retry_change(staff, _change_of(staff, change_id))
    return _change(_change_of(staff, change.pk))


@changes_router.post(
    "/changes/{change_id}/confirm",
    response={200: ChangeOut, **documented(400, 403, 404)},
    summary="Confirm a change is made on the platform / 변경 완료 확인",
    description="For a by-hand change a person has just made, or a failed, held or "
    "unconfirmed one they checked. A change waiting for the worker, or settled, is 400.",
)
def confirm_change(request: HttpRequest, change_id: int) -> ChangeOut:
    staff = _staff(request)
    change = propagation.confirm_change(staff, _change_of(staff, change_id))
    return _change(_change_of(staff, change.pk))


# -- topics -------------------------------------------------------------------------------

topics_router = Router(tags=["topics"])


@topics_router.get(
    "/topics",
    response={200: list[TopicOut], **documented()},
    summary="Topics a post can be tagged with / 주제 분류",
    description="Your organisation's active topics in its order (관광, 축제, …; edited under "
    "설정 → 주제 분류). Compose accepts these names only; retired topics stay on older posts.",
)
def list_topics(request: HttpRequest) -> list[TopicOut]:
    staff = _staff(request)
    return [
        TopicOut(id=topic.pk, name=topic.name, position=topic.position)
        for topic in actions.topics_of(staff.organisation_id).filter(active=True)
    ]


api.add_router("", channels_router)
api.add_router("", posts_router)
api.add_router("", approvals_router)
api.add_router("", publications_router)
api.add_router("", changes_router)
api.add_router("", topics_router)
api.add_router("", inbox_router)

__all__ = ["api"]
