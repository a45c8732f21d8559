"""The inbox pages: the list of cases (with a fragment HTMX polls for live updates) and
the case page with its actions. Thin: they parse input, call an action and render; the
actions check permissions (PermissionDenied is the 403 page) and rules (ValidationError
is shown on the form, in Korean)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from sotong.core.models import Department, Staff
from sotong.core.roles import Capability as Permission
from sotong.inbox import actions, canned, event_api, forms, satisfaction, selectors
from sotong.inbox.models import (
    AttachmentState,
    Case,
    Message,
    MessageAttachment,
    ReferralState,
    Reply,
    ReplyState,
    SatisfactionSurvey,
    price_text,
)
from sotong.platforms.base import Capability
from sotong.web.decorators import staff_required
from sotong.web.forms import add_action_errors as _add_errors

CASE_ACTIONS = (
    "assign",
    "status",
    "kind",
    "note",
    "reply",
    "refer",
    "answer_referral",
    "close",
    "reopen",
    "hide",
    "satisfaction",
    "route",
    "retry_reply",
    "personal",
)


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


def _filters(form: forms.FilterForm) -> selectors.CaseFilters:
    if not form.is_valid():
        return selectors.CaseFilters()
    data = form.cleaned_data
    return selectors.CaseFilters(
        channel=data["channel"].pk if data["channel"] else None,
        department=data["department"].pk if data["department"] else None,
        status=data["status"],
        intent=data["intent"],
        overdue=data["overdue"],
    )


@staff_required()
def index(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    form = forms.FilterForm(request.GET or None, staff=staff)
    filters = _filters(form)
    queryset = selectors.inbox(staff, filters)
    awaiting = actions.awaiting_approval(staff)
    if form.is_valid() and form.cleaned_data["awaiting_approval"]:
        queryset = queryset.filter(pk__in=awaiting.values("case_id"))
    cases = list(queryset[:200])
    context = {
        "form": form,
        "rows": [_row(case) for case in cases],
        "now": timezone.now(),
        "query": request.GET.urlencode(),
        **_inbox_figures(staff, filters, awaiting),
    }
    if request.GET.get("fragment"):
        return render(request, "inbox/_list.html", context)
    context["event_api_usage"] = event_api.usage_for(staff)
    return render(request, "inbox/index.html", context)


def _row(case: Case) -> dict[str, Any]:
    latest: Message | None = next(iter(case.messages.all()), None)
    return {"case": case, "latest": latest, "count": len(case.messages.all())}


@staff_required()
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    case = get_object_or_404(selectors.cases(staff), pk=pk)
    return _render_case(request, case)


def _render_case(
    request: HttpRequest, case: Case, *, status: int = 200, **given: Any
) -> HttpResponse:
    staff = _staff(request)
    thread = list(
        case.messages.select_related("channel")
        .prefetch_related("attachments")
        .order_by("received_at", "pk")
    )
    latest = thread[-1] if thread else None
    modes = actions.reply_modes(latest) if latest else []
    may_assign = actions.may(staff, Permission.ASSIGN_CASES)
    may_reply = actions.may(staff, Permission.REPLY)
    may_handle = actions.may(staff, *actions.HANDLE)
    departments = {
        d.pk: d
        for d in Department.objects.filter(organisation_id=case.organisation_id, is_active=True)
    }
    suggestions = []
    if latest is not None:
        for suggestion in latest.suggestions or []:
            department = departments.get(suggestion.get("department_id") or 0)
            suggestions.append(
                {
                    **suggestion,
                    "department": department,
                    "percent": round(float(suggestion.get("confidence", 0)) * 100),
                }
            )
    referrals = list(case.referrals.select_related("department", "asked_by", "answered_by"))
    answerable = {
        referral.pk
        for referral in selectors.referrals(staff).filter(case=case, state=ReferralState.OPEN)
    }
    context = {
        **_review_context(staff, case, given),
        "case": case,
        "thread": thread,
        "latest": latest,
        "suggestions": suggestions,
        "events": list(case.events.select_related("actor")),
        "replies": list(case.replies.select_related("by")),
        "referrals": referrals,
        "answerable": answerable,
        "now": timezone.now(),
        "may_assign": may_assign,
        "may_reply": may_reply and bool(modes),
        "reply_blocked": may_reply and not modes,
        "may_handle": may_handle,
        "may_see_personal": actions.may_see_personal_data(staff, case),
        "can_hide": may_assign
        and latest is not None
        and Capability.HIDE_COMMENT in case.channel.capabilities,
        "personal": given.pop("personal", None),
        "assign_form": given.pop(
            "assign_form",
            forms.AssignForm(
                staff=staff,
                initial={"department": case.department_id, "assignee": case.assignee_id},
            ),
        ),
        "status_form": given.pop("status_form", forms.StatusForm(initial={"status": case.status})),
        "kind_form": given.pop("kind_form", forms.KindForm(initial={"kind": case.kind})),
        "note_form": given.pop("note_form", forms.NoteForm()),
        "reply_form": given.pop("reply_form", forms.ReplyForm(modes=modes)),
        "refer_form": given.pop("refer_form", forms.ReferForm(staff=staff)),
        "answer_form": given.pop("answer_form", forms.ReferralAnswerForm()),
        "hide_form": given.pop("hide_form", forms.HideForm()),
        "satisfaction_form": given.pop("satisfaction_form", forms.SatisfactionForm()),
        "kakao": _kakao_context(case),
    }
    return render(request, "inbox/case.html", context, status=status)


def _kakao_context(case: Case) -> dict[str, Any] | None:
    """How replies reach a KakaoTalk citizen on this case's channel: by the paid Event
    API, or held for their next message."""
    if not event_api.is_kakao(case.channel):
        return None
    return {
        "event_api": event_api.enabled(case.channel),
        "price": price_text(event_api.price(case.channel)),
    }


@require_POST
@staff_required()
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in CASE_ACTIONS:
        raise Http404
    staff = _staff(request)
    case = get_object_or_404(selectors.cases(staff), pk=pk)
    handler = _HANDLERS[action]
    return handler(request, staff, case)


def _done(request: HttpRequest, case: Case, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("inbox:case", pk=case.pk)


def _run(
    request: HttpRequest,
    case: Case,
    form: django_forms.Form,
    form_name: str,
    call: Any,
    done: str,
) -> HttpResponse:
    """Validate ``form``, call the action with its cleaned data; errors back on the form."""
    if not form.is_valid():
        return _render_case(request, case, status=400, **{form_name: form})
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        _add_errors(form, error)
        return _render_case(request, case, status=400, **{form_name: form})
    return _done(request, case, done)


def _assign(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    form = forms.AssignForm(request.POST, staff=staff)
    return _run(
        request,
        case,
        form,
        "assign_form",
        lambda data: actions.assign(
            staff, case, department=data["department"], assignee=data["assignee"]
        ),
        _("Assigned."),
    )


def _status(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    form = forms.StatusForm(request.POST)
    return _run(
        request,
        case,
        form,
        "status_form",
        lambda data: actions.change_status(staff, case, data["status"]),
        _("Status changed."),
    )


def _kind(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    form = forms.KindForm(request.POST)
    return _run(
        request,
        case,
        form,
        "kind_form",
        lambda data: actions.change_kind(staff, case, data["kind"]),
        _("Kind changed; the deadline was counted again."),
    )


def _note(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    form = forms.NoteForm(request.POST)
    return _run(
        request,
        case,
        form,
        "note_form",
        lambda data: actions.add_note(staff, case, data["text"]),
        _("Note added."),
    )


def _reply(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    latest = case.messages.select_related("channel").order_by("-received_at", "-pk").first()
    form = forms.ReplyForm(request.POST, modes=actions.reply_modes(latest) if latest else [])
    return _run(
        request,
        case,
        form,
        "reply_form",
        lambda data: actions.reply(
            staff, case, data["text"], public=data["visibility"] == "public", message=latest
        ),
        _("Reply saved: it waits for a PR editor's approval before it is sent.")
        if case.is_sensitive
        else _("Reply saved: KakaoTalk delivers it with the citizen's next message.")
        if event_api.holds(case.channel)
        else _("Reply saved: it is being sent on the channel."),
    )


def _refer(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    form = forms.ReferForm(request.POST, staff=staff)
    return _run(
        request,
        case,
        form,
        "refer_form",
        lambda data: actions.refer(
            staff,
            case,
            department=data["department"],
            question=data["question"],
            due_at=data["due_at"],
        ),
        _("Referred: the department has been asked."),
    )


def _answer_referral(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    referral = get_object_or_404(
        selectors.referrals(staff), pk=request.POST.get("referral") or 0, case=case
    )
    form = forms.ReferralAnswerForm(request.POST)
    return _run(
        request,
        case,
        form,
        "answer_form",
        lambda data: actions.answer_referral(staff, referral, data["answer"]),
        _("Answer sent to the PR office."),
    )


def _simple(call: Any, done: Any) -> Any:
    def handle(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
        try:
            call(staff, case)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
            return redirect("inbox:case", pk=case.pk)
        return _done(request, case, str(done))

    return handle


def _hide(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    message = get_object_or_404(Message, pk=request.POST.get("message") or 0, case=case)
    form = forms.HideForm(request.POST)
    return _run(
        request,
        case,
        form,
        "hide_form",
        lambda data: actions.hide_message(staff, message, data["reason"]),
        _("The comment is hidden on the platform; it stays in Sotong."),
    )


def _satisfaction(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    form = forms.SatisfactionForm(request.POST)
    return _run(
        request,
        case,
        form,
        "satisfaction_form",
        lambda data: actions.record_satisfaction(staff, case, data["score"], data["comment"]),
        _("Satisfaction recorded."),
    )


def _route(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    """One click on a suggested department: assign the case there, and teach the routing
    model that this message belongs to it."""
    department = get_object_or_404(
        Department,
        pk=request.POST.get("department") or 0,
        organisation_id=case.organisation_id,
        is_active=True,
    )
    try:
        actions.route(staff, case, department)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect("inbox:case", pk=case.pk)
    return _done(request, case, _("Assigned to %(department)s.") % {"department": department.name})


def _retry_reply(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    answer = get_object_or_404(Reply, pk=request.POST.get("reply") or 0, case=case)
    return _simple(
        lambda by, _case: actions.retry_reply(by, answer), _("The reply is being sent again.")
    )(request, staff, case)


def _personal(request: HttpRequest, staff: Staff, case: Case) -> HttpResponse:
    """Show the original words and the citizen's handle (logged in the audit log)."""
    return _render_case(request, case, personal=actions.personal_data(staff, case))


_HANDLERS: dict[str, Any] = {
    "assign": _assign,
    "status": _status,
    "kind": _kind,
    "note": _note,
    "reply": _reply,
    "refer": _refer,
    "answer_referral": _answer_referral,
    "close": _simple(actions.close, gettext_lazy("Case closed.")),
    "reopen": _simple(actions.reopen, gettext_lazy("Case reopened.")),
    "hide": _hide,
    "satisfaction": _satisfaction,
    "route": _route,
    "retry_reply": _retry_reply,
    "personal": _personal,
}


# -- canned responses, reply approval, satisfaction -------------------------------------------


def _inbox_figures(
    staff: Staff, filters: selectors.CaseFilters, awaiting: QuerySet[Reply]
) -> dict[str, Any]:
    """The inbox header: replies waiting for approval, and the average satisfaction of
    the cases the filter shows (answered and closed ones included: they are the rated)."""
    rated = selectors.inbox(staff, replace(filters, include_finished=True))
    return {
        "awaiting_count": awaiting.count(),
        "satisfaction": satisfaction.average(rated),
    }


def _review_context(staff: Staff, case: Case, given: dict[str, Any]) -> dict[str, Any]:
    """What the case page shows of canned responses, sensitivity, replies waiting for
    approval or returned, and satisfaction. ``given`` holds forms with errors to show."""
    rows = []
    for answer in case.replies.select_related("by", "reviewed_by", "submitted_by"):
        mine = given.get("review_reply") == answer.pk
        rows.append(
            {
                "reply": answer,
                "may_approve": actions.may_approve(staff, answer),
                "may_resubmit": answer.state == ReplyState.RETURNED
                and actions.may(staff, Permission.REPLY),
                "return_form": given.pop("return_form")
                if mine and "return_form" in given
                else forms.ReturnReplyForm(prefix=f"return-{answer.pk}"),
                "resubmit_form": given.pop("resubmit_form")
                if mine and "resubmit_form" in given
                else forms.ResubmitReplyForm(
                    prefix=f"resubmit-{answer.pk}", initial={"text": answer.text}
                ),
            }
        )
    given.pop("review_reply", None)
    survey = SatisfactionSurvey.objects.filter(case=case).first()
    return {
        "reply_rows": rows,
        "canned_responses": list(canned.for_case(staff, case))
        if actions.may(staff, Permission.REPLY)
        else [],
        "sensitivity_form": given.pop(
            "sensitivity_form",
            forms.SensitivityForm(prefix="sensitivity", initial={"sensitivity": case.sensitivity}),
        ),
        "survey": survey,
        "survey_open": survey is not None and satisfaction.is_open(survey),
    }


def _case_for(request: HttpRequest, pk: int) -> tuple[Staff, Case]:
    staff = _staff(request)
    return staff, get_object_or_404(selectors.cases(staff), pk=pk)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
@staff_required()
def insert_canned(request: HttpRequest, pk: int) -> HttpResponse:
    """Fill a canned response in for the reply form (counted as a use). The page's script
    asks for JSON and puts the text into the reply box; without script, the case page
    comes back with the text in the box."""
    staff, case = _case_for(request, pk)
    chosen = get_object_or_404(canned.for_case(staff, case), pk=request.POST.get("canned") or 0)
    public = request.POST.get("visibility", "public") != "private"
    text = canned.insert(staff, chosen, case, public=public)
    if _wants_json(request):
        return JsonResponse({"text": text, "title": chosen.title})
    latest = case.messages.select_related("channel").order_by("-received_at", "-pk").first()
    modes = actions.reply_modes(latest) if latest else []
    typed = request.POST.get("text", "").strip()
    form = forms.ReplyForm(
        modes=modes,
        initial={
            "text": f"{typed}\n\n{text}" if typed else text,
            "visibility": "public" if public else "private",
        },
    )
    return _render_case(request, case, reply_form=form)


@require_POST
@staff_required(Permission.ASSIGN_CASES)
def set_sensitivity(request: HttpRequest, pk: int) -> HttpResponse:
    staff, case = _case_for(request, pk)
    form = forms.SensitivityForm(request.POST, prefix="sensitivity")
    return _run(
        request,
        case,
        form,
        "sensitivity_form",
        lambda data: actions.set_sensitivity(staff, case, data["sensitivity"], data["reason"]),
        _("Sensitivity changed."),
    )


REVIEW_DECISIONS = ("approve", "return", "resubmit")


@require_POST
@staff_required()
def review_reply(request: HttpRequest, pk: int, reply_pk: int, decision: str) -> HttpResponse:
    """Approve or return a reply waiting on a sensitive case; resubmit a returned one."""
    if decision not in REVIEW_DECISIONS:
        raise Http404
    staff, case = _case_for(request, pk)
    answer = get_object_or_404(Reply.objects.for_staff(staff), pk=reply_pk, case=case)
    if decision == "approve":
        return _simple(
            lambda by, _case: actions.approve_reply(by, answer),
            _("Reply approved: KakaoTalk delivers it with the citizen's next message.")
            if event_api.holds(case.channel)
            else _("Reply approved: it is being sent on the channel."),
        )(request, staff, case)
    form: django_forms.Form
    if decision == "return":
        form = forms.ReturnReplyForm(request.POST, prefix=f"return-{answer.pk}")
        name, done = "return_form", _("Reply returned to its writer with your comment.")

        def call(data: dict[str, Any]) -> Reply:
            return actions.return_reply(staff, answer, data["comment"])
    else:
        form = forms.ResubmitReplyForm(request.POST, prefix=f"resubmit-{answer.pk}")
        name, done = "resubmit_form", _("Reply resubmitted.")

        def call(data: dict[str, Any]) -> Reply:
            return actions.resubmit_reply(staff, answer, data["text"])

    if not form.is_valid():
        return _render_case(request, case, status=400, review_reply=answer.pk, **{name: form})
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        _add_errors(form, error)
        return _render_case(request, case, status=400, review_reply=answer.pk, **{name: form})
    return _done(request, case, done)


# -- photos citizens sent ------------------------------------------------------------------------


@require_GET
@staff_required()
def case_photo(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponse:
    """A photo a citizen sent on a case, for staff who see the case (scoped as the case
    page is), shown in the page: never from the platform's address, never guessed by
    the browser as anything but the image it is."""
    _staff_member, case = _case_for(request, pk)
    photo = get_object_or_404(
        MessageAttachment, pk=photo_pk, message__case=case, state=AttachmentState.FETCHED
    )
    # At most 10 MB (inbox.attachments): read whole, no file handle left open.
    try:
        with photo.file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(content, content_type=photo.content_type)
    extension = (photo.file.name or "").rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'inline; filename="photo-{photo.pk}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=300"
    return response


# -- the public survey page (no login) ----------------------------------------------------------


def _survey_page(
    request: HttpRequest, state: str, *, status: int = 200, **context: Any
) -> HttpResponse:
    response = render(request, "inbox/survey.html", {"state": state, **context}, status=status)
    # The token is the key: no cache keeps the page, no referrer carries the address to
    # another site ("same-origin", not "no-referrer": the browser must still send the
    # Origin of the form's own post, or the CSRF check refuses it).
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The satisfaction survey a reply links to: a citizen answers once, without signing
    in, within 14 days. In the city's language."""
    with translation.override(settings.LANGUAGE_CODE):
        found = satisfaction.survey_from_token(token)
        if found is None:
            return _survey_page(request, "missing", status=404)
        context: dict[str, Any] = {"organisation": found.case.organisation, "survey": found}
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        if found.answered_at is not None:
            done = request.GET.get("done") == "1"
            return _survey_page(request, "thanks" if done else "answered", **context)
        if not satisfaction.is_open(found):
            return _survey_page(request, "expired", status=410, **context)
        form = forms.SurveyForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                satisfaction.answer_survey(
                    found, form.cleaned_data["score"], form.cleaned_data["comment"]
                )
            except satisfaction.SurveyClosed:
                return _survey_page(request, "expired", status=410, **context)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return redirect(reverse("inbox:survey", args=[token]) + "?done=1")
        status = 400 if request.method == "POST" else 200
        return _survey_page(request, "open", status=status, form=form, **context)
