"""Each place where something needs a person leaves a notice for the right people, and
only for them: not another department's author, not staff whose login is off."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sotong.channels import actions as channel_actions
from sotong.channels.models import Channel, ChannelStatus
from sotong.conftest import SYSTEM, department
from sotong.core.roles import Role
from sotong.notifications.models import Notification, NotificationKind
from sotong.publishing import actions, dispatch
from sotong.publishing import series as series_actions
from sotong.publishing.models import PublicationState, SeriesKind
from sotong.publishing.series import SeriesSettings
from sotong.publishing.tests.test_actions import PAGE_ID, approved_and_due, connect, write
from sotong.publishing.tests.test_series import make_series, seoul
from sotong.simulator.core import Fault, FaultKind


def told(kind: str) -> set[str]:
    """Display names of who got a notice of ``kind``."""
    return set(
        Notification.objects.filter(kind=kind).values_list("recipient__display_name", flat=True)
    )


def names(people, *keys: str) -> set[str]:
    return {people[key].display_name for key in keys}


def test_a_post_held_for_want_of_approval_tells_its_owners_once(city, sim, people) -> None:
    facebook = connect(city, sim, "facebook")
    band = connect(city, sim, "band")
    post = write(people["author"], city, [facebook, band])
    actions.submit(people["author"], post, publish_at=timezone.now() - dt.timedelta(seconds=1))
    assert dispatch.dispatch_due().held == 2
    # The author and who approves and publishes; not another department's author, not a
    # colleague, a viewer or someone whose login is off. Once, for both channels.
    assert told(NotificationKind.POST_HELD) == names(people, "author", "editor", "admin")
    assert Notification.objects.filter(kind=NotificationKind.POST_HELD).count() == 3
    notice = Notification.objects.get(kind=NotificationKind.POST_HELD, recipient=people["author"])
    assert notice.link == f"/posts/{post.pk}/"
    assert notice.title == f"보류됨: “{post.title}”"
    assert "게시 시각" in notice.body


def test_a_refused_post_tells_its_author_the_platforms_reason(city, sim, people) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(people["author"], city, [facebook])
    approved_and_due(people["author"], people["editor"], post)
    sim.simulator["facebook"].add_post(PAGE_ID, post.variants.get().text)  # a duplicate
    assert dispatch.dispatch_due().failed == 1
    assert told(NotificationKind.PUBLICATION_FAILED) == names(people, "author")
    notice = Notification.objects.get(kind=NotificationKind.PUBLICATION_FAILED)
    assert "506" in notice.body
    assert facebook.name in notice.title


def test_an_expired_credential_tells_the_channels_owners_and_the_author(city, sim, people) -> None:
    facebook = connect(city, sim, "facebook")
    for number in range(2):
        post = write(
            people["author"], city, [facebook], title=f"공지 {number}", body=f"본문 {number}"
        )
        approved_and_due(people["author"], people["editor"], post)
    sim.simulator.inject("facebook", Fault(FaultKind.TOKEN_EXPIRED))
    dispatch.dispatch_due()
    facebook.refresh_from_db()
    assert facebook.status == ChannelStatus.NEEDS_RECONNECT
    # The city's own channel: the administrators and the PR office; the held post's author.
    assert told(NotificationKind.CHANNEL_HELD) == names(people, "admin", "editor", "author")
    # Two posts held, the channel marked once: one notice each.
    assert Notification.objects.filter(kind=NotificationKind.CHANNEL_HELD).count() == 3
    assert (
        Notification.objects.get(kind=NotificationKind.CHANNEL_HELD, recipient=people["admin"]).link
        == f"/settings/channels/{facebook.pk}/"
    )


def test_a_paused_channel_holds_without_telling_anyone(city, sim, people) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(people["author"], city, [facebook])
    approved_and_due(people["author"], people["editor"], post)
    channel_actions.pause_channel(people["admin"], facebook, reason="점검")
    assert dispatch.dispatch_due().held == 1
    assert not Notification.objects.filter(kind=NotificationKind.CHANNEL_HELD).exists()


def test_a_department_channels_owners_are_its_staff_and_the_administrators(
    city, sim, people
) -> None:
    facebook = connect(city, sim, "facebook")
    Channel.objects.filter(pk=facebook.pk).update(department=department(city, "sewer"))
    facebook.refresh_from_db()
    channel_actions._set_status(facebook, ChannelStatus.NEEDS_RECONNECT, "토큰 만료", None)
    assert told(NotificationKind.CHANNEL_HELD) == names(people, "admin", "author", "colleague")


def test_an_unconfirmed_post_left_to_a_person_tells_its_owners(city, sim, people) -> None:
    telegram = connect(city, sim, "telegram")
    post = write(people["author"], city, [telegram])
    approved_and_due(people["author"], people["editor"], post)
    dispatch.claim_due(timezone.now())  # a worker died holding it
    dispatch.dispatch_due(timezone.now() + dispatch.CLAIM_LEASE + dt.timedelta(seconds=1))
    assert post.publications().get().state == PublicationState.UNCONFIRMED
    assert told(NotificationKind.PUBLICATION_UNCONFIRMED) == names(
        people, "author", "editor", "admin"
    )


def test_an_expiring_credential_is_told_a_week_ahead_once(city, sim, people) -> None:
    facebook = connect(city, sim, "facebook")
    Channel.objects.filter(pk=facebook.pk).update(
        credential_expires_at=timezone.now() + dt.timedelta(days=5)
    )
    for _day in range(3):  # the daily check, three days running
        channel_actions.warn_of_expiring_credentials()
    assert told(NotificationKind.CREDENTIAL_EXPIRING) == names(people, "admin", "editor")
    assert Notification.objects.filter(kind=NotificationKind.CREDENTIAL_EXPIRING).count() == 2


def test_missing_permissions_are_told_once_while_unread(city, sim, people) -> None:
    from sotong.notifications.actions import notify_missing_permissions

    facebook = connect(city, sim, "facebook")
    facebook.missing_scopes = ["pages_manage_posts"]
    for _check in range(2):
        notify_missing_permissions(facebook)
    notices = Notification.objects.filter(kind=NotificationKind.CHANNEL_PERMISSIONS)
    assert notices.count() == 2
    assert "pages_manage_posts" in notices.first().body


def test_dedupe_lets_the_same_condition_through_again_after_a_day_once_read(city, people) -> None:
    from sotong.notifications.actions import notify

    def again() -> int:
        return len(
            notify(
                [people["editor"]],
                NotificationKind.FEED_FAILED,
                organisation=city,
                params={"series": "s", "error": "e"},
                dedupe_key="feed_failed:1",
            )
        )

    assert again() == 1
    assert again() == 0  # unread
    Notification.objects.update(
        read_at=timezone.now(), created_at=timezone.now() - dt.timedelta(hours=2)
    )
    assert again() == 0  # read, but the same day
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    assert again() == 1


def test_a_queue_running_dry_and_an_empty_occurrence_tell_the_series_owners(city, people) -> None:
    facebook = Channel.objects.create(
        organisation=city, kind="facebook", name="순천시 페이스북", account_id="1"
    )
    series = make_series(people["author"], city, [facebook], skip_holidays=False)
    series_actions.materialise(series, now=seoul(2027, 1, 31, 10))
    owners = names(people, "author", "colleague", "admin")
    assert told(NotificationKind.SERIES_QUEUE_LOW) == owners
    # Monday's occurrence and the one after it, each told to the three owners once.
    low = Notification.objects.filter(kind=NotificationKind.SERIES_QUEUE_LOW)
    assert low.count() == 6
    series_actions.materialise(series, now=seoul(2027, 1, 31, 11))
    assert low.count() == 6
    series_actions.materialise(series, now=seoul(2027, 2, 1, 9, 1))
    assert told(NotificationKind.SERIES_SKIPPED) == owners
    notice = Notification.objects.filter(kind=NotificationKind.SERIES_SKIPPED).first()
    assert "2027-02-01 09:00" in notice.body
    assert "대기열이 비어" in notice.body


def test_a_feed_that_fails_to_parse_is_reported_to_the_owners_but_the_uploader(
    city, people
) -> None:
    facebook = Channel.objects.create(
        organisation=city, kind="facebook", name="순천시 페이스북", account_id="1"
    )
    series = series_actions.create_series(
        people["author"],
        city,
        kind=SeriesKind.FEED,
        values=SeriesSettings(
            name="오늘의 공사",
            department=department(city, "sewer"),
            channels=[facebook],
            rule="FREQ=DAILY;BYHOUR=8;BYMINUTE=0",
            starts_at=seoul(2027, 1, 1),
            title_template="{{ date }} 공사",
            body_template="{% for row in rows %}{{ row.location }}{% endfor %}",
        ),
    )
    version = series_actions.upload_feed(
        people["author"], series, name="sites.csv", content=b"date,location\n2027-13-45,x\n"
    )
    assert version.error
    assert told(NotificationKind.FEED_FAILED) == names(people, "colleague", "admin")
    assert version.error[:40] in Notification.objects.filter(
        kind=NotificationKind.FEED_FAILED
    ).first().body.replace("\n", " ")


def test_submitting_asks_the_approvers_and_a_decision_answers_the_author(city, people) -> None:
    facebook = Channel.objects.create(
        organisation=city, kind="facebook", name="순천시 페이스북", account_id="1"
    )
    post = write(people["author"], city, [facebook])
    actions.submit(people["author"], post, publish_at=timezone.now() + dt.timedelta(hours=2))
    assert told(NotificationKind.REVIEW_REQUESTED) == names(people, "editor", "admin")
    actions.request_changes(people["editor"], post, comment="사진을 바꿔 주세요")
    assert told(NotificationKind.CHANGES_REQUESTED) == names(people, "author")
    assert (
        "사진을 바꿔 주세요"
        in Notification.objects.get(kind=NotificationKind.CHANGES_REQUESTED).body
    )
    # The request was answered: nobody is asked any more.
    assert not Notification.objects.filter(
        kind=NotificationKind.REVIEW_REQUESTED, read_at__isnull=True
    ).exists()
    post.refresh_from_db()
    actions.submit(people["author"], post)
    assert (
        Notification.objects.filter(
            kind=NotificationKind.REVIEW_REQUESTED, read_at__isnull=True
        ).count()
        == 2
    )  # asked again for the new round
    actions.reject(people["admin"], post, comment="시기가 맞지 않습니다")
    assert told(NotificationKind.POST_REJECTED) == names(people, "author")


def test_an_approval_chain_asks_each_step_in_turn(city, people, make_staff) -> None:
    head = make_staff(city, Role.PR_EDITOR, "sewer")
    first = actions.add_approval_step(
        SYSTEM, city, name="부서장 검토", rule="any", approvers=[head]
    )
    actions.add_approval_step(
        SYSTEM, city, name="홍보 승인", rule="any", approvers=[people["editor"]]
    )
    assert first.pk
    facebook = Channel.objects.create(
        organisation=city, kind="facebook", name="순천시 페이스북", account_id="1"
    )
    post = write(people["author"], city, [facebook])
    actions.submit(people["author"], post, publish_at=timezone.now() + dt.timedelta(hours=2))
    unread = Notification.objects.filter(
        kind=NotificationKind.REVIEW_REQUESTED, read_at__isnull=True
    )
    assert set(unread.values_list("recipient", flat=True)) == {head.pk}
    actions.approve(head, post)
    assert set(unread.values_list("recipient", flat=True)) == {people["editor"].pk}
    actions.approve(people["editor"], post)
    assert not unread.exists()
