"""Publishing pages: compose with a live per-channel preview, the post with its variants,
approval and publications, the approval queue and the list of posts. Thin: they parse
input, call an action and render; the actions check permissions (PermissionDenied is the
403 page) and rules (ValidationError is shown on the form, in Korean)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sotong.channels.models import Channel
from sotong.core.models import Staff
from sotong.core.roles import Capability as Permission
from sotong.platforms.base import Capability
from sotong.publishing import actions, adapt, forms, propagation, selectors
from sotong.publishing.models import (
    ChangeState,
    Post,
    PostRevision,
    PostStatus,
    Publication,
    PublicationChange,
    PublicationState,
    Variant,
)
from sotong.web.decorators import staff_required
from sotong.web.forms import add_action_errors as _add_errors

POST_ACTIONS = ("submit", "approve", "request_changes", "reject", "withdraw")
CHANGE_ACTIONS = ("retry", "confirm")
PUBLICATION_ACTIONS = ("retry", "confirm", "reschedule")
EDITABLE = (
    PostStatus.DRAFT,
    PostStatus.CHANGES_REQUESTED,
    PostStatus.IN_REVIEW,
    PostStatus.APPROVED,
)


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


# -- how a text fits its channel, in words ---------------------------------------------------


def problem_label(problem: str) -> str:
    """adapt.measure's problem codes ('too_long:12') in words a person can act on."""
    code, _sep, number = problem.partition(":")
    if code == "too_long":
        return _("%(count)s characters too long") % {"count": number}
    if code == "empty":
        return _("The text is empty")
    if code == "image_required":
        return _("An image is required")
    if code == "too_many_images":
        return _("At most %(count)s images") % {"count": number}
    if code == "too_many_hashtags":
        return _("At most %(count)s hashtags") % {"count": number}
    return problem


@dataclass(frozen=True)
class FitView:
    """A variant's fit as the pages show it."""

    length: int
    limit: int | None
    remaining: int | None
    fits: bool
    problems: list[str]

    @classmethod
    def of(cls, fit: adapt.Fit) -> FitView:
        return cls(
            length=fit.weighted_length,
            limit=fit.limit,
            remaining=fit.remaining,
            fits=fit.fits,
            problems=[problem_label(problem) for problem in fit.problems],
        )


@dataclass(frozen=True)
class PreviewItem:
    channel: Channel
    text: str
    fit: FitView
    by_hand: bool


def _by_hand(channel: Channel) -> bool:
    capabilities = channel.capabilities
    return Capability.MANUAL_PUBLISH in capabilities and not (
        capabilities & {Capability.PUBLISH_TEXT, Capability.PUBLISH_IMAGE}
    )


# -- compose and preview ---------------------------------------------------------------------


@staff_required(Permission.DRAFT_POSTS)
def compose(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    form = forms.ComposeForm(request.POST or None, request.FILES or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # One unit: a campaign typed for a post that then fails is not left behind.
            with transaction.atomic():
                campaign = data["campaign"]
                if data["new_campaign"].strip():
                    campaign = actions.campaign_named(
                        staff, staff.organisation, data["new_campaign"]
                    )
                post = actions.compose(
                    staff,
                    staff.organisation,
                    department=data["department"],
                    title=data["title"],
                    body=data["body"],
                    link=data["link"],
                    hashtags=form.hashtag_list(),
                    topics=data["topics"],
                    campaign=campaign,
                    channels=list(data["channels"]),
                    publish_at=data["publish_at"],
                )
                if data["image"]:
                    actions.add_image(staff, post, data["image"], data["alt_text"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The post is saved as a draft."))
            return redirect("publishing:post", pk=post.pk)
    return render(
        request,
        "publishing/compose.html",
        {"form": form, "preview": _preview_items(form) if form.is_bound else []},
    )


def _preview_items(form: forms.ComposeForm) -> list[PreviewItem]:
    """Each chosen channel's variant of what is typed so far, even if the form is not yet
    complete: the preview follows the author as they write."""
    data = form.data
    content = adapt.PostContent(
        title=str(data.get("title", "")).strip(),
        body=str(data.get("body", "")).strip(),
        link=str(data.get("link", "")).strip(),
        hashtags=adapt.parse_hashtags(str(data.get("hashtags", ""))),
    )
    # The compose page's script counts the chosen image file; the file itself is only
    # sent when the form is saved.
    image_count = 1 if str(data.get("image_count", "0")) == "1" else 0
    chosen = {str(value) for value in data.getlist("channels")}  # type: ignore[attr-defined]
    channels = form.fields["channels"].queryset  # type: ignore[attr-defined]
    items = []
    for channel in channels:
        if str(channel.pk) not in chosen:
            continue
        text = actions.adapted_text(channel, content)
        items.append(
            PreviewItem(
                channel,
                text,
                FitView.of(
                    adapt.measure(
                        channel.kind,
                        text,
                        image_count=actions.images_for(channel.kind, image_count),
                    )
                ),
                _by_hand(channel),
            )
        )
    return items


@require_POST
@staff_required(Permission.DRAFT_POSTS)
def preview(request: HttpRequest) -> HttpResponse:
    """HTMX: the live preview of the compose form, or the live fit of one variant's text
    being edited (``variant`` and ``text``)."""
    staff = _staff(request)
    if "variant" in request.POST:
        variant = get_object_or_404(selectors.variants(staff), pk=request.POST["variant"])
        # The textarea's own name on the post page; plain ``text`` for other callers.
        text = request.POST.get(f"variant-{variant.pk}-text", request.POST.get("text", "")).strip()
        return render(
            request,
            "publishing/_fit.html",
            {
                "fit": FitView.of(
                    adapt.measure(
                        variant.channel.kind,
                        text,
                        image_count=actions.images_for(
                            variant.channel.kind, variant.post.images.count()
                        ),
                    )
                ),
                "live": True,
            },
        )
    form = forms.ComposeForm(request.POST, staff=staff)
    return render(request, "publishing/_preview.html", {"preview": _preview_items(form)})


# -- the post ----------------------------------------------------------------------------------


@dataclass
class VariantView:
    variant: Variant
    fit: FitView
    form: forms.VariantForm


@dataclass
class ChangeView:
    change: PublicationChange
    can_retry: bool
    can_confirm: bool


@dataclass
class PublicationView:
    publication: Publication
    by_hand: bool
    confirm_form: forms.ConfirmForm | None
    reschedule_form: forms.RescheduleForm | None
    can_retry: bool
    changes: list[ChangeView] = field(default_factory=list)


# -- the post's history -------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    op: str  # "same", "removed" or "added"
    text: str


@dataclass(frozen=True)
class FieldDiff:
    label: str
    lines: list[DiffLine]


@dataclass(frozen=True)
class RevisionView:
    revision: PostRevision
    diffs: list[FieldDiff]


def _as_text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value or "")


def _line_diff(before: str, after: str) -> list[DiffLine]:
    ops = {" ": "same", "-": "removed", "+": "added"}
    return [
        DiffLine(ops[line[0]], line[2:])
        for line in difflib.ndiff(before.splitlines(), after.splitlines())
        if line[0] in ops
    ]


def revision_diffs(before: dict[str, object], after: dict[str, object]) -> list[FieldDiff]:
    """What changed between two snapshots of a post, field by field, line by line."""
    labels = {
        "title": _("Title"),
        "body": _("Body"),
        "link": _("Link"),
        "hashtags": _("Hashtags"),
        "topics": _("Topics"),
        "campaign": _("Campaign"),
        "department": _("Department"),
    }
    diffs = []
    for key, label in labels.items():
        old, new = _as_text(before.get(key)), _as_text(after.get(key))
        if old != new:
            diffs.append(FieldDiff(label, _line_diff(old, new)))

    def texts(snapshot: dict[str, object]) -> dict[str, str]:
        variants = snapshot.get("variants")
        if not isinstance(variants, list):
            return {}
        return {str(v["channel"]): str(v["text"]) for v in variants}

    old_texts, new_texts = texts(before), texts(after)
    for channel in sorted(old_texts.keys() | new_texts.keys()):
        old, new = old_texts.get(channel, ""), new_texts.get(channel, "")
        if old != new:
            diffs.append(
                FieldDiff(_("Text for %(channel)s") % {"channel": channel}, _line_diff(old, new))
            )
    return diffs


def history(post: Post) -> list[RevisionView]:
    """The post's revisions, newest first, each with what changed since the one before."""
    views = []
    previous: dict[str, object] | None = None
    for revision in post.revisions.order_by("number"):
        diffs = [] if previous is None else revision_diffs(previous, revision.snapshot)
        views.append(RevisionView(revision, diffs))
        previous = revision.snapshot
    return list(reversed(views))


def _render_post(
    request: HttpRequest,
    post: Post,
    *,
    status: int = 200,
    submit_form: forms.SubmitForm | None = None,
    decision_form: forms.DecisionForm | None = None,
    variant_forms: dict[int, forms.VariantForm] | None = None,
    publication_forms: dict[int, django_forms.Form] | None = None,
    image_form: forms.ImageForm | None = None,
    withdraw_form: forms.WithdrawForm | None = None,
    editing_published: bool = False,
) -> HttpResponse:
    """The post page; a form that failed comes back bound, with its errors and input. A
    form the post's state no longer offers (someone else decided first) has its errors
    shown as messages instead."""
    staff = _staff(request)
    variant_forms = variant_forms or {}
    publication_forms = publication_forms or {}
    can_draft = staff.can(Permission.DRAFT_POSTS)
    can_publish = staff.can(Permission.PUBLISH)
    can_submit = can_draft and post.status in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED)
    chain = actions.approval_chain(post)
    can_decide = actions.may_decide(staff, post, chain)
    is_out = actions.is_out(post)
    can_edit_published = can_draft and is_out and post.status in EDITABLE
    editing_published = can_edit_published and (
        editing_published or request.GET.get("edit") == "published"
    )
    can_withdraw = can_publish and post.status in actions.WITHDRAWABLE
    unshown: list[django_forms.Form] = []
    if withdraw_form is not None and not can_withdraw:
        unshown.append(withdraw_form)
    if submit_form is not None and not can_submit:
        unshown.append(submit_form)
    if decision_form is not None and not can_decide:
        unshown.append(decision_form)
    variants = [
        VariantView(
            variant,
            FitView.of(actions.variant_fit(variant)),
            variant_forms.get(variant.pk)
            or forms.VariantForm(initial={"text": variant.text}, prefix=f"variant-{variant.pk}"),
        )
        for variant in post.variants.select_related("channel")
    ]
    publications = []
    for publication in (
        selectors.publications(staff).filter(variant__post=post).order_by("channel__name")
    ):
        view = PublicationView(
            publication,
            by_hand=_by_hand(publication.channel),
            confirm_form=None,
            reschedule_form=None,
            can_retry=can_publish
            and publication.state in (PublicationState.UNCONFIRMED, PublicationState.FAILED),
        )
        bound = publication_forms.get(publication.pk)
        if (
            can_publish
            and publication.state in (PublicationState.UNCONFIRMED, PublicationState.BY_HAND)
            and post.status == PostStatus.APPROVED
        ):
            view.confirm_form = (
                bound
                if isinstance(bound, forms.ConfirmForm)
                else forms.ConfirmForm(prefix=f"confirm-{publication.pk}")
            )
        if can_publish and publication.state in actions.OPEN_STATES:
            view.reschedule_form = (
                bound
                if isinstance(bound, forms.RescheduleForm)
                else forms.RescheduleForm(
                    initial={"due_at": publication.due_at},
                    prefix=f"reschedule-{publication.pk}",
                )
            )
        if bound is not None and bound not in (view.confirm_form, view.reschedule_form):
            unshown.append(bound)
        for change in publication.changes.exclude(state=ChangeState.SUPERSEDED):
            view.changes.append(
                ChangeView(
                    change,
                    can_retry=can_publish
                    and change.state
                    in (ChangeState.FAILED, ChangeState.UNCONFIRMED, ChangeState.HELD)
                    and propagation.platform_can(publication.channel, change.kind),
                    can_confirm=can_publish
                    and change.state in propagation.UNSETTLED
                    and change.state != ChangeState.PENDING,
                )
            )
        publications.append(view)
    for form in unshown:
        for message in form.non_field_errors():
            messages.error(request, str(message))
    return render(
        request,
        "publishing/post.html",
        {
            "post": post,
            "variants": variants,
            "publications": publications,
            "reviews": post.reviews.select_related("by", "step"),
            # Once a variant is out, its text is changed through "edit after publishing",
            # which goes back for approval and then to the platforms.
            "can_edit": can_draft and post.status in EDITABLE and (not is_out or editing_published),
            "can_edit_images": can_draft and post.status in EDITABLE and not is_out,
            "can_edit_published": can_edit_published,
            "editing_published": editing_published,
            "can_withdraw": can_withdraw,
            "withdraw_form": withdraw_form or forms.WithdrawForm(),
            "history": history(post),
            "can_submit": can_submit,
            "can_decide": can_decide,
            "chain": chain,
            "submit_form": submit_form
            or forms.SubmitForm(
                initial={"publish_at": post.publish_at or forms.initial_publish_time()}
            ),
            "decision_form": decision_form or forms.DecisionForm(),
            "images": post.images.all(),
            "image_form": image_form or forms.ImageForm(),
            "can_add_image": post.images.count() < actions.MAX_IMAGES_PER_POST,
        },
        status=status,
    )


@staff_required()
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(selectors.posts(_staff(request)), pk=pk)
    return _render_post(request, post)


@require_POST
@staff_required()
def post_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in POST_ACTIONS:
        raise Http404
    staff = _staff(request)
    post = get_object_or_404(selectors.posts(staff), pk=pk)
    if action == "withdraw":
        withdraw_form = forms.WithdrawForm(request.POST)
        if not withdraw_form.is_valid():
            return _render_post(request, post, status=400, withdraw_form=withdraw_form)
        try:
            actions.withdraw(staff, post, reason=withdraw_form.cleaned_data["reason"])
        except ValidationError as error:
            _add_errors(withdraw_form, error)
            return _render_post(request, post, status=400, withdraw_form=withdraw_form)
        messages.success(
            request,
            _("Withdrawn: what had not gone out is cancelled, and what is out is being deleted."),
        )
        return redirect("publishing:post", pk=post.pk)
    if action == "submit":
        submit_form = forms.SubmitForm(request.POST)
        if not submit_form.is_valid():
            return _render_post(request, post, status=400, submit_form=submit_form)
        try:
            actions.submit(staff, post, publish_at=submit_form.cleaned_data["publish_at"])
        except ValidationError as error:
            _add_errors(submit_form, error)
            return _render_post(request, post, status=400, submit_form=submit_form)
        messages.success(request, _("Sent for approval."))
        return redirect("publishing:post", pk=post.pk)
    decision_form = forms.DecisionForm(request.POST)
    decision_form.is_valid()
    comment = decision_form.cleaned_data.get("comment", "")
    try:
        if action == "approve":
            post = actions.approve(staff, post, comment=comment)
            if post.status == PostStatus.APPROVED:
                done = _("Approved: it goes out at its time.")
            else:
                done = _("Step approved: the post goes on to the next step.")
        elif action == "request_changes":
            actions.request_changes(staff, post, comment=comment)
            done = _("Changes requested.")
        else:
            actions.reject(staff, post, comment=comment)
            done = _("Rejected.")
    except ValidationError as error:
        _add_errors(decision_form, error)
        return _render_post(request, post, status=400, decision_form=decision_form)
    messages.success(request, done)
    return redirect("publishing:post", pk=post.pk)


@require_POST
@staff_required(Permission.DRAFT_POSTS)
def variant_edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    variant = get_object_or_404(selectors.variants(staff), pk=pk)
    form = forms.VariantForm(request.POST, prefix=f"variant-{variant.pk}")
    out = actions.is_out(variant.post)
    if form.is_valid():
        try:
            if out:
                actions.edit_published(staff, variant, form.cleaned_data["text"])
            else:
                actions.edit_variant(staff, variant, form.cleaned_data["text"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if out:
                done = _(
                    "The text for %(channel)s is saved. Once approved, it updates the post on "
                    "the channel."
                )
            else:
                done = _("The text for %(channel)s is saved.")
            messages.success(request, done % {"channel": variant.channel.name})
            return redirect("publishing:post", pk=variant.post_id)
    return _render_post(
        request,
        variant.post,
        status=400,
        variant_forms={variant.pk: form},
        editing_published=out,
    )


@require_POST
@staff_required(Permission.PUBLISH)
def change_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """A person settles a change after publishing: try it again, or confirm it is done."""
    if action not in CHANGE_ACTIONS:
        raise Http404
    staff = _staff(request)
    change = get_object_or_404(
        PublicationChange.objects.for_staff(staff).select_related(
            "publication__channel", "publication__variant"
        ),
        pk=pk,
    )
    channel = change.publication.channel.name
    try:
        if action == "retry":
            propagation.retry_change(staff, change)
            done = _("%(channel)s: the change is made again in the next round.")
        else:
            propagation.confirm_change(staff, change)
            done = _("%(channel)s: recorded as done.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done % {"channel": channel})
    return redirect("publishing:post", pk=change.publication.variant.post_id)


@require_POST
@staff_required(Permission.PUBLISH)
def publication_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in PUBLICATION_ACTIONS:
        raise Http404
    staff = _staff(request)
    publication = get_object_or_404(selectors.publications(staff), pk=pk)
    post = publication.variant.post
    channel = publication.channel.name
    form: django_forms.Form | None = None
    try:
        if action == "retry":
            actions.retry(staff, publication)
            done = _("%(channel)s: it goes out again in the next round.") % {"channel": channel}
        elif action == "confirm":
            form = forms.ConfirmForm(request.POST, prefix=f"confirm-{publication.pk}")
            if not form.is_valid():
                return _render_post(request, post, status=400, publication_forms={pk: form})
            actions.confirm(staff, publication, url=form.cleaned_data["url"])
            done = _("%(channel)s: recorded as published.") % {"channel": channel}
        else:
            form = forms.RescheduleForm(request.POST, prefix=f"reschedule-{publication.pk}")
            if not form.is_valid():
                return _render_post(request, post, status=400, publication_forms={pk: form})
            actions.reschedule(staff, publication, form.cleaned_data["due_at"])
            done = _("%(channel)s: moved.") % {"channel": channel}
    except ValidationError as error:
        if form is None:
            messages.error(request, " ".join(error.messages))
            return redirect("publishing:post", pk=post.pk)
        _add_errors(form, error)
        return _render_post(request, post, status=400, publication_forms={pk: form})
    messages.success(request, done)
    return redirect("publishing:post", pk=post.pk)


# -- lists -------------------------------------------------------------------------------------


@staff_required()
def post_list(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    form = forms.PostFilterForm(request.GET or None, staff=staff)
    posts = selectors.posts(staff).prefetch_related("variants__channel")
    if form.is_valid():
        if form.cleaned_data["status"]:
            posts = posts.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["topic"]:
            posts = actions.with_topic(posts, form.cleaned_data["topic"])
        if form.cleaned_data["mine"]:
            posts = posts.filter(author=staff)
    return render(
        request,
        "publishing/posts.html",
        {
            "form": form,
            "posts": posts,
            "can_draft": staff.can(Permission.DRAFT_POSTS),
            "can_approve": staff.can(Permission.APPROVE_POSTS),
        },
    )


@staff_required()
def approvals(request: HttpRequest) -> HttpResponse:
    """Posts waiting for the signed-in approver: with an approval chain, those whose current
    step names them (administrators see all); without one, all for those who approve."""
    staff = _staff(request)
    posts = selectors.awaiting_approval(staff)
    if not actions.has_approval_chain(staff.organisation_id):
        if not staff.can(Permission.APPROVE_POSTS):
            raise PermissionDenied
        rows = [ChainPost(post, None) for post in posts]
        return render(
            request,
            "publishing/approvals.html",
            {"rows": rows, "posts": [row.post for row in rows], "chained": False},
        )
    rows = []
    for post in posts:
        current = next((s for s in actions.approval_chain(post) if s.current), None)
        if actions.acts_for_any_step(staff) or (
            current is not None and current.includes(staff) and not current.approved_by(staff)
        ):
            rows.append(ChainPost(post, current))
    return render(
        request,
        "publishing/approvals.html",
        {"rows": rows, "posts": [row.post for row in rows], "chained": True},
    )


@dataclass(frozen=True)
class ChainPost:
    post: Post
    current: actions.StepState | None
