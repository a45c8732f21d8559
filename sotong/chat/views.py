"""Staff pages of the KakaoTalk chat: the conversations (who is served by the bot, who waits
for a person), one conversation's transcript with the hand back to the bot, and the
chatbot's settings (menu, greeting, consent notice)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sotong.chat import actions, sessions
from sotong.chat.forms import ChatSettingsForm, MenuFormSet
from sotong.chat.models import ChatSession, Owner
from sotong.core.models import Staff
from sotong.core.roles import Capability
from sotong.web.decorators import staff_required

PAGE = 50


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


def _may_handle(staff: Staff) -> bool:
    return staff.can(Capability.REPLY) or staff.can(Capability.ASSIGN_CASES)


@staff_required()
def conversation_list(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    if not _may_handle(staff):
        raise PermissionDenied
    owner = request.GET.get("owner", "")
    found = ChatSession.objects.for_staff(staff).select_related("channel", "case")
    if owner in Owner.values:
        found = found.filter(owner=owner)
    found = found.order_by("-last_active_at", "-pk")
    page = Paginator(found, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "chat/list.html",
        {
            "page": page,
            "owner": owner,
            "owners": Owner.choices,
            "waiting": ChatSession.objects.for_staff(staff).filter(owner=Owner.STAFF).count(),
        },
    )


@staff_required()
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    if not _may_handle(staff):
        raise PermissionDenied
    session = get_object_or_404(
        ChatSession.objects.for_staff(staff).select_related("channel", "case"), pk=pk
    )
    turns = list(session.transcript.order_by("-at", "-pk")[:200])
    turns.reverse()
    return render(
        request,
        "chat/detail.html",
        {"session": session, "turns": turns, "staff_owned": session.owner == Owner.STAFF},
    )


@require_POST
@staff_required()
def hand_back(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    session = get_object_or_404(ChatSession.objects.for_staff(staff), pk=pk)
    actions.hand_back_to_bot(staff, session)
    messages.success(request, _("The chatbot answers this citizen again."))
    return redirect("chat:detail", pk=session.pk)


@staff_required()
def chat_settings(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    if not actions.may_manage_settings(staff):
        raise PermissionDenied
    current = sessions.settings_for(staff.organisation_id)
    initial_menu = [
        {"label": item.label, "action": item.action, "value": item.value}
        for item in sessions.menu_of(current)
    ]
    # Blank rows to add items, up to the most KakaoTalk shows.
    blank: list[dict[str, str]] = [{}] * (sessions.MENU_MAX - len(initial_menu))
    if request.method == "POST":
        form = ChatSettingsForm(request.POST)
        menu = MenuFormSet(request.POST, prefix="menu")
        if form.is_valid() and menu.is_valid():
            try:
                actions.update_settings(
                    staff,
                    staff.organisation,
                    greeting=form.cleaned_data["greeting"],
                    menu=[row for row in menu.cleaned_data if row],
                    consent_text=form.cleaned_data["consent_text"],
                    retention_years=form.cleaned_data["retention_years"],
                    idle_minutes=form.cleaned_data["idle_minutes"],
                )
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                messages.success(request, _("Chatbot settings saved."))
                return redirect("chat:settings")
    else:
        form = ChatSettingsForm(
            initial={
                "greeting": current.greeting,
                "consent_text": current.consent_text,
                "retention_years": current.retention_years,
                "idle_minutes": current.idle_minutes,
            }
        )
        menu = MenuFormSet(initial=initial_menu + blank, prefix="menu")
    return render(request, "chat/settings.html", {"form": form, "menu": menu, "staff": staff})
