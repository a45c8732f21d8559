"""Participation pages. For staff: the list of polls and naming contests, creating one,
and the poll itself (open and close voting, the live count with its chart and table, the
ballots and why some are not counted, the posts whose comments count, the city's response,
the masked CSV export). For citizens: the public voting page, without signing in.

Thin: forms parse, the actions decide and audit (PermissionDenied is the 403 page; a
ValidationError is shown by its field, in Korean)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sotong.core.models import Staff
from sotong.core.roles import Capability
from sotong.participation import actions, forms
from sotong.participation.models import (
    Ballot,
    BallotSource,
    Poll,
    PollKind,
    PollState,
    Submission,
    SubmissionState,
)
from sotong.web.decorators import staff_required
from sotong.web.forms import add_action_errors as _add_errors

POLL_ACTIONS = ("open", "close", "post", "decision", "proposals", "shortlist")
BALLOTS_PER_PAGE = 50
# Staff see a pseudonym's first characters: enough to tell voters apart, not to look
# anyone up.
VOTER_PREFIX = 8

# The public page's per-device token: signed (a forged one is ignored), HttpOnly, SameSite=Lax.
DEVICE_COOKIE = "sotong_voter"
DEVICE_SALT = "sotong.participation.device"
DEVICE_MAX_AGE = 400 * 24 * 60 * 60  # the longest a browser keeps a cookie
# Votes per address per window (Django's cache). Generous: a mobile carrier puts many
# phones behind one address, and the count takes one ballot per device anyway.
RATE_LIMIT = 30
RATE_WINDOW = 60  # seconds


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


def _polls(staff: Staff) -> QuerySet[Poll]:
    """The polls ``staff`` sees: department staff those of their own department."""
    return Poll.objects.for_staff(staff).select_related("department", "organisation")


# -- the count, as the pages show it --------------------------------------------------------


def reason_label(reason: str) -> str:
    """Why a ballot is not counted, in words (the tally's and the actions' codes)."""
    labels = {
        "early": _("Cast before voting opened"),
        "late": _("Cast after voting closed"),
        "invalid": _("No option could be read"),
        "none": _("No option chosen"),
        "too_many_choices": _("More options than allowed"),
        "unknown_option": _("An option that does not exist"),
        "duplicate": _("Repeat: the same person's earlier ballot counts"),
    }
    return labels.get(str(reason), str(reason))


def source_label(source: str) -> str:
    try:
        return str(BallotSource(source).label)
    except ValueError:
        return source


# Chart geometry (SVG user units; the SVG scales to its box). Narrow, so a phone shows the
# labels at a readable size.
CHART_WIDTH = 360
ROW_HEIGHT = 46
BAR_LEFT = 4
BAR_MAX = 240  # room on the right for "1,234 (45.6%)"
LABEL_CHARS = 22


@dataclass(frozen=True)
class ChartRow:
    position: int
    label: str
    short: str  # as the chart shows it; the table has the whole label
    votes: int
    percent: str
    by_source: list[int]
    # Geometry
    text_y: int
    bar_y: int
    bar_width: float
    value_x: float


@dataclass(frozen=True)
class ResultView:
    """The count of a poll for the pages: a horizontal bar per option and the same figures
    as a table (the chart only shows their shape)."""

    rows: list[ChartRow]
    counted: int
    not_counted: list[tuple[str, int]]
    not_counted_total: int
    sources: list[str]
    width: int
    height: int

    @property
    def bar_height(self) -> int:
        return 16


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def result_view(result: actions.Result) -> ResultView:
    top = max((option.votes for option in result.options), default=0)
    rows = []
    for index, option in enumerate(result.options):
        y = index * ROW_HEIGHT
        width = round(option.votes / top * BAR_MAX, 1) if top else 0.0
        if option.votes and width < 2:
            width = 2.0  # a vote is never invisible
        rows.append(
            ChartRow(
                position=option.position,
                label=option.label,
                short=_short(f"{option.position}. {option.label}"),
                votes=option.votes,
                percent=_percent(option.share),
                by_source=[option.by_source.get(source, 0) for source in result.sources],
                text_y=y + 16,
                bar_y=y + 22,
                bar_width=width,
                value_x=round(BAR_LEFT + width + 6, 1),
            )
        )
    not_counted = [(reason_label(reason), total) for reason, total in result.not_counted.items()]
    return ResultView(
        rows=rows,
        counted=result.counted,
        not_counted=not_counted,
        not_counted_total=sum(total for _label, total in not_counted),
        sources=[source_label(source) for source in result.sources],
        width=CHART_WIDTH,
        height=max(len(rows) * ROW_HEIGHT, ROW_HEIGHT),
    )


def _count(poll: Poll) -> tuple[actions.Result | None, ResultView | None]:
    if poll.options.count() == 0:
        return None, None  # a naming contest before its shortlist
    result = actions.count(poll)
    return result, result_view(result)


def _rejected(result: actions.Result | None) -> Mapping[int, str] | None:
    """Ballot id → why it is not counted, where the count says so per ballot."""
    found = getattr(result, "rejected", None)
    if not isinstance(found, Mapping):
        return None
    return {int(pk): str(getattr(value, "reason", value)) for pk, value in found.items()}


@dataclass(frozen=True)
class BallotRow:
    ballot: Ballot
    source: str
    voter: str
    choices: str
    counted: bool | None  # None: the count does not say per ballot
    why: str


def _choices_text(choices: Sequence[Any], labels: Mapping[int, str]) -> str:
    return ", ".join(f"{number}. {labels.get(int(number), '?')}" for number in choices or [])


def ballot_row(
    ballot: Ballot, labels: Mapping[int, str], rejected: Mapping[int, str] | None
) -> BallotRow:
    if rejected is not None:
        reason = rejected.get(ballot.pk)
        counted: bool | None = reason is None
        why = "" if reason is None else reason_label(reason)
        # The parser's own words say more than "no option could be read".
        if reason == "invalid" and ballot.detail:
            why = f"{why}: {ballot.detail}"
    else:
        counted = None if ballot.valid else False
        why = "" if ballot.valid else (ballot.detail or reason_label(ballot.reason))
    return BallotRow(
        ballot=ballot,
        source=source_label(ballot.source),
        voter=ballot.voter[:VOTER_PREFIX],
        choices=_choices_text(ballot.choices, labels),
        counted=counted,
        why=why,
    )


def _labels(poll: Poll) -> dict[int, str]:
    return dict(poll.options.order_by("position").values_list("position", "label"))


# -- staff pages --------------------------------------------------------------------------------


@staff_required()
def poll_list(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    polls = list(_polls(staff).annotate(ballot_total=Count("ballots")))
    rows = []
    for poll in polls:
        counted = None
        if poll.ballot_total and poll.options.exists():
            counted = actions.count(poll).counted
        rows.append((poll, counted))
    return render(
        request,
        "participation/list.html",
        {"rows": rows, "can_run": actions.may_run(staff)},
    )


@staff_required(Capability.PUBLISH)
def poll_create(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    form = forms.PollForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        naming = data["kind"] == PollKind.NAMING
        try:
            poll = actions.create_poll(
                staff,
                staff.organisation,
                kind=data["kind"],
                title=data["title"],
                question=data["question"],
                description=data["description"],
                department=data["department"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                options=form.option_lines(),
                max_choices=data["max_choices"],
                on_web=data["on_web"],
                on_kakao=data["on_kakao"],
                submissions_open_at=data["submissions_open_at"] if naming else None,
                submissions_close_at=data["submissions_close_at"] if naming else None,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Saved as a draft. Nothing is public until voting opens."))
            return redirect("participation:poll", pk=poll.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "participation/new.html", {"form": form}, status=status)


def _render_poll(
    request: HttpRequest,
    poll: Poll,
    *,
    status: int = 200,
    post_form: forms.PostForm | None = None,
    decision_form: forms.DecisionForm | None = None,
) -> HttpResponse:
    staff = _staff(request)
    can_run = actions.may_run(staff)
    result, view = _count(poll)
    labels = _labels(poll)
    rejected = _rejected(result)
    ballots = Ballot.objects.filter(poll=poll).select_related("channel").order_by("-cast_at", "-pk")
    page = Paginator(ballots, BALLOTS_PER_PAGE).get_page(request.GET.get("page"))
    option_count = len(labels)
    naming = poll.kind == PollKind.NAMING
    submissions = list(poll.submissions.order_by("submitted_at", "pk")) if naming else []
    by_state = {state: 0 for state in SubmissionState.values}
    for submission in submissions:
        by_state[submission.state] += 1
    return render(
        request,
        "participation/poll.html",
        {
            "poll": poll,
            "options": poll.options.order_by("position"),
            "result": view,
            "page": page,
            "rows": [ballot_row(ballot, labels, rejected) for ballot in page.object_list],
            "per_ballot": rejected is not None,
            "posts": poll.posts.select_related("channel").order_by("pk"),
            "can_run": can_run,
            # A naming contest opens voting on its shortlist instead.
            "can_open": can_run
            and not naming
            and poll.state in (PollState.DRAFT, PollState.SUBMISSIONS)
            and option_count >= 2,
            "needs_options": not naming and poll.state != PollState.CLOSED and option_count < 2,
            "naming": naming,
            "submissions": submissions,
            "state_counts": [
                (state, SubmissionState(state).label, by_state[state])
                for state in SubmissionState.values
            ],
            "can_open_proposals": can_run and naming and poll.state == PollState.DRAFT,
            "can_moderate": can_run and naming and poll.state == PollState.SUBMISSIONS,
            "can_vote_shortlist": can_run
            and naming
            and poll.state == PollState.SUBMISSIONS
            and by_state[SubmissionState.SHORTLISTED] >= 2,
            "can_close": can_run and poll.state in (PollState.VOTING, PollState.SUBMISSIONS),
            "post_form": post_form or forms.PostForm(poll=poll),
            "decision_form": decision_form
            or forms.DecisionForm(initial={"decision": poll.decision}),
            "public_url": request.build_absolute_uri(
                reverse("participation:public", args=[poll.public_token])
            ),
            "is_public": poll.state != PollState.DRAFT,
        },
        status=status,
    )


@staff_required()
def poll_detail(request: HttpRequest, pk: int) -> HttpResponse:
    poll = get_object_or_404(_polls(_staff(request)), pk=pk)
    return _render_poll(request, poll)


@require_POST
@staff_required(Capability.PUBLISH)
def poll_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in POLL_ACTIONS:
        raise Http404
    staff = _staff(request)
    poll = get_object_or_404(_polls(staff), pk=pk)
    if action == "post":
        post_form = forms.PostForm(request.POST, poll=poll)
        if not post_form.is_valid():
            return _render_poll(request, poll, status=400, post_form=post_form)
        data = post_form.cleaned_data
        try:
            actions.add_post(staff, poll, data["channel"].pk, data["post_external_id"], data["url"])
        except ValidationError as error:
            _add_errors(post_form, error)
            return _render_poll(request, poll, status=400, post_form=post_form)
        messages.success(
            request,
            _("Comments under the post on %(channel)s now count as votes.")
            % {"channel": data["channel"].name},
        )
        return redirect("participation:poll", pk=poll.pk)
    if action == "decision":
        decision_form = forms.DecisionForm(request.POST)
        if not decision_form.is_valid():
            return _render_poll(request, poll, status=400, decision_form=decision_form)
        try:
            actions.record_decision(staff, poll, decision_form.cleaned_data["decision"])
        except ValidationError as error:
            _add_errors(decision_form, error)
            return _render_poll(request, poll, status=400, decision_form=decision_form)
        messages.success(request, _("The city's response is saved and shown with the results."))
        return redirect("participation:poll", pk=poll.pk)
    try:
        if action == "open":
            actions.open_voting(staff, poll)
            done = _("Voting is open: the public page takes votes during the voting period.")
        elif action == "proposals":
            actions.open_proposals(staff, poll)
            done = _("Proposals are open: the public page and the contest's posts take names.")
        elif action == "shortlist":
            with transaction.atomic():
                opened = actions.open_voting_on_shortlist(staff, poll)
                # Pressed before the planned time: voting starts now, as the button says.
                actions.start_voting_now(staff, opened)
            done = _("Voting on the shortlist has started: the public page takes votes.")
        else:
            actions.close_poll(staff, poll)
            done = _("Closed: the public page shows the results.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("participation:poll", pk=poll.pk)


@require_POST
@staff_required(Capability.PUBLISH)
def moderate(request: HttpRequest, pk: int, submission: int) -> HttpResponse:
    """Approve, reject (with the reason) or shortlist one proposal of a naming contest."""
    staff = _staff(request)
    poll = get_object_or_404(_polls(staff), pk=pk, kind=PollKind.NAMING)
    proposal = get_object_or_404(Submission, pk=submission, poll=poll)
    back = reverse("participation:poll", args=[poll.pk]) + f"#proposal-{proposal.pk}"
    if poll.state != PollState.SUBMISSIONS:
        messages.error(request, _("Proposals are reviewed while the contest takes them."))
        return redirect(back)
    form = forms.ModerationForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect(back)
    try:
        done = actions.moderate(
            staff, proposal, form.cleaned_data["state"], form.cleaned_data["note"]
        )
    except ValidationError as error:
        messages.error(request, f"“{proposal.name}”: " + " ".join(error.messages))
    else:
        messages.success(
            request,
            _("“%(name)s”: %(state)s.")
            % {"name": done.name, "state": SubmissionState(done.state).label},
        )
    return redirect(back)


def _csv_cell(value: object) -> str:
    """A cell as text; one a spreadsheet would run as a formula is kept as text."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@staff_required()
def ballots_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Every ballot of the poll as CSV (UTF-8 with a BOM, as Korean Excel reads it). Voters
    appear only as a short pseudonym prefix; texts were masked when they were stored."""
    poll = get_object_or_404(_polls(_staff(request)), pk=pk)
    result, _view = _count(poll)
    rejected = _rejected(result)
    labels = _labels(poll)
    zone = timezone.get_current_timezone()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("Ballot"),
            _("Source"),
            _("Channel"),
            _("Voter (pseudonym)"),
            _("Cast at (Seoul time)"),
            _("Choices"),
            _("Counted"),
            _("Why not counted"),
            _("Text (masked)"),
        ]
    )
    ballots = Ballot.objects.filter(poll=poll).select_related("channel").order_by("cast_at", "pk")
    for ballot in ballots.iterator(chunk_size=2000):
        row = ballot_row(ballot, labels, rejected)
        counted = "" if row.counted is None else (_("yes") if row.counted else _("no"))
        writer.writerow(
            [
                _csv_cell(value)
                for value in (
                    ballot.pk,
                    row.source,
                    ballot.channel.name if ballot.channel else "",
                    row.voter,
                    ballot.cast_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                    row.choices,
                    counted,
                    row.why,
                    ballot.text,
                )
            ]
        )
    response = HttpResponse(
        buffer.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
    )
    today = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="poll-{poll.pk}-ballots-{today}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# -- the public page (no login) -------------------------------------------------------------


def _client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


def _over_rate_limit(request: HttpRequest) -> bool:
    """Count this vote against the address's allowance for the current window."""
    limit = int(getattr(settings, "SOTONG_VOTE_RATE_LIMIT", RATE_LIMIT))
    window = int(getattr(settings, "SOTONG_VOTE_RATE_WINDOW", RATE_WINDOW))
    key = f"participation:vote-rate:{_client_address(request)}:{int(time.time() // window)}"
    cache.add(key, 0, timeout=window * 2)
    try:
        used = cache.incr(key)
    except ValueError:  # the entry expired between add and incr
        cache.set(key, 1, timeout=window * 2)
        used = 1
    return used > limit


def _device(request: HttpRequest) -> str | None:
    value = request.get_signed_cookie(
        DEVICE_COOKIE, default=None, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE
    )
    if not value or not 16 <= len(value) <= 64:
        return None
    return str(value)


@dataclass(frozen=True)
class CastView:
    """A ballot this device cast, as the citizen is told about it."""

    choices: list[str]
    status: str  # "counted", "repeat", "late", "early", "invalid"


def _cast_view(poll: Poll, ballot: Ballot, labels: Mapping[int, str]) -> CastView:
    chosen = [f"{number}. {labels.get(int(number), '?')}" for number in ballot.choices]
    if not ballot.valid:
        status = "invalid"
    elif ballot.cast_at < poll.opens_at:
        status = "early"
    elif ballot.cast_at >= poll.closes_at:
        status = "late"
    else:
        earlier = (
            Ballot.objects.filter(
                poll=poll,
                source=ballot.source,
                voter=ballot.voter,
                valid=True,
                cast_at__gte=poll.opens_at,
                cast_at__lt=poll.closes_at,
            )
            .filter(Q(cast_at__lt=ballot.cast_at) | Q(cast_at=ballot.cast_at, pk__lt=ballot.pk))
            .exists()
        )
        status = "repeat" if earlier else "counted"
    return CastView(chosen, status)


def _accepting(poll: Poll, now: dt.datetime) -> bool:
    """Whether a vote sent now is stored. Late ones, from a page opened while voting ran,
    are (kept, marked, not counted); once staff closed the poll, the page shows the results
    and takes nothing more (closing early moves the closing time to that moment, so the
    time alone no longer tells)."""
    return poll.on_web and poll.state == PollState.VOTING


def _public_page(
    request: HttpRequest,
    poll: Poll | None,
    state: str,
    *,
    status: int = 200,
    device: str | None = None,
    **context: Any,
) -> HttpResponse:
    response = render(
        request,
        "participation/public.html",
        {"poll": poll, "state": state, "organisation": poll.organisation if poll else None}
        | context,
        status=status,
    )
    # The address is the key: no shared cache keeps the page, no referrer carries it away
    # ("same-origin", not "no-referrer": the CSRF check needs the form's own Origin).
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    if device is not None:
        response.set_signed_cookie(
            DEVICE_COOKIE,
            device,
            salt=DEVICE_SALT,
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def public(request: HttpRequest, token: str) -> HttpResponse:
    """The poll's page for citizens: the question and a vote button while voting is open,
    what they chose once they voted, the results and the city's response once closed."""
    with translation.override(settings.LANGUAGE_CODE):
        poll = (
            Poll.objects.filter(public_token=token)
            .exclude(state=PollState.DRAFT)
            .select_related("organisation")
            .first()
        )
        if poll is None:
            return _public_page(request, None, "missing", status=404)
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        known = _device(request)
        device = known or secrets.token_urlsafe(18)
        new_device = device if known is None else None
        labels = _labels(poll)
        now = timezone.now()
        context: dict[str, Any] = {"labels": labels}

        if request.method == "POST":
            if _over_rate_limit(request):
                response = _public_page(request, poll, "limited", status=429, **context)
                response["Retry-After"] = str(
                    int(getattr(settings, "SOTONG_VOTE_RATE_WINDOW", RATE_WINDOW))
                )
                return response
            if known is None:
                # No device token: cookies are off, or a script posts without the page.
                return _public_page(request, poll, "no_cookie", status=400, device=new_device)
            if poll.state == PollState.SUBMISSIONS:
                return _propose(request, poll, token, known, now, context)
            if not _accepting(poll, now):
                where = _state_context(poll, now)
                shown = where.pop("state")
                return _public_page(request, poll, shown, status=409, not_taken=True, **where)
            form = forms.VoteForm(request.POST, poll=poll)
            if form.is_bot:
                return _public_page(request, poll, "refused", status=400)
            if not form.is_valid():
                return _public_page(request, poll, "open", status=400, form=form, **context)
            reference = uuid.uuid4().hex
            actions.cast_choices(
                poll,
                source=BallotSource.WEB,
                identity=known,
                source_ref=reference,
                choices=form.cleaned_data["choice"],
                cast_at=now,
            )
            return redirect(reverse("participation:public", args=[token]) + f"?ballot={reference}")

        voter = actions.voter_key(BallotSource.WEB, device) if known else None
        mine = Ballot.objects.none()
        if voter is not None:
            mine = Ballot.objects.filter(poll=poll, source=BallotSource.WEB, voter=voter)
        reference = request.GET.get("ballot", "")
        just_cast = mine.filter(source_ref=reference).first() if reference else None
        if just_cast is not None:
            context["cast"] = _cast_view(poll, just_cast, labels)
            context["just_voted"] = True
        else:
            first = mine.filter(valid=True).order_by("cast_at", "pk").first()
            if first is not None:
                context["cast"] = _cast_view(poll, first, labels)
        context.update(_state_context(poll, now))
        state = context.pop("state")
        if state == "open" and "cast" not in context:
            context["form"] = forms.VoteForm(poll=poll)
        if state == "proposals":
            context.update(_proposals_context(poll, voter, request.GET.get("proposed", "")))
            if context["taking"]:
                context["proposal_form"] = forms.ProposalForm()
        return _public_page(request, poll, state, device=new_device, **context)


def _taking_proposals(poll: Poll, now: dt.datetime) -> bool:
    opens = poll.submissions_open_at or poll.opens_at
    closes = poll.submissions_close_at or poll.opens_at
    return poll.state == PollState.SUBMISSIONS and opens <= now < closes


def _proposals_context(poll: Poll, voter: str | None, reference: str) -> dict[str, Any]:
    """What this device proposed so far, and the one it just sent."""
    mine = list(
        Submission.objects.filter(poll=poll, source=BallotSource.WEB, voter=voter or "-")
        .order_by("submitted_at", "pk")
        .values_list("name", "source_ref")
    )
    return {
        "taking": _taking_proposals(poll, timezone.now()),
        "my_proposals": [name for name, _ref in mine],
        "just_proposed": next((name for name, ref in mine if reference and ref == reference), None),
        "proposals_left": max(actions.PROPOSALS_PER_PERSON - len(mine), 0),
    }


def _propose(
    request: HttpRequest,
    poll: Poll,
    token: str,
    device: str,
    now: dt.datetime,
    context: dict[str, Any],
) -> HttpResponse:
    """A name proposed on the public page: the same protections as a vote (device cookie,
    CSRF, rate limit, honeypot); the action says in Korean what it refuses."""
    voter = actions.voter_key(BallotSource.WEB, device)
    form = forms.ProposalForm(request.POST)
    if form.is_bot:
        return _public_page(request, poll, "refused", status=400)
    if form.is_valid():
        reference = uuid.uuid4().hex
        try:
            actions.propose(
                poll,
                source=BallotSource.WEB,
                identity=device,
                source_ref=reference,
                name=form.cleaned_data["name"],
                reason=form.cleaned_data["reason"],
                at=now,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return redirect(
                reverse("participation:public", args=[token]) + f"?proposed={reference}"
            )
    context.update(_proposals_context(poll, voter, ""))
    context["proposal_form"] = form
    return _public_page(request, poll, "proposals", status=400, **context)


def _state_context(poll: Poll, now: dt.datetime) -> dict[str, Any]:
    """Where the poll stands for a citizen, and the results once it is closed."""
    context: dict[str, Any] = {}
    if poll.state == PollState.CLOSED:
        context["state"] = "closed"
        context["result"] = _count(poll)[1]
    elif poll.state == PollState.SUBMISSIONS:
        context["state"] = "proposals"
    elif now < poll.opens_at:
        context["state"] = "not_yet"
    elif now >= poll.closes_at:
        context["state"] = "ended"
    elif not poll.on_web:
        context["state"] = "elsewhere"
    else:
        context["state"] = "open"
    return context
