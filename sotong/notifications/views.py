"""The notices page: each staff member's own, newest first."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sotong.core.models import Staff
from sotong.notifications import actions
from sotong.notifications.models import Notification
from sotong.web.decorators import staff_required

PAGE_SIZE = 50


def _staff(request: HttpRequest) -> Staff:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    return staff


@staff_required()
def notification_list(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    notices = Notification.objects.for_recipient(staff).order_by("-created_at", "-id")
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread": actions.unread_count(staff)},
    )


@require_POST
@staff_required()
def read(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff(request)
    try:
        notification = actions.mark_read(staff, pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "notifications/_item.html",
            {
                "notice": notification,
                "unread_notifications": actions.unread_count(staff),
                "oob": True,
            },
        )
    return redirect("notifications:list")


@require_POST
@staff_required()
def read_all(request: HttpRequest) -> HttpResponse:
    count = actions.mark_all_read(_staff(request))
    if count:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications:list")
