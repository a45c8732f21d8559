"""The FAQ pages: the list with search, the entry form, retire/restore, and the "try a
question" box that shows what would be answered automatically. Thin: the actions decide."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sotong.core.models import Staff
from sotong.faq import actions, answers, selectors
from sotong.faq.forms import FaqEntryForm, TryForm
from sotong.faq.models import FaqEntry
from sotong.publishing.views import _add_errors
from sotong.web.decorators import staff_required

ENTRY_ACTIONS = ("retire", "restore")


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


@dataclass
class EntryRow:
    entry: FaqEntry
    state: str  # answering, scheduled, expired, retired
    editable: bool


def _state(entry: FaqEntry, today: object) -> str:
    if not entry.active:
        return "retired"
    if entry.valid_from is not None and entry.valid_from > today:  # type: ignore[operator]
        return "scheduled"
    if entry.valid_until is not None and entry.valid_until < today:  # type: ignore[operator]
        return "expired"
    return "answering"


@dataclass
class TryRow:
    answer: answers.FaqAnswer
    percent: int


def _tried(staff: Staff, question: str) -> dict[str, object]:
    question = question.strip()
    if not question:
        return {"question": ""}
    found = answers.suggestions_for(staff.organisation, question)
    return {
        "question": question,
        "rows": [TryRow(match, round(match.confidence * 100)) for match in found.matches],
        "similar": found.similar,
        "threshold": round(answers.retrieval.CONFIDENT * 100),
    }


@staff_required()
def faq_list(request: HttpRequest) -> HttpResponse:
    """Every entry the staff member may see, with what state it answers in; a search over
    questions and answers; and the try box."""
    staff = _staff(request)
    search = request.GET.get("search", "").strip()[:200]
    today = selectors.today(staff.organisation)
    rows = [
        EntryRow(entry, _state(entry, today), actions.may_edit(staff, entry))
        for entry in selectors.entries(staff, search=search)
    ]
    try_form = TryForm(request.GET or None)
    question = try_form.cleaned_data["q"] if try_form.is_valid() else ""
    return render(
        request,
        "faq/list.html",
        {
            "rows": rows,
            "search": search,
            "try_form": try_form,
            "may_add": staff.can(actions.MANAGE_FAQ),
            **_tried(staff, question),
        },
    )


@staff_required()
def faq_try(request: HttpRequest) -> HttpResponse:
    """The try box's results: a fragment for HTMX, else the list page showing them."""
    if not request.htmx:  # type: ignore[attr-defined]
        return faq_list(request)
    staff = _staff(request)
    form = TryForm(request.GET)
    question = form.cleaned_data["q"] if form.is_valid() else ""
    return render(request, "faq/_try.html", _tried(staff, question))


def _form_page(
    request: HttpRequest, form: FaqEntryForm, entry: FaqEntry | None, status: int = 200
) -> HttpResponse:
    return render(request, "faq/form.html", {"form": form, "entry": entry}, status=status)


@staff_required(actions.MANAGE_FAQ)
def faq_create(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    form = FaqEntryForm(request.POST or None, staff=staff)
    if request.method == "POST":
        if form.is_valid():
            try:
                entry = actions.create_entry(staff, staff.organisation, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("FAQ entry “%(name)s” added.") % {"name": entry})
                return redirect("faq:list")
        return _form_page(request, form, None, status=400)
    return _form_page(request, form, None)


def _entry(staff: Staff, pk: int) -> FaqEntry:
    return get_object_or_404(selectors.entries(staff), pk=pk)


@staff_required(actions.MANAGE_FAQ)
def faq_edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    entry = _entry(staff, pk)
    initial = {
        "questions": entry.questions,
        "answer": entry.answer,
        "department": entry.department,
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
    }
    form = FaqEntryForm(request.POST or None, staff=staff, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                entry = actions.edit_entry(staff, entry, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("FAQ entry “%(name)s” saved.") % {"name": entry})
                return redirect("faq:list")
        return _form_page(request, form, entry, status=400)
    return _form_page(request, form, entry)


@require_POST
@staff_required(actions.MANAGE_FAQ)
def faq_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ENTRY_ACTIONS:
        raise Http404
    staff = _staff(request)
    entry = _entry(staff, pk)
    if action == "retire":
        actions.retire_entry(staff, entry)
        messages.success(
            request, _("FAQ entry “%(name)s” retired: it no longer answers.") % {"name": entry}
        )
    else:
        actions.restore_entry(staff, entry)
        messages.success(request, _("FAQ entry “%(name)s” answers again.") % {"name": entry})
    return redirect("faq:list")
