"""Business operations on posts: compose once, adapt per channel, approve, schedule,
reschedule, retry and confirm; images and the approval chain. Views, the API, the CLI and
tasks call these; sending to the platforms lives in ``dispatch``.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from sotong.channels.models import Channel
from sotong.core import audit
from sotong.core.models import Department, Organisation, Staff
from sotong.core.permissions import Performer, actor_of, require
from sotong.core.roles import DEPARTMENT_ROLES
from sotong.core.roles import Capability as Permission
from sotong.notifications import actions as notifications
from sotong.platforms.base import (
    connector_class,
)
from sotong.publishing import adapt, images
from sotong.publishing.models import (
    DEFAULT_TOPICS,
    ApprovalRule,
    ApprovalStep,
    Campaign,
    Post,
    PostImage,
    PostRevision,
    PostStatus,
    Publication,
    PublicationState,
    Review,
    ReviewDecision,
    RevisionReason,
    Topic,
    Variant,
)

logger = logging.getLogger(__name__)


OPEN_STATES = (
    PublicationState.SCHEDULED,
    PublicationState.HELD,
    PublicationState.BY_HAND,
)


def _check_department(by: Performer, department: Department) -> None:
    """Department authors write for their own department only."""
    if (
        isinstance(by, Staff)
        and by.role in DEPARTMENT_ROLES
        and department.pk not in by.department_scope_ids()
    ):
        raise PermissionDenied("another department's post")


def content_of(post: Post) -> adapt.PostContent:
    return adapt.PostContent(
        title=post.title, body=post.body, link=post.link, hashtags=tuple(post.hashtags)
    )


def variant_fit(variant: Variant) -> adapt.Fit:
    kind = variant.channel.kind
    return adapt.measure(
        kind, variant.text, image_count=images_for(kind, variant.post.images.count())
    )


def _template(channel: Channel) -> str | None:
    template = (channel.options or {}).get("post_template")
    return str(template) if template else None


def _publishable_channels(organisation: Organisation, channels: Iterable[Channel]) -> list[Channel]:
    chosen = list(channels)
    for channel in chosen:
        if channel.organisation_id != organisation.pk:
            raise ValidationError(_("The channel belongs to another organisation."))
        if not adapt.can_publish_to(channel.kind):
            raise ValidationError(_("%(channel)s takes no posts.") % {"channel": channel.name})
    return chosen


@transaction.atomic
def compose(
    by: Performer,
    organisation: Organisation,
    *,
    department: Department,
    title: str,
    body: str,
    channels: Sequence[Channel],
    link: str = "",
    hashtags: Sequence[str] = (),
    topics: Sequence[str] = (),
    campaign: Campaign | None = None,
    publish_at: dt.datetime | None = None,
) -> Post:
    """Write a post once, with a variant for each channel adapted to its rules."""
    require(by, Permission.DRAFT_POSTS, organisation)
    _check_department(by, department)
    if department.organisation_id != organisation.pk:
        raise ValidationError({"department": _("The department belongs to another organisation.")})
    if not channels:
        raise ValidationError({"channels": _("Choose at least one channel.")})
    post = Post(
        organisation=organisation,
        department=department,
        author=by if isinstance(by, Staff) else None,
        title=title.strip(),
        body=body.strip(),
        link=link.strip(),
        hashtags=list(hashtags),
        topics=clean_topics(organisation, topics),
        campaign=campaign,
        publish_at=publish_at,
    )
    post.full_clean()
    post.save()
    for channel in _publishable_channels(organisation, channels):
        Variant.objects.create(
            organisation=organisation,
            post=post,
            channel=channel,
            text=adapt.adapt(channel.kind, content_of(post), _template(channel)),
        )
    audit.record(
        actor_of(by),
        "post.compose",
        post,
        organisation=organisation,
        department=department,
        after={"title": post.title, "channels": [c.pk for c in channels]},
    )
    record_revision(by, post, RevisionReason.COMPOSED)
    return post


def _back_to_review(by: Performer, post: Post, why: str) -> None:
    """An approved post that changes is approved again before it goes out. Midway through
    an approval chain, the steps already approved saw the old text: the chain restarts."""
    if post.status == PostStatus.IN_REVIEW and _round_reviews(post).exists():
        _review(by, post, ReviewDecision.SUBMITTED, why)
        # The chain starts over: its first step is asked again (not the editor).
        notifications.notify_review_requested(by, post)
        return
    if post.status != PostStatus.APPROVED:
        return
    post.status = PostStatus.IN_REVIEW
    post.save(update_fields=["status", "updated_at"])
    _review(by, post, ReviewDecision.SUBMITTED, why)
    notifications.notify_review_requested(by, post)  # as on submit; not the editor


@transaction.atomic
def edit_variant(by: Performer, variant: Variant, text: str) -> Variant:
    """The author's own wording for one channel."""
    post = Post.objects.select_for_update(of=("self",)).get(pk=variant.post_id)
    require(by, Permission.DRAFT_POSTS, post.organisation_id)
    _check_department(by, post.department)
    _require_editable(post)
    before = {"text": variant.text}
    variant.text = text.strip()
    variant.edited = True
    variant.save(update_fields=["text", "edited"])
    _back_to_review(by, post, _("A variant was edited after approval."))
    audit.record(
        actor_of(by),
        "variant.edit",
        variant,
        organisation=post.organisation,
        department=post.department,
        before=before,
        after={"text": variant.text},
    )
    if before["text"] != variant.text:
        record_revision(by, post, RevisionReason.VARIANT_EDITED)
    return variant


def _require_editable(post: Post) -> None:
    if post.status == PostStatus.REJECTED:
        raise ValidationError(_("A rejected post cannot be changed."))
    if post.status == PostStatus.WITHDRAWN:
        raise ValidationError(_("A withdrawn post cannot be changed."))
    if post.publications().filter(state=PublicationState.PUBLISHED).exists():
        raise ValidationError(_("The post has already gone out; edit it on the platform."))


def _review(
    by: Performer,
    post: Post,
    decision: str,
    comment: str = "",
    *,
    step: ApprovalStep | None = None,
    for_step: bool = False,
) -> Review:
    actor = actor_of(by)
    return Review.objects.create(
        organisation=post.organisation,
        post=post,
        by=by if isinstance(by, Staff) else None,
        by_label=by.display_name if isinstance(by, Staff) else actor.label,
        decision=decision,
        comment=comment,
        step=step,
        for_step=for_step,
    )


def unfit_variants(post: Post) -> list[tuple[Variant, adapt.Fit]]:
    result = []
    for variant in post.variants.select_related("channel"):
        fit = variant_fit(variant)
        if not fit.fits:
            result.append((variant, fit))
    return result


@transaction.atomic
def submit(by: Performer, post: Post, *, publish_at: dt.datetime | None = None) -> Post:
    """Ask for approval, and put the post in the calendar for ``publish_at``. A variant
    that does not fit its channel cannot be scheduled."""
    require(by, Permission.DRAFT_POSTS, post.organisation_id)
    _check_department(by, post.department)
    if post.status not in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED):
        raise ValidationError(_("Only a draft can be submitted."))
    unfit = unfit_variants(post)
    if unfit:
        raise ValidationError(
            _("These variants do not fit their channel: %(channels)s")
            % {"channels": ", ".join(variant.channel.name for variant, _fit in unfit)}
        )
    post.publish_at = publish_at or post.publish_at or timezone.now()
    post.status = PostStatus.IN_REVIEW
    post.save(update_fields=["publish_at", "status", "updated_at"])
    _schedule(post)
    _review(by, post, ReviewDecision.SUBMITTED)
    audit.record(
        actor_of(by),
        "post.submit",
        post,
        organisation=post.organisation,
        department=post.department,
        after={"publish_at": post.publish_at},
    )
    notifications.notify_review_requested(by, post)
    return post


def _schedule(post: Post) -> None:
    """One publication per variant, due at the post's time; by hand where there is no API."""
    due_at = post.publish_at or timezone.now()
    for variant in post.variants.select_related("channel"):
        by_hand = variant.channel.connector_class.publishes_by_hand()
        state = PublicationState.BY_HAND if by_hand else PublicationState.SCHEDULED
        publication = Publication.objects.filter(variant=variant).first()
        if publication is None:
            Publication.objects.create(
                organisation=post.organisation,
                variant=variant,
                channel=variant.channel,
                due_at=due_at,
                state=state,
            )
        elif publication.state in (*OPEN_STATES, PublicationState.CANCELLED):
            publication.due_at = due_at
            publication.state = state
            publication.hold_reason = ""
            publication.next_attempt_at = None
            publication.save(
                update_fields=["due_at", "state", "hold_reason", "next_attempt_at", "updated_at"]
            )


@transaction.atomic
def approve(by: Performer, post: Post, *, comment: str = "", all_steps: bool = False) -> Post:
    """Approve the post: its variants go out at their time. With an approval chain this
    approves the current step only, and the post is approved after the last one.
    ``all_steps`` (a pre-approved series) approves every remaining step at once."""
    if has_approval_chain(post.organisation_id):
        post = _approve_in_chain(by, post, comment.strip(), all_steps=all_steps)
    else:
        post = _decide(by, post, ReviewDecision.APPROVED, PostStatus.APPROVED, comment)
    if post.status == PostStatus.APPROVED:
        # Re-approved after an edit made once it was out: the edit goes to the platforms.
        from sotong.publishing import propagation

        propagation.plan_edits(by, post)
    return post


@transaction.atomic
def request_changes(by: Performer, post: Post, *, comment: str) -> Post:
    if not comment.strip():
        raise ValidationError({"comment": _("Say what should change.")})
    return _decide(
        by, post, ReviewDecision.CHANGES_REQUESTED, PostStatus.CHANGES_REQUESTED, comment
    )


@transaction.atomic
def reject(by: Performer, post: Post, *, comment: str) -> Post:
    if not comment.strip():
        raise ValidationError({"comment": _("Say why the post is rejected.")})
    return _decide(by, post, ReviewDecision.REJECTED, PostStatus.REJECTED, comment)


def _decide(by: Performer, post: Post, decision: str, status: str, comment: str) -> Post:
    chained = has_approval_chain(post.organisation_id)
    # In a chain, being named in the current step is what lets one decide.
    require(by, Permission.VIEW if chained else Permission.APPROVE_POSTS, post.organisation_id)
    post = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
    if post.status != PostStatus.IN_REVIEW:
        raise ValidationError(_("Only a post awaiting approval can be decided on."))
    step = _step_to_decide(by, post) if chained else None
    before = {"status": post.status}
    post.status = status
    post.save(update_fields=["status", "updated_at"])
    if status != PostStatus.APPROVED:
        post.publications().filter(state__in=OPEN_STATES).update(
            state=PublicationState.CANCELLED, updated_at=timezone.now()
        )
    _review(by, post, decision, comment.strip(), step=step)
    after: dict[str, object] = {"status": status, "comment": comment.strip()}
    if step is not None:
        after["step"] = step.name
    audit.record(
        actor_of(by),
        f"post.{decision}",
        post,
        organisation=post.organisation,
        department=post.department,
        before=before,
        after=after,
    )
    notifications.notify_decided(by, post, decision, comment)
    return post


@transaction.atomic
def reschedule(by: Performer, publication: Publication, due_at: dt.datetime) -> Publication:
    """Move a publication that has not gone out; a held one is released if it may go."""
    require(by, Permission.PUBLISH, publication.organisation_id)
    publication = Publication.objects.select_for_update(of=("self",)).get(pk=publication.pk)
    if publication.state not in OPEN_STATES:
        raise ValidationError(_("Only a publication that has not gone out can be moved."))
    before = {"due_at": publication.due_at, "state": publication.state}
    publication.due_at = due_at
    if publication.state == PublicationState.HELD:
        publication.state = PublicationState.SCHEDULED
        publication.hold_reason = ""
    publication.next_attempt_at = None
    publication.save(update_fields=["due_at", "state", "hold_reason", "next_attempt_at"])
    audit_publication(by, publication, "publication.reschedule", before)
    return publication


def audit_publication(
    by: Performer,
    publication: Publication,
    action: str,
    before: Mapping[str, object] | None = None,
) -> None:
    post = publication.variant.post
    audit.record(
        actor_of(by),
        action,
        publication,
        organisation=post.organisation,
        department=post.department,
        before=before,
        after={
            "state": publication.state,
            "due_at": publication.due_at,
            "url": publication.url,
            "reason": publication.reason,
        },
    )


@transaction.atomic
def retry(by: Performer, publication: Publication) -> Publication:
    """A person has checked: the unconfirmed or failed publication goes out again now."""
    require(by, Permission.PUBLISH, publication.organisation_id)
    publication = Publication.objects.select_for_update(of=("self",)).get(pk=publication.pk)
    if publication.state not in (PublicationState.UNCONFIRMED, PublicationState.FAILED):
        raise ValidationError(_("Only an unconfirmed or failed publication can be retried."))
    before = {"state": publication.state}
    publication.state = PublicationState.SCHEDULED
    publication.next_attempt_at = None
    publication.due_at = min(publication.due_at, timezone.now())
    publication.save(update_fields=["state", "next_attempt_at", "due_at"])
    audit_publication(by, publication, "publication.retry", before)
    return publication


@transaction.atomic
def confirm(by: Performer, publication: Publication, *, url: str) -> Publication:
    """A person confirms the post is on the platform at ``url``: an unconfirmed one, or a
    by-hand one they have just posted."""
    require(by, Permission.PUBLISH, publication.organisation_id)
    publication = Publication.objects.select_for_update(of=("self",)).get(pk=publication.pk)
    if publication.state not in (PublicationState.UNCONFIRMED, PublicationState.BY_HAND):
        raise ValidationError(_("Only an unconfirmed or by-hand publication can be confirmed."))
    if publication.variant.post.status != PostStatus.APPROVED:
        raise ValidationError(_("The post is not approved."))
    if not url.startswith(("https://", "http://")):
        raise ValidationError({"url": _("Enter the post's address on the platform.")})
    before = {"state": publication.state}
    publication.by_hand = publication.state == PublicationState.BY_HAND
    publication.state = PublicationState.PUBLISHED
    publication.url = url
    publication.published_at = timezone.now()
    publication.reason = ""
    publication.save()
    audit_publication(by, publication, "publication.confirm", before)
    return publication


# -- added for the publishing pages --------------------------------------------------------


def adapted_text(channel: Channel, content: adapt.PostContent) -> str:
    """The variant ``compose`` would write for ``channel`` (its own template included):
    what the compose page's live preview shows before anything is saved."""
    return adapt.adapt(channel.kind, content, _template(channel))


@transaction.atomic
def campaign_named(by: Performer, organisation: Organisation, name: str) -> Campaign:
    """The organisation's campaign called ``name``; a new one if there is none yet, so an
    author can start a campaign from the compose page by typing its name."""
    require(by, Permission.DRAFT_POSTS, organisation)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"campaign": _("Enter the campaign's name.")})
    if len(name) > Campaign._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValidationError({"campaign": _("The campaign's name is too long.")})
    campaign, created = Campaign.objects.get_or_create(organisation=organisation, name=name)
    if created:
        audit.record(
            actor_of(by),
            "campaign.create",
            campaign,
            organisation=organisation,
            after={"name": campaign.name},
        )
    return campaign


# -- images --------------------------------------------------------------------------------

# Instagram's carousel and Telegram's album take ten; X and Mastodon fewer (their variants
# say so when a post has more).
MAX_IMAGES_PER_POST = 10


def images_for(kind: str, count: int) -> int:
    """How many of a post's ``count`` images go to a ``kind`` channel: none where the
    platform's API takes no images (Band posts the text alone), else all of them, and
    adapt.measure says when that is too many."""
    limits = connector_class(kind).limits
    if limits.max_images == 0 and not limits.image_required:
        return 0
    return count


def image_url(image: PostImage) -> str:
    """The image's public address, which the platforms fetch it from."""
    from django.conf import settings
    from django.urls import reverse

    base = str(settings.SOTONG_PUBLIC_URL).rstrip("/")
    return base + reverse("images:public", kwargs={"token": image.token})


def add_image(
    by: Performer, post: Post, uploaded_file: UploadedFile, alt_text: str = ""
) -> PostImage:
    """Check, clean (metadata stripped, orientation applied) and store an image for the
    post. Adding one to an approved post sends it back for approval."""
    require(by, Permission.DRAFT_POSTS, post.organisation_id)
    _check_department(by, post.department)
    alt_text = " ".join(alt_text.split())
    if len(alt_text) > PostImage._meta.get_field("alt_text").max_length:  # type: ignore[operator]
        raise ValidationError({"alt_text": _("The description is too long.")})
    try:
        cleaned = images.clean(images.read_upload(uploaded_file, uploaded_file.size))
    except ValidationError as error:
        raise ValidationError({"image": error.messages}) from None
    storage = PostImage._meta.get_field("file").storage
    path = f"post-images/{post.organisation_id}/{uuid.uuid4().hex}.{cleaned.extension}"
    # Written before the row commits and deleted if this block fails (images.written): a
    # committed row always has its file.
    with images.written(storage, path, cleaned.content) as name, transaction.atomic():
        locked = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
        _require_editable(locked)
        if locked.images.count() >= MAX_IMAGES_PER_POST:
            raise ValidationError(
                {
                    "image": _("A post takes at most %(count)d images.")
                    % {"count": MAX_IMAGES_PER_POST}
                }
            )
        last = locked.images.order_by("-position").values_list("position", flat=True).first()
        image = PostImage.objects.create(
            organisation=locked.organisation,
            post=locked,
            position=0 if last is None else last + 1,
            file=name,
            content_type=cleaned.content_type,
            width=cleaned.width,
            height=cleaned.height,
            size=cleaned.size,
            alt_text=alt_text,
            original_name=(uploaded_file.name or "")[:255],
            uploaded_by=by if isinstance(by, Staff) else None,
        )
        _back_to_review(by, locked, _("An image was added after approval."))
        audit.record(
            actor_of(by),
            "post.image_add",
            locked,
            organisation=locked.organisation,
            department=locked.department,
            after={
                "image": image.pk,
                "name": image.original_name,
                "content_type": image.content_type,
                "width": image.width,
                "height": image.height,
                "bytes": image.size,
                "alt_text": image.alt_text,
            },
        )
    post.refresh_from_db(fields=["status"])
    return image


@transaction.atomic
def remove_image(by: Performer, post: Post, image: PostImage) -> None:
    """Take an image off the post. Removing one from an approved post sends it back for
    approval; the file is deleted once that is committed."""
    require(by, Permission.DRAFT_POSTS, post.organisation_id)
    _check_department(by, post.department)
    locked = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
    if image.post_id != locked.pk:
        raise ValidationError(_("The image belongs to another post."))
    _require_editable(locked)
    before = {"image": image.pk, "name": image.original_name, "alt_text": image.alt_text}
    name = image.file.name or ""
    storage = image.file.storage
    image.delete()
    _back_to_review(by, locked, _("An image was removed after approval."))
    audit.record(
        actor_of(by),
        "post.image_remove",
        locked,
        organisation=locked.organisation,
        department=locked.department,
        before=before,
    )
    # Only once the row's deletion is committed: rolled back, the row keeps its file.
    images.delete_after_commit(storage, name)
    post.refresh_from_db(fields=["status"])


# -- approval chain -------------------------------------------------------------------------
#
# A round of approval starts at the post's latest "submitted" review (a submit, or a change
# after approval). Each step is complete when any (rule any) or all (rule all) of its
# approvers who can see the post approved in that round; the post is approved after the
# last step. Administrators (and the system) may decide for any step: their approval
# completes the current step whatever its rule. A pre-approved series' approver approves
# every step at once (``approve(..., all_steps=True)``): pre-approval is given once for
# every occurrence, so it stands for the whole chain.


@dataclass
class StepState:
    step: ApprovalStep
    # Approvers who can decide on this post: department staff only for their own
    # department's posts (so "any of the department heads" means the post's own head).
    approvers: list[Staff]
    approvals: list[Review]
    complete: bool = False
    current: bool = False

    def approved_by(self, staff: Staff) -> bool:
        return any(review.by_id == staff.pk for review in self.approvals)

    def includes(self, staff: Staff) -> bool:
        return any(approver.pk == staff.pk for approver in self.approvers)


def has_approval_chain(organisation: Organisation | int) -> bool:
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    return ApprovalStep.objects.filter(organisation_id=organisation_id).exists()


def _round_reviews(post: Post) -> QuerySet[Review]:
    """Step approvals given since the post was last submitted."""
    start = (
        Review.objects.filter(post=post, decision=ReviewDecision.SUBMITTED)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return Review.objects.filter(
        post=post,
        decision=ReviewDecision.APPROVED,
        step__isnull=False,
        id__gt=start or 0,
    )


def _can_see(staff: Staff, post: Post) -> bool:
    if not staff.user.is_active or staff.organisation_id != post.organisation_id:
        return False
    return staff.role not in DEPARTMENT_ROLES or post.department_id in staff.department_scope_ids()


def approval_chain(post: Post) -> list[StepState]:
    """The organisation's steps with this post's progress through them; empty without a
    chain. The current step is the first that is not complete (none once approved)."""
    steps = ApprovalStep.objects.filter(organisation_id=post.organisation_id).prefetch_related(
        "approvers__user"
    )
    approvals = list(_round_reviews(post).order_by("at", "id"))
    states: list[StepState] = []
    current_found = post.status != PostStatus.IN_REVIEW
    for step in steps:
        state = StepState(
            step,
            [staff for staff in step.approvers.all() if _can_see(staff, post)],
            [review for review in approvals if review.step_id == step.pk],
        )
        approved = {review.by_id for review in state.approvals}
        if any(review.for_step for review in state.approvals):
            state.complete = True
        elif step.rule == ApprovalRule.ALL:
            state.complete = bool(state.approvers) and all(
                approver.pk in approved for approver in state.approvers
            )
        else:
            state.complete = bool(state.approvals)
        if not state.complete and not current_found:
            state.current = current_found = True
        states.append(state)
    return states


def acts_for_any_step(by: Performer) -> bool:
    """Administrators (and the system) may decide for whichever step is current."""
    return not isinstance(by, Staff) or by.can(Permission.MANAGE_ORGANISATION)


def may_decide(staff: Staff, post: Post, chain: Sequence[StepState]) -> bool:
    """Whether ``staff`` may approve or send back ``post`` now (for the pages)."""
    if post.status != PostStatus.IN_REVIEW:
        return False
    if not chain:
        return staff.can(Permission.APPROVE_POSTS)
    current = next((state for state in chain if state.current), None)
    if acts_for_any_step(staff):
        return True
    return current is not None and current.includes(staff) and not current.approved_by(staff)


def _step_to_decide(by: Performer, post: Post) -> ApprovalStep | None:
    """The current step, if ``by`` may decide in it; PermissionDenied otherwise."""
    current = next((state for state in approval_chain(post) if state.current), None)
    if acts_for_any_step(by):
        return current.step if current else None
    if current is None or not (isinstance(by, Staff) and current.includes(by)):
        raise PermissionDenied("not an approver of the current step")
    return current.step


def _approve_in_chain(by: Performer, post: Post, comment: str, *, all_steps: bool) -> Post:
    require(by, Permission.APPROVE_POSTS if all_steps else Permission.VIEW, post.organisation_id)
    post = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
    if post.status != PostStatus.IN_REVIEW:
        raise ValidationError(_("Only a post awaiting approval can be decided on."))
    chain = approval_chain(post)
    if all_steps:
        todo, for_step = [state for state in chain if not state.complete], True
    else:
        current = next((state for state in chain if state.current), None)
        if current is None:
            # Every step is done (one was removed midway): an ordinary approval finishes it.
            require(by, Permission.APPROVE_POSTS, post.organisation_id)
            todo, for_step = [], False
        elif isinstance(by, Staff) and current.includes(by):
            if current.approved_by(by):
                raise ValidationError(_("You have already approved this step."))
            todo, for_step = [current], False
        elif acts_for_any_step(by):
            todo, for_step = [current], True
        else:
            raise PermissionDenied("not an approver of the current step")
    for state in todo:
        _review(by, post, ReviewDecision.APPROVED, comment, step=state.step, for_step=for_step)
        audit.record(
            actor_of(by),
            "post.step_approved",
            post,
            organisation=post.organisation,
            department=post.department,
            after={
                "step": state.step.name,
                "step_id": state.step.pk,
                "for_step": for_step,
                "comment": comment,
            },
        )
    notifications.notify_review_requested(by, post)  # the next step's approvers, if any
    if any(not state.complete for state in approval_chain(post)):
        return post
    post.status = PostStatus.APPROVED
    post.save(update_fields=["status", "updated_at"])
    audit.record(
        actor_of(by),
        f"post.{ReviewDecision.APPROVED}",
        post,
        organisation=post.organisation,
        department=post.department,
        before={"status": PostStatus.IN_REVIEW},
        after={"status": PostStatus.APPROVED, "comment": comment},
    )
    return post


def _step_values(
    organisation: Organisation, name: str, rule: str, approvers: Iterable[Staff]
) -> tuple[str, list[Staff]]:
    name = " ".join(name.split())
    chosen = list(approvers)
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the step a name.")
    elif len(name) > 100:
        errors["name"] = _("The name is too long.")
    if rule not in ApprovalRule.values:
        errors["rule"] = _("Choose whether any or all approvers must approve.")
    if not chosen:
        errors["approvers"] = _("Choose at least one approver.")
    elif any(staff.organisation_id != organisation.pk for staff in chosen):
        errors["approvers"] = _("An approver belongs to another organisation.")
    if errors:
        raise ValidationError(errors)
    return name, chosen


def _step_audit(step: ApprovalStep) -> dict[str, object]:
    return {
        "name": step.name,
        "order": step.order,
        "rule": step.rule,
        "approvers": sorted(step.approvers.values_list("pk", flat=True)),
    }


@transaction.atomic
def add_approval_step(
    by: Performer,
    organisation: Organisation,
    *,
    name: str,
    rule: str,
    approvers: Iterable[Staff],
) -> ApprovalStep:
    """Append a step to the organisation's approval chain. Posts already awaiting approval
    go through it too once they reach it."""
    require(by, Permission.MANAGE_ORGANISATION, organisation)
    name, chosen = _step_values(organisation, name, rule, approvers)
    last = (
        ApprovalStep.objects.filter(organisation=organisation)
        .order_by("-order")
        .values_list("order", flat=True)
        .first()
    )
    step = ApprovalStep.objects.create(
        organisation=organisation, name=name, rule=rule, order=0 if last is None else last + 1
    )
    step.approvers.set(chosen)
    audit.record(
        actor_of(by), "approval_step.add", step, organisation=organisation, after=_step_audit(step)
    )
    return step


@transaction.atomic
def change_approval_step(
    by: Performer,
    step: ApprovalStep,
    *,
    name: str,
    rule: str,
    approvers: Iterable[Staff],
) -> ApprovalStep:
    require(by, Permission.MANAGE_ORGANISATION, step.organisation_id)
    step = ApprovalStep.objects.select_for_update().get(pk=step.pk)
    name, chosen = _step_values(step.organisation, name, rule, approvers)
    before = _step_audit(step)
    step.name, step.rule = name, rule
    step.save(update_fields=["name", "rule"])
    step.approvers.set(chosen)
    audit.record(
        actor_of(by),
        "approval_step.change",
        step,
        organisation=step.organisation,
        before=before,
        after=_step_audit(step),
    )
    return step


@transaction.atomic
def move_approval_step(by: Performer, step: ApprovalStep, *, up: bool) -> ApprovalStep:
    """Swap a step with the one before (``up``) or after it. Posts awaiting approval follow
    the new order from their next decision; decisions already made stand."""
    require(by, Permission.MANAGE_ORGANISATION, step.organisation_id)
    ordered = list(
        ApprovalStep.objects.select_for_update()
        .filter(organisation_id=step.organisation_id)
        .order_by("order", "id")
    )
    index = next(i for i, each in enumerate(ordered) if each.pk == step.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(ordered):
        return ordered[index]
    ordered[index], ordered[other] = ordered[other], ordered[index]
    # Renumbered from 0: orders stay dense whatever earlier rows held.
    before = {"order": index + 1}
    changed = []
    for position, each in enumerate(ordered):
        if each.order != position:
            each.order = position
            changed.append(each)
    ApprovalStep.objects.bulk_update(changed, ["order"])
    moved = ordered[other]
    audit.record(
        actor_of(by),
        "approval_step.move",
        moved,
        organisation=moved.organisation,
        before=before,
        after={"order": other + 1},
    )
    return moved


@transaction.atomic
def remove_approval_step(by: Performer, step: ApprovalStep) -> None:
    """Take a step out of the chain; its recorded decisions stay on the posts' timelines.
    Without steps, approval is one decision again."""
    require(by, Permission.MANAGE_ORGANISATION, step.organisation_id)
    before = _step_audit(step)
    audit.record(
        actor_of(by), "approval_step.remove", step, organisation=step.organisation, before=before
    )
    step.delete()


# -- history, edits after publishing and withdrawal ---------------------------------------------


def snapshot_of(post: Post) -> dict[str, object]:
    """What the post says now, as its history keeps it: names rather than ids, so the record
    reads the same after a campaign or channel is renamed or removed."""
    return {
        "title": post.title,
        "body": post.body,
        "link": post.link,
        "hashtags": list(post.hashtags),
        "topics": list(post.topics),
        "campaign": post.campaign.name if post.campaign else "",
        "department": post.department.name,
        "variants": [
            {"channel": variant.channel.name, "kind": variant.channel.kind, "text": variant.text}
            for variant in post.variants.select_related("channel").order_by("channel__name", "id")
        ],
    }


def record_revision(by: Performer, post: Post, why: str, note: str = "") -> PostRevision:
    """Append what the post says now to its history (the caller holds the post's lock or
    has just created it)."""
    last = (
        PostRevision.objects.filter(post=post)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return PostRevision.objects.create(
        organisation_id=post.organisation_id,
        post=post,
        number=(last or 0) + 1,
        snapshot=snapshot_of(post),
        by=by if isinstance(by, Staff) else None,
        by_label=by.display_name if isinstance(by, Staff) else actor_of(by).label,
        why=why,
        note=note,
    )


def is_out(post: Post) -> bool:
    """Whether any of the post's variants is on its platform."""
    return post.publications().filter(state=PublicationState.PUBLISHED).exists()


@transaction.atomic
def edit_published(by: Performer, variant: Variant, text: str) -> Variant:
    """Change the text for one channel of a post that is already out. The post goes back
    for approval; what is out stays out meanwhile, and the approval carries the new text
    to the platform (or makes it a by-hand task where the platform cannot edit)."""
    post = Post.objects.select_for_update(of=("self",)).get(pk=variant.post_id)
    require(by, Permission.DRAFT_POSTS, post.organisation_id)
    _check_department(by, post.department)
    if post.status in (PostStatus.REJECTED, PostStatus.WITHDRAWN):
        raise ValidationError(_("A rejected or withdrawn post cannot be changed."))
    if not is_out(post):
        raise ValidationError(_("The post has not gone out yet; edit it as usual."))
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("The text is empty")})
    variant = Variant.objects.select_for_update(of=("self",)).get(pk=variant.pk)
    before = {"text": variant.text}
    if text == variant.text:
        return variant
    kind = variant.channel.kind
    fit = adapt.measure(kind, text, image_count=images_for(kind, post.images.count()))
    if not fit.fits:
        # What is out must stay valid on its platform: an edit that does not fit is refused.
        raise ValidationError(
            {"text": _("The text does not fit %(channel)s.") % {"channel": variant.channel.name}}
        )
    # What went out is the variant's text until the first edit after publishing: kept, so
    # the approval knows which publications now differ from the platform.
    Publication.objects.filter(
        variant=variant, state=PublicationState.PUBLISHED, platform_text=""
    ).update(platform_text=variant.text)
    variant.text = text
    variant.edited = True
    variant.save(update_fields=["text", "edited"])
    _back_to_review(by, post, _("Edited after publishing: approve the new text to update it."))
    audit.record(
        actor_of(by),
        "variant.edit_published",
        variant,
        organisation=post.organisation,
        department=post.department,
        before=before,
        after={"text": variant.text},
    )
    record_revision(by, post, RevisionReason.EDITED_AFTER_PUBLISHING)
    return variant


WITHDRAWABLE = (
    PostStatus.APPROVED,
    PostStatus.IN_REVIEW,
    PostStatus.CHANGES_REQUESTED,
)


@transaction.atomic
def withdraw(by: Performer, post: Post, *, reason: str) -> Post:
    """Take the post back: what has not gone out is cancelled; what is out is deleted from
    its platform (by the worker where the platform allows it, by a person where it does
    not). Nothing is erased in Sotong: the post, its publications and history stay, marked
    withdrawn with when and why."""
    from sotong.publishing import propagation

    require(by, Permission.PUBLISH, post.organisation_id)
    _check_department(by, post.department)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": _("Say why the post is withdrawn.")})
    if len(reason) > 500:
        raise ValidationError({"reason": _("The reason is too long.")})
    post = Post.objects.select_for_update(of=("self",)).get(pk=post.pk)
    if post.status not in WITHDRAWABLE:
        raise ValidationError(_("Only a post that is scheduled or out can be withdrawn."))
    before = {"status": post.status}
    now = timezone.now()
    post.status = PostStatus.WITHDRAWN
    post.withdrawn_at = now
    post.withdraw_reason = reason
    post.save(update_fields=["status", "withdrawn_at", "withdraw_reason", "updated_at"])
    cancelled = (
        post.publications()
        .filter(state__in=(*OPEN_STATES, PublicationState.FAILED))
        .update(
            state=PublicationState.CANCELLED,
            reason=(_("Withdrawn: %(reason)s") % {"reason": reason})[:500],
            withdrawn_at=now,
            updated_at=now,
        )
    )
    deletes = propagation.plan_deletes(by, post)
    audit.record(
        actor_of(by),
        "post.withdraw",
        post,
        organisation=post.organisation,
        department=post.department,
        before=before,
        after={
            "status": post.status,
            "reason": reason,
            "cancelled": cancelled,
            "deletes": [change.publication_id for change in deletes],
        },
    )
    record_revision(by, post, RevisionReason.WITHDRAWN, reason)
    return post


# -- topic tags ---------------------------------------------------------------------------------

# Who curates the organisation's topics: the PR office (editors) and administrators, the
# people who approve what goes out under them.
MANAGE_TOPICS = Permission.APPROVE_POSTS
TOPIC_NAME_MAX = 30


def topic_name(name: str) -> str:
    """A topic's name as stored: NFC (a Mac types Hangul decomposed), single spaces."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def topics_of(organisation: Organisation | int) -> QuerySet[Topic]:
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    return Topic.objects.for_organisation(organisation_id).order_by("position", "id")


def offered_topics(organisation: Organisation | int, current: Iterable[str] = ()) -> list[str]:
    """The names a post may be tagged with, in the organisation's order: the active topics,
    and any retired ones the post already has (an edit does not take a tag away)."""
    keep = {topic_name(name) for name in current}
    return [
        topic.name
        for topic in topics_of(organisation).only("name", "active")
        if topic.active or topic.name in keep
    ]


def clean_topics(
    organisation: Organisation | int, topics: Iterable[str], current: Iterable[str] = ()
) -> list[str]:
    """``topics`` as the organisation spells them (case and spacing do not matter), each
    once; a ValidationError names any that are unknown or retired."""
    offered = {name.casefold(): name for name in offered_topics(organisation, current)}
    chosen: list[str] = []
    unknown: list[str] = []
    for raw in topics:
        name = topic_name(raw)
        if not name:
            continue
        found = offered.get(name.casefold())
        if found is None:
            unknown.append(name)
        elif found not in chosen:
            chosen.append(found)
    if unknown:
        raise ValidationError(
            {
                "topics": _("These topics are not offered: %(topics)s. Choose from %(choices)s.")
                % {"topics": ", ".join(unknown), "choices": ", ".join(offered.values())}
            }
        )
    return chosen


def _checked_topic_name(organisation_id: int, name: str, *, exclude: int | None = None) -> str:
    name = topic_name(name)
    if not name:
        raise ValidationError({"name": _("Enter the topic's name.")})
    if len(name) > TOPIC_NAME_MAX:
        raise ValidationError(
            {
                "name": _("The topic's name is too long (at most %(max)d characters).")
                % {"max": TOPIC_NAME_MAX}
            }
        )
    same = Topic.objects.filter(organisation_id=organisation_id, name__iexact=name)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    # __iexact folds Latin case only; Hangul has none, so this matches the constraint.
    if same.exists():
        raise ValidationError(
            {"name": _("There is already a topic called %(name)s.") % {"name": name}}
        )
    return name


def _audit_topic(
    by: Performer,
    topic: Topic,
    action: str,
    before: Mapping[str, object] | None = None,
    **extra: object,
) -> None:
    audit.record(
        actor_of(by),
        action,
        topic,
        organisation=topic.organisation,
        before=before,
        after={"name": topic.name, "active": topic.active, "position": topic.position, **extra},
    )


@transaction.atomic
def add_default_topics(by: Performer, organisation: Organisation) -> list[Topic]:
    """Give a new organisation the default topics (관광, 축제, …). Only when it has none:
    an organisation that has shaped its list keeps it."""
    require(by, MANAGE_TOPICS, organisation)
    if topics_of(organisation).exists():
        return []
    created = [
        Topic.objects.create(organisation=organisation, name=name, position=position)
        for position, name in enumerate(DEFAULT_TOPICS)
    ]
    audit.record(
        actor_of(by),
        "topic.add_defaults",
        organisation,
        organisation=organisation,
        after={"topics": [topic.name for topic in created]},
    )
    return created


@transaction.atomic
def add_topic(by: Performer, organisation: Organisation, name: str) -> Topic:
    """Offer a new topic, at the end of the list."""
    require(by, MANAGE_TOPICS, organisation)
    # Serialises adding and reordering within the organisation.
    list(Topic.objects.select_for_update().filter(organisation=organisation).values("pk"))
    name = _checked_topic_name(organisation.pk, name)
    last = topics_of(organisation).values_list("position", flat=True).last()
    try:
        with transaction.atomic():
            topic = Topic.objects.create(
                organisation=organisation, name=name, position=0 if last is None else last + 1
            )
    except IntegrityError:
        # Someone added the same name a moment ago.
        raise ValidationError(
            {"name": _("There is already a topic called %(name)s.") % {"name": name}}
        ) from None
    _audit_topic(by, topic, "topic.add")
    return topic


@transaction.atomic
def rename_topic(by: Performer, topic: Topic, name: str) -> Topic:
    """Rename a topic and the tag on every post that has it, so filters keep finding them.
    Each post's history keeps the name it had when it was written."""
    require(by, MANAGE_TOPICS, topic.organisation_id)
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    name = _checked_topic_name(topic.organisation_id, name, exclude=topic.pk)
    old = topic.name
    if name == old:
        return topic
    topic.name = name
    topic.save(update_fields=["name"])
    retagged: list[Post] = []
    posts = Post.objects.filter(organisation_id=topic.organisation_id).only("id", "topics")
    for post in posts.iterator():
        if old in post.topics:
            renamed: list[str] = []
            for tag in post.topics:
                tag = name if tag == old else tag
                if tag not in renamed:
                    renamed.append(tag)
            post.topics = renamed
            retagged.append(post)
    # bulk_update leaves updated_at alone: re-tagging is not an edit of the post.
    Post.objects.bulk_update(retagged, ["topics"], batch_size=500)
    _audit_topic(
        by,
        topic,
        "topic.rename",
        before={"name": old},
        posts=sorted(post.pk for post in retagged),
    )
    return topic


def _set_active(by: Performer, topic: Topic, active: bool) -> Topic:
    require(by, MANAGE_TOPICS, topic.organisation_id)
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    if topic.active == active:
        return topic
    topic.active = active
    topic.save(update_fields=["active"])
    _audit_topic(
        by, topic, "topic.restore" if active else "topic.retire", before={"active": not active}
    )
    return topic


@transaction.atomic
def retire_topic(by: Performer, topic: Topic) -> Topic:
    """Stop offering a topic. Posts that have it keep it, and can still be found by it."""
    return _set_active(by, topic, False)


@transaction.atomic
def restore_topic(by: Performer, topic: Topic) -> Topic:
    """Offer a retired topic again."""
    return _set_active(by, topic, True)


@transaction.atomic
def move_topic(by: Performer, topic: Topic, *, up: bool) -> Topic:
    """Swap a topic with the one before (``up``) or after it in the organisation's list."""
    require(by, MANAGE_TOPICS, topic.organisation_id)
    ordered = list(
        Topic.objects.select_for_update()
        .filter(organisation_id=topic.organisation_id)
        .order_by("position", "id")
    )
    index = next(i for i, each in enumerate(ordered) if each.pk == topic.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(ordered):
        return ordered[index]
    before = {"position": index}
    ordered[index], ordered[other] = ordered[other], ordered[index]
    # Renumbered from 0: positions stay dense whatever earlier rows held.
    changed = []
    for position, each in enumerate(ordered):
        if each.position != position:
            each.position = position
            changed.append(each)
    Topic.objects.bulk_update(changed, ["position"])
    moved = ordered[other]
    _audit_topic(by, moved, "topic.move", before=before)
    return moved


def with_topic(posts: QuerySet[Post], name: str) -> QuerySet[Post]:
    """The posts of ``posts`` tagged ``name``. Matched in Python: SQLite cannot look inside a
    JSON list, and a city's posts are few enough."""
    name = topic_name(name)
    ids = [pk for pk, topics in posts.values_list("pk", "topics") if name in (topics or [])]
    return posts.filter(pk__in=ids)
