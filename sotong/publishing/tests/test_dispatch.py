"""Dispatch under load: publications sent side by side, each channel paced by its
platform's limits, a channel in doubt paused, a dead claimer's work reconciled, and two
dispatcher processes racing on the same claims publishing each publication once."""

from __future__ import annotations

import datetime as dt
import functools
import json
import subprocess
import sys
from collections import Counter

import pytest
from django.utils import timezone

from sotong.publishing import dispatch
from sotong.publishing.models import Publication, PublicationState
from sotong.publishing.tests.test_actions import PAGE_ID, approved_and_due, connect, write
from sotong.simulator.core import Latency
from sotong.simulator.facebook import DEMO_ACCOUNTS as FACEBOOK_ACCOUNTS

HELPER = "sotong.publishing.tests.dispatch_helper"


@pytest.fixture
def author(city, make_staff):
    from sotong.core.roles import Role

    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def editor(city, make_staff):
    from sotong.core.roles import Role

    return make_staff(city, Role.PR_EDITOR, "pr")


def due_posts(author, editor, city, channel, count: int) -> list[Publication]:
    publications = []
    for number in range(count):
        post = write(author, city, [channel], title=f"공지 {number}", body=f"본문 {number}번")
        publications.append(approved_and_due(author, editor, post))
    return publications


def page_posts(sim) -> list[str]:
    page = sim.simulator["facebook"].pages[PAGE_ID]
    return [sim.simulator["facebook"].objects[pid]["message"] for pid in page.post_ids]


@pytest.mark.multiprocess
def test_a_round_publishes_side_by_side_each_once(run_sotong, sim) -> None:
    """`sotong publish due` on a file database: six due, three threads, each posted once."""
    sim.simulator["facebook"].populate_demo(FACEBOOK_ACCOUNTS[0], "")
    before = len(page_posts(sim))
    env = {**run_sotong.env, "SOTONG_PUBLISH_CONCURRENCY": "3"}
    run = functools.partial(subprocess.run, env=env, capture_output=True, text=True, timeout=120)
    run([sys.executable, "-m", HELPER, "setup", sim.platform_url("facebook"), "6", "0"], check=True)
    result = run([sys.executable, "-m", "sotong", "publish", "due"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["published"] == 6
    states = json.loads(run([sys.executable, "-m", HELPER, "states"], check=True).stdout)
    assert states["states"] == {"published": 6}
    posts = page_posts(sim)[before:]
    assert len(posts) == len(set(posts)) == 6


def test_claims_follow_the_platforms_rate_limit(city, sim, author, editor, monkeypatch) -> None:
    telegram = connect(city, sim, "telegram")
    sim.simulator["telegram"].max_messages_per_minute_per_chat = 2
    monkeypatch.setitem(
        dispatch.PUBLISH_PACES, "telegram", dispatch.Pace(2, dt.timedelta(minutes=1))
    )
    due_posts(author, editor, city, telegram, 3)
    now = timezone.now()
    assert len(dispatch.claim_due(now)) == 2  # the third waits for the window
    assert dispatch.claim_due(now) == []
    later = now + dt.timedelta(minutes=1) + dispatch.PACE_MARGIN + dt.timedelta(seconds=1)
    assert len(dispatch.claim_due(later)) == 1
    Publication.objects.update(state=PublicationState.SCHEDULED, claimed_at=None)
    # Published for real: no call is spent on a 429.
    result = dispatch.dispatch_due()
    assert (result.published, result.retrying) == (2, 0)
    assert not [r for r in sim.simulator.recorded("telegram") if r.status == 429]


def test_a_channel_in_doubt_takes_no_new_posts(city, sim, author, editor) -> None:
    facebook = connect(city, sim, "facebook")
    first, second = due_posts(author, editor, city, facebook, 2)
    Publication.objects.filter(pk=first.pk).update(
        state=PublicationState.UNCONFIRMED, next_attempt_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert dispatch.claim_due(timezone.now()) == []
    # Left to a person (no automatic check pending): the channel goes on.
    Publication.objects.filter(pk=first.pk).update(next_attempt_at=None)
    assert dispatch.claim_due(timezone.now()) == [second.pk]


def test_a_channel_in_doubt_posts_on_while_its_listing_reaches_back(
    city, sim, author, editor, monkeypatch
) -> None:
    """The check lists the channel's recent posts: new posts may go out meanwhile as long as
    the in-doubt one stays within that list (less a margin for people's own posts)."""
    facebook = connect(city, sim, "facebook")
    first, second = due_posts(author, editor, city, facebook, 2)
    Publication.objects.filter(pk=first.pk).update(
        state=PublicationState.UNCONFIRMED,
        claimed_at=timezone.now() - dt.timedelta(seconds=5),
        next_attempt_at=timezone.now() + dt.timedelta(hours=1),
    )
    # Room for one post besides the one in doubt and the margin: taken, then no more.
    monkeypatch.setattr(dispatch, "RECONCILE_DEPTH", dispatch.DOUBT_MARGIN + 1)
    assert dispatch.claim_due(timezone.now()) == []
    monkeypatch.setattr(dispatch, "RECONCILE_DEPTH", dispatch.DOUBT_MARGIN + 2)
    assert dispatch.claim_due(timezone.now()) == [second.pk]
    third = due_posts(author, editor, city, facebook, 1)[0]
    assert dispatch.claim_due(timezone.now()) == []
    monkeypatch.setattr(dispatch, "RECONCILE_DEPTH", dispatch.DOUBT_MARGIN + 3)
    assert dispatch.claim_due(timezone.now()) == [third.pk]


def test_a_dead_claimers_posts_are_checked_against_one_listing(city, sim, author, editor) -> None:
    """A worker killed with many posts in flight: one listing call per channel settles them
    all; those that went out are published, the others go out once."""
    facebook = connect(city, sim, "facebook")
    publications = due_posts(author, editor, city, facebook, 4)
    ids = dispatch.claim_due(timezone.now())
    for publication_id in ids[:2]:  # these two reached the platform before the worker died
        sent = dispatch._send(publication_id, client=None)
        assert isinstance(sent, dispatch._Sent)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    host, _pid, namespace = dispatch.worker_name().split(":")
    Publication.objects.update(claimed_by=f"{host}:{dead}:{namespace}")
    dispatch.dispatch_due()  # the claimer is dead: all four unconfirmed, checked after the grace
    assert set(Publication.objects.values_list("state", flat=True)) == {"unconfirmed"}
    listings = len(sim.simulator.recorded("facebook", "GET", "/posts"))
    result = dispatch.dispatch_due(timezone.now() + dispatch.DOUBT_GRACE)
    assert len(sim.simulator.recorded("facebook", "GET", "/posts")) == listings + 1
    # Two found on the platform; the two that never went out are posted in the same round.
    assert (result.reconciled, result.published) == (2, 2)
    states = dict(Publication.objects.values_list("id", "state"))
    assert set(states.values()) == {"published"}
    texts = page_posts(sim)
    for publication in publications:
        assert sum(text == publication.variant.text for text in texts) == 1


def test_a_dead_claimers_work_is_checked_then_posted_once(city, sim, author, editor) -> None:
    facebook = connect(city, sim, "facebook")
    (publication,) = due_posts(author, editor, city, facebook, 1)
    dispatch.claim_due(timezone.now())
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    host, _pid, namespace = dispatch.worker_name().split(":")
    Publication.objects.filter(pk=publication.pk).update(claimed_by=f"{host}:{dead}:{namespace}")
    before = len(page_posts(sim))
    assert dispatch.dispatch_due().claimed == 0  # unconfirmed, checked after the grace
    publication.refresh_from_db()
    assert publication.state == PublicationState.UNCONFIRMED
    result = dispatch.dispatch_due(timezone.now() + dispatch.DOUBT_GRACE)
    publication.refresh_from_db()
    assert (result.reconciled, result.published) == (0, 1)
    assert publication.state == PublicationState.PUBLISHED
    assert len(page_posts(sim)) == before + 1


def test_a_live_claimer_is_left_alone(city, sim, author, editor) -> None:
    facebook = connect(city, sim, "facebook")
    due_posts(author, editor, city, facebook, 1)
    dispatch.claim_due(timezone.now())  # this process: alive
    dispatch.dispatch_due()
    assert Publication.objects.get().state == PublicationState.PUBLISHING


@pytest.mark.multiprocess
def test_two_dispatcher_processes_never_publish_one_twice(run_sotong, sim) -> None:
    env = {**run_sotong.env, "SOTONG_PUBLISH_CONCURRENCY": "4"}

    def helper(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", HELPER, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            **kwargs,
        )

    sim.simulator["facebook"].populate_demo(FACEBOOK_ACCOUNTS[0], "")
    sim.simulator.latency["facebook"] = Latency(0.01, 0.05)
    before = len(page_posts(sim))
    helper("setup", sim.platform_url("facebook"), "120", "2")
    racers = [
        subprocess.Popen(
            [sys.executable, "-m", HELPER, "dispatch", "4"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [racer.communicate(timeout=120) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0], outputs
    published = [json.loads(out)["published"] for out, _err in outputs]
    assert sum(published) == 120
    assert all(count > 0 for count in published)  # both took part
    states = json.loads(helper("states").stdout)
    assert states["states"] == {"published": 120}
    posts = Counter(page_posts(sim)[before:])
    assert len(posts) == 120
    assert set(posts.values()) == {1}


def test_the_attempt_is_counted_with_the_claim(city, sim, author, editor) -> None:
    facebook = connect(city, sim, "facebook")
    (publication,) = due_posts(author, editor, city, facebook, 1)
    assert dispatch.claim_due(timezone.now()) == [publication.pk]
    publication.refresh_from_db()
    assert (publication.state, publication.attempts) == (PublicationState.PUBLISHING, 1)
    assert dispatch.publish(publication.pk) == PublicationState.PUBLISHED
    publication.refresh_from_db()
    assert publication.attempts == 1


def test_outcomes_are_recorded_together_and_one_bad_record_loses_no_other(
    city, sim, author, editor, monkeypatch
) -> None:
    """The dispatcher records its threads' outcomes in one transaction; should one record
    fail, the others are recorded alone and the failing one stays claimed (reconciled later,
    never posted twice)."""
    facebook = connect(city, sim, "facebook")
    publications = due_posts(author, editor, city, facebook, 3)
    ids = dispatch.claim_due(timezone.now())
    sent = [dispatch._send(publication_id, client=None) for publication_id in ids]
    broken = publications[1].pk
    record = dispatch._record

    def fails_for_one(item):
        if item.publication.pk == broken:
            raise RuntimeError("disk full")
        return record(item)

    monkeypatch.setattr(dispatch, "_record", fails_for_one)
    states = dispatch._record_all(sent)
    assert sorted(states) == sorted(["published", "published", "publishing"])
    by_id = dict(Publication.objects.values_list("id", "state"))
    assert by_id[broken] == PublicationState.PUBLISHING
    assert [by_id[p.pk] for p in publications if p.pk != broken] == ["published"] * 2
    assert len(page_posts(sim)) == len(set(page_posts(sim)))  # each went out once


def test_a_post_withdrawn_after_its_claim_is_cancelled_not_sent(
    city, sim, author, editor, make_staff
) -> None:
    from sotong.core.roles import Role
    from sotong.notifications.models import Notification
    from sotong.publishing import actions

    facebook = connect(city, sim, "facebook")
    (publication,) = due_posts(author, editor, city, facebook, 1)
    before = len(page_posts(sim))
    assert dispatch.claim_due(timezone.now()) == [publication.pk]
    publisher = make_staff(city, Role.PR_EDITOR, "pr")
    actions.withdraw(publisher, publication.variant.post, reason="행사 취소")
    assert dispatch.publish(publication.pk) == PublicationState.CANCELLED
    publication.refresh_from_db()
    assert publication.state == PublicationState.CANCELLED
    assert publication.withdrawn_at is not None
    assert len(page_posts(sim)) == before
    assert not Notification.objects.filter(kind="post_held").exists()
