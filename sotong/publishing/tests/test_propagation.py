"""Edits and withdrawals after publishing, against the platform simulator: where the
platform allows it the worker makes the change, elsewhere a person does and confirms; the
post's history records every version."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sotong.channels import actions as channel_actions
from sotong.channels.models import ChannelStatus
from sotong.conftest import department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.publishing import actions, dispatch, propagation
from sotong.publishing.models import (
    ChangeKind,
    ChangeState,
    PostRevision,
    PostStatus,
    Publication,
    PublicationChange,
    PublicationState,
    RevisionReason,
    RevisionsAreAppendOnly,
)
from sotong.publishing.tests.test_actions import connect, write
from sotong.simulator.core import Fault, FaultKind

NEW_TEXT = "공사 기간이 11.30.까지로 늘었습니다. 우회도로를 이용해 주세요."


@pytest.fixture
def author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


def on_platform(sim, publication: Publication) -> dict[str, Any] | None:
    """The post as the simulated platform holds it now (None once deleted)."""
    kind, pid = publication.channel.kind, publication.external_id
    platform = sim.simulator[kind]
    if kind == "facebook":
        obj = platform.objects.get(pid)
        found = obj and {"text": obj["message"], "deleted": obj.get("deleted", False)}
    elif kind == "mastodon":
        obj = platform.statuses.get(pid)
        found = obj and {"text": obj["text"], "deleted": obj["deleted"]}
    elif kind == "telegram":
        message_id = int(pid.split(",")[0])
        messages = [
            c.messages[message_id] for c in platform.chats.values() if message_id in c.messages
        ]
        found = messages and {"text": messages[0].get("text", ""), "deleted": False}
    elif kind == "band":
        obj = platform.posts.get(pid)
        found = obj and {"text": obj["content"], "deleted": obj["deleted"]}
    else:
        obj = platform.tweets.get(pid)
        found = obj and {"text": obj["text"], "deleted": obj["deleted"]}
    return None if not found or found["deleted"] else found


def published(author, editor, city, channels) -> tuple[Any, list[Publication]]:
    post = write(author, city, channels)
    actions.submit(author, post, publish_at=timezone.now() - dt.timedelta(seconds=1))
    actions.approve(editor, post)
    dispatch.dispatch_due()
    publications = list(Publication.objects.filter(variant__post=post).select_related("channel"))
    assert {p.state for p in publications} == {PublicationState.PUBLISHED}
    return post, publications


def edit_and_approve(author, editor, post, kind: str, text: str = NEW_TEXT) -> None:
    variant = post.variants.get(channel__kind=kind)
    actions.edit_published(author, variant, text)
    actions.approve(editor, post)


@pytest.mark.parametrize("kind", ["facebook", "mastodon", "telegram"])
def test_an_approved_edit_reaches_the_platform(city, sim, author, editor, kind) -> None:
    channel = connect(city, sim, kind)
    post, (publication,) = published(author, editor, city, [channel])
    edit_and_approve(author, editor, post, kind)
    change = PublicationChange.objects.get()
    assert (change.kind, change.state) == (ChangeKind.EDIT, ChangeState.PENDING)
    result = propagation.propagate_due()
    assert (result.claimed, result.done) == (1, 1)
    change.refresh_from_db()
    publication.refresh_from_db()
    assert change.state == ChangeState.DONE
    assert publication.state == PublicationState.PUBLISHED
    assert publication.platform_text == NEW_TEXT
    assert on_platform(sim, publication)["text"].startswith(NEW_TEXT)
    assert propagation.propagate_due().claimed == 0  # made once
    assert AuditEntry.objects.filter(action="publication.edit").count() == 1


def test_re_approval_is_required_before_an_edit_goes_out(city, sim, author, editor) -> None:
    facebook = connect(city, sim, "facebook")
    post, (publication,) = published(author, editor, city, [facebook])
    old = on_platform(sim, publication)["text"]
    actions.edit_published(author, post.variants.get(), NEW_TEXT)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED  # stays out meanwhile
    assert propagation.propagate_due().claimed == 0
    assert not PublicationChange.objects.exists()
    assert on_platform(sim, publication)["text"] == old
    assert dispatch.dispatch_due().claimed == 0  # never published twice
    # Sent back: still nothing goes; resubmitted and approved: the edit goes.
    actions.request_changes(editor, post, comment="날짜를 다시 확인해 주세요")
    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED
    actions.edit_published(author, post.variants.get(), NEW_TEXT + " 문의 061-749-0000")
    post.refresh_from_db()
    actions.submit(author, post)
    actions.approve(editor, post)
    assert propagation.propagate_due().done == 1
    assert on_platform(sim, publication)["text"].startswith(NEW_TEXT + " 문의")


@pytest.mark.parametrize("kind", ["x", "band"])
def test_an_edit_where_the_platform_cannot_edit_is_a_by_hand_task(
    city, sim, author, editor, kind
) -> None:
    channel = connect(city, sim, kind)
    post, (publication,) = published(author, editor, city, [channel])
    before = on_platform(sim, publication)["text"]
    edit_and_approve(author, editor, post, kind, "짧게 고친 안내입니다.")
    change = PublicationChange.objects.get()
    assert (change.state, change.text) == (ChangeState.BY_HAND, "짧게 고친 안내입니다.")
    assert propagation.propagate_due().claimed == 0
    assert on_platform(sim, publication)["text"] == before  # untouched: a person edits it
    propagation.confirm_change(editor, change)
    change.refresh_from_db()
    publication.refresh_from_db()
    assert (change.state, change.done_by_hand) == (ChangeState.DONE, True)
    assert publication.platform_text == "짧게 고친 안내입니다."
    with pytest.raises(ValidationError):
        propagation.confirm_change(editor, change)  # done once


@pytest.mark.parametrize("kind", ["facebook", "x", "band"])
def test_withdrawing_deletes_the_post_on_the_platform(city, sim, author, editor, kind) -> None:
    channel = connect(city, sim, kind)
    post, (publication,) = published(author, editor, city, [channel])
    with pytest.raises(ValidationError):
        actions.withdraw(editor, post, reason="  ")
    actions.withdraw(editor, post, reason="공사 일정이 취소되었습니다")
    post.refresh_from_db()
    assert (post.status, post.withdraw_reason) == (
        PostStatus.WITHDRAWN,
        "공사 일정이 취소되었습니다",
    )
    assert propagation.propagate_due().done == 1
    publication.refresh_from_db()
    assert publication.state == PublicationState.WITHDRAWN
    assert publication.withdrawn_at is not None
    assert "공사 일정이 취소되었습니다" in publication.reason
    assert publication.external_id  # the record is kept
    assert on_platform(sim, publication) is None
    assert AuditEntry.objects.filter(action="post.withdraw").exists()
    with pytest.raises(ValidationError):
        actions.withdraw(editor, post, reason="다시")


def test_a_post_already_gone_counts_as_deleted(city, sim, author, editor) -> None:
    facebook = connect(city, sim, "facebook")
    post, (publication,) = published(author, editor, city, [facebook])
    connector = channel_actions.connector_for(facebook)
    connector.delete_post(publication.external_id)  # someone deleted it on Facebook
    connector.close()
    actions.withdraw(editor, post, reason="중복 게시")
    assert propagation.propagate_due().done == 1
    publication.refresh_from_db()
    assert publication.state == PublicationState.WITHDRAWN


def test_withdrawing_cancels_what_has_not_gone_out(city, sim, author, editor) -> None:
    facebook = connect(city, sim, "facebook")
    kakao = connect(city, sim, "kakao")
    post = write(author, city, [facebook, kakao])
    actions.submit(author, post, publish_at=timezone.now() + dt.timedelta(hours=1))
    actions.withdraw(editor, post, reason="행사 취소")
    assert set(Publication.objects.values_list("state", flat=True)) == {PublicationState.CANCELLED}
    assert not PublicationChange.objects.exists()
    assert dispatch.dispatch_due(timezone.now() + dt.timedelta(hours=2)).claimed == 0


def test_withdrawing_a_by_hand_publication_is_a_by_hand_task(city, sim, author, editor) -> None:
    kakao = connect(city, sim, "kakao")
    post = write(author, city, [kakao])
    actions.submit(author, post)
    actions.approve(editor, post)
    publication = Publication.objects.get()
    actions.confirm(editor, publication, url="https://pf.kakao.com/_x/7")
    actions.withdraw(editor, post, reason="오타")
    change = PublicationChange.objects.get()
    assert (change.kind, change.state) == (ChangeKind.DELETE, ChangeState.BY_HAND)
    propagation.confirm_change(editor, change)
    publication.refresh_from_db()
    assert publication.state == PublicationState.WITHDRAWN


def test_a_rate_limited_change_waits_its_turn(city, sim, author, editor) -> None:
    from sotong.platforms.base import RateLimitState

    facebook = connect(city, sim, "facebook")
    post, (publication,) = published(author, editor, city, [facebook])
    edit_and_approve(author, editor, post, "facebook")
    sim.simulator.inject("facebook", Fault(FaultKind.RATE_LIMITED))
    assert propagation.propagate_due().retrying == 1
    change = PublicationChange.objects.get()
    assert change.state == ChangeState.PENDING
    assert change.next_attempt_at >= timezone.now() + dt.timedelta(seconds=59)
    assert change.attempts == 0
    assert propagation.propagate_due().claimed == 0  # not before its time
    RateLimitState.clear()
    assert propagation.propagate_due(change.next_attempt_at).done == 1
    assert on_platform(sim, publication)["text"].startswith(NEW_TEXT)


def test_an_expired_token_holds_the_change_until_reconnected(city, sim, author, editor) -> None:
    facebook = connect(city, sim, "facebook")
    post, (publication,) = published(author, editor, city, [facebook])
    actions.withdraw(editor, post, reason="잘못된 안내")
    sim.simulator.inject("facebook", Fault(FaultKind.TOKEN_EXPIRED))
    assert propagation.propagate_due().held == 1
    change = PublicationChange.objects.get()
    assert change.state == ChangeState.HELD
    assert "다시 연결" in change.reason or "reconnect" in change.reason
    facebook.refresh_from_db()
    assert facebook.status == ChannelStatus.NEEDS_RECONNECT
    assert AuditEntry.objects.filter(action="publication_change.hold").exists()
    assert propagation.propagate_due().claimed == 0  # still held
    channel_actions.check_channel(facebook)  # the token works again
    assert propagation.propagate_due().done == 1
    assert on_platform(sim, publication) is None


def test_a_lost_answer_is_made_again_without_harm(city, sim, author, editor, monkeypatch) -> None:
    """The edit took effect but its answer was lost: setting the same text again is safe,
    so the change is simply made again later (a delete likewise: gone is done)."""
    from sotong.simulator.testing import FAULT_DELAY, short_timeout_client

    facebook = connect(city, sim, "facebook")
    post, (publication,) = published(author, editor, city, [facebook])
    edit_and_approve(author, editor, post, "facebook")
    sim.simulator.inject(
        "facebook",
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, methods=frozenset({"POST"}), delay=FAULT_DELAY),
    )
    original = channel_actions.connector_for
    # The connector waits 20 s for an answer in production; the test makes it short.
    monkeypatch.setattr(
        channel_actions,
        "connector_for",
        lambda channel, **_: original(channel, client=short_timeout_client()),
    )
    assert propagation.propagate_due().done == 0
    change = PublicationChange.objects.get()
    assert change.state in (ChangeState.PENDING, ChangeState.UNCONFIRMED)
    assert change.next_attempt_at > timezone.now()
    assert on_platform(sim, publication)["text"].startswith(NEW_TEXT)  # it did take effect
    assert propagation.propagate_due().claimed == 0  # made again later, not at once
    assert propagation.propagate_due(timezone.now() + propagation.LONGEST_RETRY).done == 1
    change.refresh_from_db()
    assert (change.state, change.attempts) == (ChangeState.DONE, 2)
    pages = sim.simulator["facebook"].pages
    assert sum(len(page.post_ids) for page in pages.values()) == 4  # nothing posted twice


def test_an_unconfirmed_change_is_made_again_or_confirmed(city, sim, author, editor) -> None:
    """A change no answer came back for (OutcomeUnknown): shown as unconfirmed, made again
    after a while, or settled by a person at once."""
    facebook = connect(city, sim, "facebook")
    post, (publication,) = published(author, editor, city, [facebook])
    actions.withdraw(editor, post, reason="철회")
    change = PublicationChange.objects.get()
    PublicationChange.objects.filter(pk=change.pk).update(
        state=ChangeState.UNCONFIRMED, next_attempt_at=timezone.now() + propagation.CHECK_AGAIN
    )
    assert propagation.propagate_due().claimed == 0
    propagation.retry_change(editor, change)  # a person asks for it now
    assert propagation.propagate_due().done == 1
    assert on_platform(sim, publication) is None
    with pytest.raises(ValidationError):
        propagation.retry_change(editor, change)


def test_a_refused_edit_fails_with_the_platforms_reason(city, sim, author, editor) -> None:
    telegram = connect(city, sim, "telegram")
    post, (publication,) = published(author, editor, city, [telegram])
    edit_and_approve(author, editor, post, "telegram")
    # Someone deleted the message in the channel: Telegram refuses the edit.
    for chat in sim.simulator["telegram"].chats.values():
        chat.messages.pop(int(publication.external_id.split(",")[0]), None)
    result = propagation.propagate_due()
    assert result.failed == 1
    change = PublicationChange.objects.get()
    assert change.state == ChangeState.FAILED
    assert "not found" in change.reason
    assert AuditEntry.objects.filter(action="publication_change.fail").exists()


def test_department_authors_change_only_their_own_departments_posts(
    city, sim, author, editor, make_staff
) -> None:
    facebook = connect(city, sim, "facebook")
    post, _publications = published(author, editor, city, [facebook])
    other = make_staff(city, Role.DEPARTMENT_AUTHOR, "traffic")
    with pytest.raises(PermissionDenied):
        actions.edit_published(other, post.variants.get(), NEW_TEXT)
    with pytest.raises(PermissionDenied):
        actions.withdraw(author, post, reason="작성자는 게시 취소 권한이 없음")
    # A post that has not gone out is edited the usual way.
    draft = write(author, city, [facebook], department=department(city, "sewer"))
    with pytest.raises(ValidationError):
        actions.edit_published(author, draft.variants.get(), NEW_TEXT)


def test_the_history_keeps_every_version(city, sim, author, editor) -> None:
    facebook = connect(city, sim, "facebook")
    post, _publications = published(author, editor, city, [facebook])
    edit_and_approve(author, editor, post, "facebook")
    actions.withdraw(editor, post, reason="일정 변경")
    revisions = list(PostRevision.objects.filter(post=post))
    assert [r.why for r in revisions] == [
        RevisionReason.COMPOSED,
        RevisionReason.EDITED_AFTER_PUBLISHING,
        RevisionReason.WITHDRAWN,
    ]
    assert [r.number for r in revisions] == [1, 2, 3]
    assert revisions[1].snapshot["variants"][0]["text"] == NEW_TEXT
    assert revisions[0].snapshot["title"] == post.title
    assert revisions[2].note == "일정 변경"
    assert revisions[1].by == author
    with pytest.raises(RevisionsAreAppendOnly):
        revisions[0].save()
    with pytest.raises(RevisionsAreAppendOnly):
        revisions[0].delete()
    with pytest.raises(RevisionsAreAppendOnly):
        PostRevision.objects.filter(post=post).update(note="x")


def test_editing_a_variant_before_publishing_is_recorded(city, sim, author) -> None:
    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    actions.edit_variant(author, post.variants.get(), "직접 고친 문장")
    actions.edit_variant(author, post.variants.get(), "직접 고친 문장")  # no change: no version
    assert list(post.revisions.values_list("why", flat=True)) == [
        RevisionReason.COMPOSED,
        RevisionReason.VARIANT_EDITED,
    ]


def test_an_edit_that_does_not_fit_its_channel_is_refused(city, sim, author, editor) -> None:
    x = connect(city, sim, "x")
    post, _publications = published(author, editor, city, [x])
    with pytest.raises(ValidationError):
        actions.edit_published(author, post.variants.get(), "가" * 141)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert post.revisions.count() == 1


def test_the_post_page_withdraws_with_a_reason_and_shows_the_history(
    client, city, sim, author, editor
) -> None:
    from django.urls import reverse

    x = connect(city, sim, "x")
    post, (publication,) = published(author, editor, city, [x])
    client.force_login(author.user)
    url = reverse("publishing:post", args=[post.pk])
    page = client.get(url).content.decode()
    assert "게시 후 수정" in page
    assert "게시 취소(삭제)" not in page  # authors do not withdraw
    response = client.post(
        reverse("publishing:variant_edit", args=[post.variants.get().pk]),
        {f"variant-{post.variants.get().pk}-text": "고친 안내\n둘째 줄"},
    )
    assert response.status_code == 302
    client.force_login(editor.user)
    client.post(reverse("publishing:post_action", args=[post.pk, "approve"]), {"comment": ""})
    page = client.get(url).content.decode()
    assert "직접 처리 필요" in page  # X cannot edit: a by-hand task with the text to copy
    assert "고친 안내\n둘째 줄</textarea>" in page
    assert "<ins>" in page
    assert "<del>" in page
    withdraw = reverse("publishing:post_action", args=[post.pk, "withdraw"])
    response = client.post(withdraw, {"reason": "철회 사유", "confirm": ""})
    assert response.status_code == 400
    assert "상자에 표시해 주세요" in response.content.decode()
    response = client.post(withdraw, {"reason": "", "confirm": "on"})
    assert response.status_code == 400
    assert "게시 취소 사유를 적어 주세요" in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    response = client.post(withdraw, {"reason": "철회 사유", "confirm": "on"})
    assert response.status_code == 302
    assert propagation.propagate_due().done == 1  # X deletes through its API
    publication.refresh_from_db()
    assert publication.state == PublicationState.WITHDRAWN
    page = client.get(url).content.decode()
    assert "철회 사유" in page
    assert "게시 취소됨" in page
    change = PublicationChange.objects.get(kind=ChangeKind.EDIT)
    response = client.post(reverse("publishing:change_action", args=[change.pk, "confirm"]))
    assert response.status_code == 302  # the by-hand edit can still be confirmed
    change.refresh_from_db()
    assert change.state in (ChangeState.DONE, ChangeState.SUPERSEDED)
