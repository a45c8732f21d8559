"""Email after the commit (never blocking, retried after a failure), and the page where
each staff member reads only their own notices."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from sotong.core.roles import Role
from sotong.notifications import actions
from sotong.notifications.models import Notification, NotificationKind

IMMEDIATE = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "platform", "maintenance"],
    }
}


@pytest.fixture
def editor(city, make_staff):
    staff = make_staff(city, Role.PR_EDITOR, "pr")
    staff.user.email = "editor@suncheon.example"
    staff.user.save(update_fields=["email"])
    return staff


@pytest.fixture
def author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def mailing(settings):
    settings.SOTONG_EMAIL_NOTIFICATIONS = True
    settings.TASKS = IMMEDIATE
    settings.SOTONG_PUBLIC_URL = "https://sotong.suncheon.example"
    return settings


def held(city, *people, key: str = "post_held:1") -> list[Notification]:
    return actions.notify(
        people,
        NotificationKind.POST_HELD,
        organisation=city,
        link="/posts/1/",
        params={"post": "조례동 공사 안내", "due": "2026-11-24 09:00"},
        dedupe_key=key,
    )


def test_email_goes_after_the_commit_to_who_has_an_address(
    city, editor, author, mailing, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        held(city, editor, author)
        assert mail.outbox == []  # nothing is mailed inside the transaction
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1  # the author has no address
    message = mail.outbox[0]
    assert message.to == ["editor@suncheon.example"]
    assert message.subject == "[순천시] 보류됨: “조례동 공사 안내”"
    assert "https://sotong.suncheon.example/posts/1/" in message.body
    notice = Notification.objects.get(recipient=editor)
    assert notice.emailed_at is not None
    # Sent once: the sweep does not send it again.
    assert actions.send_pending_emails() == 0
    assert len(mail.outbox) == 1


def test_no_email_when_turned_off(
    city, editor, mailing, django_capture_on_commit_callbacks
) -> None:
    mailing.SOTONG_EMAIL_NOTIFICATIONS = False
    with django_capture_on_commit_callbacks(execute=True):
        held(city, editor)
    assert mail.outbox == []
    assert actions.send_pending_emails() == 0
    assert Notification.objects.get().emailed_at is None  # the notice stands


def test_a_mail_failure_is_logged_and_retried_by_the_sweep(
    city, editor, mailing, django_capture_on_commit_callbacks, caplog
) -> None:
    mailing.MAILERS = {"default": {"BACKEND": "sotong.notifications.tests.failing.EmailBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        (notice,) = held(city, editor)
    notice.refresh_from_db()
    assert (notice.emailed_at, notice.email_attempts) == (None, 1)
    assert "email not sent" in caplog.text
    assert "editor@suncheon.example" not in caplog.text  # no address in the log
    mailing.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert actions.send_pending_emails() == 1
    notice.refresh_from_db()
    assert notice.emailed_at is not None
    assert notice.email_attempts == 2


def test_a_notice_read_before_its_email_went_is_not_mailed(city, editor, mailing) -> None:
    (notice,) = held(city, editor)
    actions.mark_read(editor, notice.pk)
    assert actions.send_email(notice.pk) is False
    assert mail.outbox == []


def test_the_page_lists_only_ones_own_newest_first(client, city, editor, author) -> None:
    held(city, editor, key="a")
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    actions.notify(
        [editor],
        NotificationKind.FEED_FAILED,
        organisation=city,
        params={"series": "주간꿀팁", "error": "3행 날짜 오류"},
    )
    held(city, author, key="b")
    Notification.objects.filter(recipient=author).update(params={"post": "남의 글", "due": ""})
    client.force_login(editor.user)
    html = client.get(reverse("notifications:list")).content.decode()
    assert html.index("주간꿀팁") < html.index("조례동 공사 안내")
    assert "남의 글" not in html
    assert 'class="unread"' in html
    # The bell counts the unread in its accessible name.
    assert "알림: 읽지 않음 2건" in html


def test_marking_read_one_and_all(client, city, editor) -> None:
    first, second = held(city, editor, key="a") + held(city, editor, key="b")
    client.force_login(editor.user)
    response = client.post(
        reverse("notifications:read", args=[first.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="notice-{first.pk}"' in html
    assert 'hx-swap-oob="true"' in html
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None
    assert second.read_at is None
    assert actions.unread_count(editor) == 1
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert actions.unread_count(editor) == 0


def test_nobody_marks_anothers_notice(client, city, editor, author) -> None:
    (theirs,) = held(city, author)
    client.force_login(editor.user)
    assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("notifications:read", args=[theirs.pk])).status_code == 405
    client.post(reverse("notifications:read_all"))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_page_needs_a_sign_in(client) -> None:
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
