"""Compose → approve → publish exactly once, against the platform simulator; the unhappy
paths: not approved in time, platform errors, a lost answer, a worker dying mid-publish,
a dead credential."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sotong.channels import actions as channel_actions
from sotong.channels.models import Channel, ChannelStatus
from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.platforms.base import Credentials
from sotong.publishing import actions, dispatch
from sotong.publishing.models import HoldReason, PostStatus, Publication, PublicationState
from sotong.simulator.core import Fault, FaultKind

PAGE_ID = "104220000000001"


def connect(city, sim, kind: str) -> Channel:
    """The demo account of ``kind`` on the simulator, connected as a channel."""
    from sotong.simulator.demo_world import demo_accounts

    account = next(a for a in demo_accounts() if a.kind == kind)
    sim.simulator[kind].populate_demo(account, "")
    sim.simulator.webhook_targets.clear()
    return channel_actions.connect_channel(
        SYSTEM,
        city,
        kind=kind,
        name=account.name,
        account_id=account.account_id,
        credentials=Credentials(
            access_token=account.token,
            refresh_token=account.refresh_token,
            extra=dict(account.extra),
        ),
        api_base=sim.platform_url(kind),
    )


@pytest.fixture
def facebook(city, sim) -> Channel:
    return connect(city, sim, "facebook")


@pytest.fixture
def author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


def write(author, city, channels, **overrides):
    fields = {
        "department": department(city, "sewer"),
        "title": "조례동 하수관로 교체 공사 안내",
        "body": "11.24.~11.28. 조례동 일부 구간을 통제합니다. 우회도로를 이용해 주세요.",
        "link": "https://www.suncheon.go.kr/sewer",
        "hashtags": ["순천", "공사안내"],
        "channels": channels,
        **overrides,
    }
    return actions.compose(author, city, **fields)


def approved_and_due(author, editor, post):
    actions.submit(author, post, publish_at=timezone.now() - dt.timedelta(seconds=1))
    actions.approve(editor, post)
    return Publication.objects.get(variant__post=post)


def facebook_posts(sim) -> list[str]:
    page = sim.simulator["facebook"].pages[PAGE_ID]
    return [sim.simulator["facebook"].objects[pid]["message"] for pid in page.post_ids]


def test_compose_adapts_a_variant_per_channel(city, sim, facebook, author) -> None:
    band = connect(city, sim, "band")
    post = write(author, city, [facebook, band])
    variants = {v.channel.kind: v.text for v in post.variants.select_related("channel")}
    assert variants["band"].startswith("[안내] 조례동 하수관로")
    assert variants["facebook"].endswith("#순천 #공사안내")
    assert AuditEntry.objects.filter(action="post.compose", target_id=str(post.pk)).exists()


def test_department_authors_write_for_their_own_department(city, facebook, author) -> None:
    with pytest.raises(PermissionDenied):
        write(author, city, [facebook], department=department(city, "traffic"))


def test_youtube_takes_no_posts(city, sim, author) -> None:
    youtube = connect(city, sim, "youtube")
    with pytest.raises(ValidationError, match="게시물을 올릴 수 없습니다"):
        write(author, city, [youtube])


def test_a_variant_that_does_not_fit_cannot_be_scheduled(city, sim, facebook, author) -> None:
    x = connect(city, sim, "x")
    post = write(author, city, [facebook, x])
    variant = post.variants.get(channel=x)
    actions.edit_variant(author, variant, "가" * 141)
    with pytest.raises(ValidationError, match="순천시 X"):
        actions.submit(author, post)
    assert not Publication.objects.exists()


def test_approved_post_is_published_once_with_its_url(city, sim, facebook, author, editor) -> None:
    post = write(author, city, [facebook])
    publication = approved_and_due(author, editor, post)
    assert publication.state == PublicationState.SCHEDULED
    result = dispatch.dispatch_due()
    publication.refresh_from_db()
    assert (result.claimed, result.published) == (1, 1)
    assert publication.state == PublicationState.PUBLISHED
    assert publication.external_id.startswith(PAGE_ID + "_")
    assert publication.url.startswith("https://www.facebook.com/")
    assert facebook_posts(sim)[-1].startswith("조례동 하수관로 교체 공사 안내")
    assert dispatch.dispatch_due().claimed == 0  # nothing goes out twice
    assert len(facebook_posts(sim)) == 4  # three from the page's history, one new
    assert AuditEntry.objects.filter(action="publication.publish").count() == 1


def test_not_approved_by_its_time_is_held_never_published(city, sim, facebook, author) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post, publish_at=timezone.now() - dt.timedelta(seconds=1))
    dispatch.dispatch_due()
    publication = Publication.objects.get()
    assert (publication.state, publication.hold_reason) == (
        PublicationState.HELD,
        HoldReason.NOT_APPROVED,
    )
    assert len(facebook_posts(sim)) == 3


def test_editing_an_approved_variant_sends_it_back_for_approval(
    city, facebook, author, editor
) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post, publish_at=timezone.now() + dt.timedelta(hours=1))
    actions.approve(editor, post)
    actions.edit_variant(author, post.variants.get(), "고친 공지입니다.")
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert [r.decision for r in post.reviews.all()] == ["submitted", "approved", "submitted"]


def test_authors_cannot_approve_and_rejection_cancels(city, facebook, author, editor) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post)
    with pytest.raises(PermissionDenied):
        actions.approve(author, post)
    with pytest.raises(ValidationError):
        actions.reject(editor, post, comment="")
    actions.reject(editor, post, comment="시기가 맞지 않습니다")
    assert Publication.objects.get().state == PublicationState.CANCELLED


def test_a_lost_answer_is_unconfirmed_then_reconciled_without_posting_twice(
    city, sim, facebook, author, editor, monkeypatch
) -> None:
    from sotong.simulator.testing import FAULT_DELAY, short_timeout_client

    post = write(author, city, [facebook])
    publication = approved_and_due(author, editor, post)
    sim.simulator.inject(
        "facebook",
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, methods=frozenset({"POST"}), delay=FAULT_DELAY),
    )
    # The connector waits 20 s for an answer in production; the test makes it short.
    monkeypatch.setattr(
        dispatch,
        "connector_for",
        lambda channel, **_: channel_actions.connector_for(channel, client=short_timeout_client()),
    )
    dispatch.dispatch_due()
    publication.refresh_from_db()
    assert publication.state == PublicationState.UNCONFIRMED
    assert len(facebook_posts(sim)) == 4  # it did go out
    # Not reconciled before its time; then the platform says it is there.
    assert dispatch.dispatch_due().reconciled == 0
    result = dispatch.dispatch_due(timezone.now() + dispatch.RECONCILE_AGAIN)
    publication.refresh_from_db()
    assert result.reconciled == 1
    assert publication.state == PublicationState.PUBLISHED
    assert publication.external_id
    assert len(facebook_posts(sim)) == 4


def test_a_worker_killed_after_the_call_is_reconciled_not_repeated(
    city, sim, facebook, author, editor
) -> None:
    post = write(author, city, [facebook])
    approved_and_due(author, editor, post)
    claimed = dispatch.claim_due(timezone.now())
    # The worker sent the post, then died before recording it.
    connector = channel_actions.connector_for(facebook)
    connector.publish(dispatch._outbound(Publication.objects.get(pk=claimed[0])))
    connector.close()
    assert dispatch.dispatch_due().claimed == 0  # still claimed by the dead worker
    later = timezone.now() + dispatch.CLAIM_LEASE + dt.timedelta(seconds=1)
    result = dispatch.dispatch_due(later)
    assert (result.reconciled, result.claimed) == (1, 0)
    assert Publication.objects.get().state == PublicationState.PUBLISHED
    assert len(facebook_posts(sim)) == 4


def test_a_worker_killed_before_the_call_posts_it_once(city, sim, facebook, author, editor) -> None:
    post = write(author, city, [facebook])
    approved_and_due(author, editor, post)
    dispatch.claim_due(timezone.now())  # claimed, then the worker died
    later = timezone.now() + dispatch.CLAIM_LEASE + dt.timedelta(seconds=1)
    result = dispatch.dispatch_due(later)
    assert (result.reconciled, result.published) == (0, 1)
    assert len(facebook_posts(sim)) == 4


def test_rate_limits_and_transient_errors_wait_and_retry(
    city, sim, facebook, author, editor
) -> None:
    from sotong.platforms.base import RateLimitState

    post = write(author, city, [facebook])
    publication = approved_and_due(author, editor, post)
    sim.simulator.inject("facebook", Fault(FaultKind.RATE_LIMITED))
    assert dispatch.dispatch_due().retrying == 1
    publication.refresh_from_db()
    assert publication.state == PublicationState.SCHEDULED
    assert publication.next_attempt_at >= timezone.now() + dt.timedelta(seconds=59)
    assert publication.attempts == 0
    RateLimitState.clear()
    sim.simulator.inject("facebook", Fault(FaultKind.SERVER_ERROR, path_pattern="/feed"))
    dispatch.dispatch_due(publication.next_attempt_at)
    publication.refresh_from_db()
    # A 5xx to a post may have taken effect: it is checked, not blindly repeated.
    assert publication.state == PublicationState.UNCONFIRMED
    # Not on the page: safe to post again, in the same round.
    result = dispatch.dispatch_due(publication.next_attempt_at)
    publication.refresh_from_db()
    assert (result.reconciled, result.published) == (0, 1)
    assert publication.state == PublicationState.PUBLISHED
    assert publication.attempts == 2
    assert len(facebook_posts(sim)) == 4


def test_a_refused_post_fails_with_the_platform_reason(city, sim, facebook, author, editor) -> None:
    post = write(author, city, [facebook])
    approved_and_due(author, editor, post)
    sim.simulator["facebook"].add_post(PAGE_ID, post.variants.get().text)  # the same text
    assert dispatch.dispatch_due().failed == 1
    publication = Publication.objects.get()
    assert publication.state == PublicationState.FAILED
    assert "506" in publication.reason
    assert AuditEntry.objects.filter(action="publication.fail").exists()


def test_an_expired_credential_holds_the_queue_until_reconnected(
    city, sim, facebook, author, editor
) -> None:
    post = write(author, city, [facebook])
    approved_and_due(author, editor, post)
    sim.simulator.inject("facebook", Fault(FaultKind.TOKEN_EXPIRED))
    assert dispatch.dispatch_due().held == 1
    facebook.refresh_from_db()
    assert facebook.status == ChannelStatus.NEEDS_RECONNECT
    publication = Publication.objects.get()
    assert (publication.state, publication.hold_reason) == (
        PublicationState.HELD,
        HoldReason.CHANNEL,
    )
    assert dispatch.dispatch_due().claimed == 0  # still held
    channel_actions.check_channel(facebook)  # reconnected: the token works again
    assert dispatch.dispatch_due().published == 1


def test_by_hand_channels_wait_for_a_person_to_record_the_address(
    city, sim, facebook, author, editor
) -> None:
    kakao = connect(city, sim, "kakao")
    post = write(author, city, [facebook, kakao])
    actions.submit(author, post, publish_at=timezone.now() - dt.timedelta(seconds=1))
    by_hand = Publication.objects.get(channel=kakao)
    assert by_hand.state == PublicationState.BY_HAND
    with pytest.raises(ValidationError):
        actions.confirm(editor, by_hand, url="https://pf.kakao.com/_x/1")  # not approved yet
    actions.approve(editor, post)
    dispatch.dispatch_due()
    by_hand.refresh_from_db()
    assert by_hand.state == PublicationState.BY_HAND  # the dispatcher leaves it alone
    with pytest.raises(ValidationError):
        actions.confirm(editor, by_hand, url="pf.kakao.com")
    actions.confirm(editor, by_hand, url="https://pf.kakao.com/_xnxaxj/101")
    by_hand.refresh_from_db()
    assert (by_hand.state, by_hand.by_hand) == (PublicationState.PUBLISHED, True)


def test_a_platform_that_cannot_tell_leaves_it_to_a_person(city, sim, author, editor) -> None:
    telegram = connect(city, sim, "telegram")
    post = write(author, city, [telegram])
    publication = approved_and_due(author, editor, post)
    dispatch.claim_due(timezone.now())  # a worker died holding it
    later = timezone.now() + dispatch.CLAIM_LEASE + dt.timedelta(seconds=1)
    dispatch.dispatch_due(later)
    publication.refresh_from_db()
    assert publication.state == PublicationState.UNCONFIRMED
    assert publication.next_attempt_at is None  # no automatic retry: it could duplicate
    assert dispatch.dispatch_due(later + dt.timedelta(hours=1)).claimed == 0
    actions.retry(editor, publication)  # a person checked the channel: it is not there
    assert dispatch.dispatch_due().published == 1


def test_rescheduling_releases_a_held_post(city, facebook, author, editor) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post, publish_at=timezone.now() - dt.timedelta(seconds=1))
    dispatch.dispatch_due()
    actions.approve(editor, post)
    publication = Publication.objects.get()
    actions.reschedule(editor, publication, timezone.now() - dt.timedelta(seconds=1))
    assert dispatch.dispatch_due().published == 1
