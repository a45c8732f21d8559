"""Changes after publishing (edits and withdrawals carried to the platforms) tell the
right people when a person is needed: held by the channel, failed, unanswered twice, or
to be made by hand. And an approved post that changes asks its approvers again."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sotong.channels.models import Channel
from sotong.conftest import SYSTEM, department
from sotong.core.roles import Role
from sotong.notifications.models import Notification, NotificationKind
from sotong.notifications.tests.test_hooks import names, told
from sotong.platforms.base import OutcomeUnknown
from sotong.publishing import actions, propagation
from sotong.publishing.models import ChangeState, PostStatus, Publication, PublicationChange
from sotong.publishing.tests.test_actions import connect, write
from sotong.publishing.tests.test_propagation import NEW_TEXT, published
from sotong.simulator.core import Fault, FaultKind


def unread(kind: str) -> set[str]:
    return set(
        Notification.objects.filter(kind=kind, read_at__isnull=True).values_list(
            "recipient__display_name", flat=True
        )
    )


def test_edits_by_hand_tell_the_posts_owners_once_per_post(city, sim, people) -> None:
    x = connect(city, sim, "x")
    band = connect(city, sim, "band")
    post, _publications = published(people["author"], people["editor"], city, [x, band])
    for variant in post.variants.all():
        actions.edit_published(people["author"], variant, "짧게 고친 안내입니다.")
    actions.approve(people["editor"], post)
    assert PublicationChange.objects.filter(state=ChangeState.BY_HAND).count() == 2
    # The author and the other publisher; not the approver who made the tasks (the page
    # shows them), nor another department, a colleague, a viewer or a login that is off.
    assert told(NotificationKind.EDIT_BY_HAND) == names(people, "author", "admin")
    # Two channels, one notice each, naming both.
    assert Notification.objects.filter(kind=NotificationKind.EDIT_BY_HAND).count() == 2
    notice = Notification.objects.get(
        kind=NotificationKind.EDIT_BY_HAND, recipient=people["author"]
    )
    assert x.name in notice.title
    assert band.name in notice.title
    assert notice.link == f"/posts/{post.pk}/"
    assert "직접" in notice.body
    # One task confirmed: the notice stands for the other; both confirmed: it is read.
    first, second = PublicationChange.objects.order_by("pk")
    propagation.confirm_change(people["editor"], first)
    assert unread(NotificationKind.EDIT_BY_HAND) == names(people, "author", "admin")
    propagation.confirm_change(people["editor"], second)
    assert unread(NotificationKind.EDIT_BY_HAND) == set()


def test_a_deletion_by_hand_tells_the_owners_but_the_withdrawer(city, sim, people) -> None:
    kakao = connect(city, sim, "kakao")
    post = write(people["author"], city, [kakao])
    actions.submit(people["author"], post)
    actions.approve(people["editor"], post)
    actions.confirm(people["editor"], Publication.objects.get(), url="https://pf.kakao.com/_x/7")
    actions.withdraw(people["admin"], post, reason="오타")
    assert told(NotificationKind.DELETE_BY_HAND) == names(people, "author", "editor")
    notice = Notification.objects.get(
        kind=NotificationKind.DELETE_BY_HAND, recipient=people["editor"]
    )
    assert notice.title == f"{kakao.name}에서 직접 삭제: “{post.title}”"
    # Automatic changes are no task: an edit the platform makes tells nobody.
    assert not Notification.objects.filter(kind=NotificationKind.EDIT_BY_HAND).exists()


def test_a_refused_change_tells_the_owners_and_who_asked_once(city, sim, people) -> None:
    telegram = connect(city, sim, "telegram")
    post, (publication,) = published(people["author"], people["editor"], city, [telegram])
    actions.edit_published(people["author"], post.variants.get(), NEW_TEXT)
    actions.approve(people["editor"], post)
    for chat in sim.simulator["telegram"].chats.values():  # deleted in the channel
        chat.messages.pop(int(publication.external_id.split(",")[0]), None)
    assert propagation.propagate_due().failed == 1
    assert told(NotificationKind.CHANGE_FAILED) == names(people, "author", "editor", "admin")
    notice = Notification.objects.get(
        kind=NotificationKind.CHANGE_FAILED, recipient=people["author"]
    )
    assert telegram.name in notice.title
    assert "not found" in notice.body
    change = PublicationChange.objects.get()
    from sotong.notifications import actions as notifications

    notifications.notify_change_failed(change)  # the same failure again: nobody twice
    assert Notification.objects.filter(kind=NotificationKind.CHANGE_FAILED).count() == 3
    propagation.confirm_change(people["editor"], change)  # made by hand: answered
    assert unread(NotificationKind.CHANGE_FAILED) == set()


def test_a_held_change_tells_the_channels_owners_the_author_and_who_asked(
    city, sim, people
) -> None:
    facebook = connect(city, sim, "facebook")
    post, _publications = published(people["author"], people["editor"], city, [facebook])
    # A sewer channel: its owners are the sewer staff and the administrators; the PR
    # editor who withdraws the post hears of it only because they asked for the change.
    Channel.objects.filter(pk=facebook.pk).update(department=department(city, "sewer"))
    actions.withdraw(people["editor"], post, reason="잘못된 안내")
    sim.simulator.inject("facebook", Fault(FaultKind.TOKEN_EXPIRED))
    assert propagation.propagate_due().held == 1
    assert told(NotificationKind.CHANNEL_HELD) == names(
        people, "admin", "author", "colleague", "editor"
    )
    assert Notification.objects.filter(kind=NotificationKind.CHANNEL_HELD).count() == 4


def test_an_unanswered_change_is_told_once_when_it_stays_unanswered(city, sim, people) -> None:
    facebook = connect(city, sim, "facebook")
    post, _publications = published(people["author"], people["editor"], city, [facebook])
    actions.withdraw(people["editor"], post, reason="철회")
    change = PublicationChange.objects.get()
    for attempt in (1, 2, 3):
        PublicationChange.objects.filter(pk=change.pk).update(
            state=ChangeState.APPLYING, attempts=attempt
        )
        change.refresh_from_db()
        with transaction.atomic():
            state = propagation._record(change, OutcomeUnknown("no answer"), timezone.now(), "")
        assert state == ChangeState.UNCONFIRMED
        if attempt == 1:  # made again in a minute by itself: nobody needed yet
            assert not Notification.objects.filter(
                kind=NotificationKind.CHANGE_UNCONFIRMED
            ).exists()
    # Once, for the post's owners and who asked, though it went unanswered twice.
    assert told(NotificationKind.CHANGE_UNCONFIRMED) == names(people, "author", "editor", "admin")
    assert Notification.objects.filter(kind=NotificationKind.CHANGE_UNCONFIRMED).count() == 3
    propagation.confirm_change(people["admin"], change)
    assert unread(NotificationKind.CHANGE_UNCONFIRMED) == set()


def test_editing_an_approved_post_asks_the_approvers_again_but_the_editor(city, people) -> None:
    facebook = Channel.objects.create(
        organisation=city, kind="facebook", name="순천시 페이스북", account_id="1"
    )
    post = write(people["author"], city, [facebook])
    actions.submit(people["author"], post, publish_at=timezone.now() + dt.timedelta(hours=2))
    actions.approve(people["editor"], post)
    assert unread(NotificationKind.REVIEW_REQUESTED) == set()
    actions.edit_variant(people["editor"], post.variants.get(), "승인 뒤 고친 안내입니다.")
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    # The other approver is asked; the editor who changed it is not, nor the author.
    assert unread(NotificationKind.REVIEW_REQUESTED) == names(people, "admin")
    actions.edit_variant(people["author"], post.variants.get(), "한 번 더 고친 안내입니다.")
    # Still the same request, not a second one.
    assert Notification.objects.filter(kind=NotificationKind.REVIEW_REQUESTED).count() == 3


def test_an_edit_midway_through_a_chain_asks_its_first_step_again(city, people, make_staff) -> None:
    head = make_staff(city, Role.PR_EDITOR, "sewer")
    actions.add_approval_step(SYSTEM, city, name="부서장 검토", rule="any", approvers=[head])
    actions.add_approval_step(
        SYSTEM, city, name="홍보 승인", rule="any", approvers=[people["editor"]]
    )
    facebook = Channel.objects.create(
        organisation=city, kind="facebook", name="순천시 페이스북", account_id="1"
    )
    post = write(people["author"], city, [facebook])
    actions.submit(people["author"], post, publish_at=timezone.now() + dt.timedelta(hours=2))
    actions.approve(head, post)
    assert unread(NotificationKind.REVIEW_REQUESTED) == {people["editor"].display_name}
    actions.edit_variant(people["author"], post.variants.get(), "검토 중에 고친 안내입니다.")
    # The head approved the old text: asked again; the second step waits its turn.
    assert unread(NotificationKind.REVIEW_REQUESTED) == {head.display_name}
    assert not told(NotificationKind.REVIEW_REQUESTED) & names(people, "author")
