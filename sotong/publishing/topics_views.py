"""Settings: the organisation's topic tags (관광, 축제, …) — add, rename, retire or restore,
and put them in order. For the PR office and administrators; the actions check permissions
and rules, these pages parse input and render."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sotong.core.models import Staff
from sotong.publishing import actions
from sotong.publishing.forms import TopicForm
from sotong.publishing.models import Post, Topic
from sotong.publishing.views import _add_errors, _staff
from sotong.web.decorators import staff_required

TOPIC_ACTIONS = ("retire", "restore", "up", "down")


@dataclass
class TopicRow:
    topic: Topic
    posts: int
    first: bool
    last: bool
    # What was typed into this row's rename box, and why it was refused.
    typed: str = ""
    errors: list[str] = field(default_factory=list)


def _rows(
    staff: Staff, failed: Topic | None = None, typed: str = "", errors: list[str] | None = None
) -> list[TopicRow]:
    counts: dict[str, int] = {}
    for topics in Post.objects.for_organisation(staff.organisation_id).values_list(
        "topics", flat=True
    ):
        for name in topics or []:
            counts[name] = counts.get(name, 0) + 1
    topics = list(actions.topics_of(staff.organisation_id))
    rows = []
    for index, topic in enumerate(topics):
        row = TopicRow(topic, counts.get(topic.name, 0), index == 0, index == len(topics) - 1)
        if failed is not None and topic.pk == failed.pk:
            row.typed, row.errors = typed, errors or []
        rows.append(row)
    return rows


def _render(
    request: HttpRequest, form: TopicForm, rows: list[TopicRow], status: int = 200
) -> HttpResponse:
    return render(
        request,
        "topics/list.html",
        {"form": form, "rows": rows, "staff": _staff(request)},
        status=status,
    )


@staff_required(actions.MANAGE_TOPICS)
def topic_list(request: HttpRequest) -> HttpResponse:
    """The topics in order, and a form that adds one at the end."""
    staff = _staff(request)
    form = TopicForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                topic = actions.add_topic(staff, staff.organisation, form.cleaned_data["name"])
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Topic %(name)s added.") % {"name": topic.name})
                return redirect("topics:list")
        return _render(request, form, _rows(staff), status=400)
    return _render(request, form, _rows(staff))


def _topic(staff: Staff, pk: int) -> Topic:
    return get_object_or_404(Topic.objects.for_staff(staff), pk=pk)


@require_POST
@staff_required(actions.MANAGE_TOPICS)
def topic_rename(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    topic = _topic(staff, pk)
    old = topic.name
    typed = request.POST.get("name", "")
    try:
        topic = actions.rename_topic(staff, topic, typed)
    except ValidationError as error:
        problems = [str(message) for message in error.messages]
        return _render(request, TopicForm(), _rows(staff, topic, typed, problems), status=400)
    if topic.name != old:
        messages.success(
            request, _("Topic %(old)s renamed to %(name)s.") % {"old": old, "name": topic.name}
        )
    return redirect("topics:list")


@require_POST
@staff_required(actions.MANAGE_TOPICS)
def topic_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in TOPIC_ACTIONS:
        raise Http404
    staff = _staff(request)
    topic = _topic(staff, pk)
    if action == "retire":
        actions.retire_topic(staff, topic)
        messages.success(
            request,
            _("Topic %(name)s is no longer offered; posts that have it keep it.")
            % {"name": topic.name},
        )
    elif action == "restore":
        actions.restore_topic(staff, topic)
        messages.success(request, _("Topic %(name)s is offered again.") % {"name": topic.name})
    else:
        actions.move_topic(staff, topic, up=action == "up")
    # Back to the row that moved, so keyboard users keep their place.
    return redirect(f"{reverse('topics:list')}#topic-{topic.pk}")
