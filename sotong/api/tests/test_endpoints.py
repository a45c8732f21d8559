"""Each operation's happy path and its main refusals, as a department author, a PR editor
and an author of another department would meet them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from sotong.conftest import department
from sotong.core.models import AuditEntry
from sotong.publishing import actions
from sotong.publishing.models import Post, PostStatus, Publication, PublicationState

TITLE = "조례동 하수관로 교체 공사 안내"
BODY = "11.24.~11.28. 조례동 일부 구간을 통제합니다. 우회도로를 이용해 주세요."


def compose_body(city, channels, **overrides):
    return {
        "department": department(city, "sewer").pk,
        "title": TITLE,
        "body": BODY,
        "link": "https://www.suncheon.go.kr/sewer",
        "hashtags": ["#순천", "공사안내"],
        "topics": ["안전"],
        "channels": [channel.pk for channel in channels],
        **overrides,
    }


def post_json(client, path, body=None, **headers):
    return client.post(path, body or {}, content_type="application/json", headers=headers)


def error_of(response):
    return response.json()["error"]


@pytest.fixture
def composed(city, author, facebook, client_for):
    client = client_for(author)
    response = post_json(client, "/api/v1/posts", compose_body(city, [facebook]))
    assert response.status_code == 201, response.content
    return client, response.json()


# -- channels and text -------------------------------------------------------------------


def test_channels_list_says_limits_and_by_hand(
    city, author, facebook, x_channel, kakao, client_for
) -> None:
    channels = {c["kind"]: c for c in client_for(author).get("/api/v1/channels").json()}
    assert set(channels) == {"facebook", "x", "kakao"}
    assert channels["x"]["limits"] == {
        "max_length": 280,
        "counting": "twitter",
        "image_required": False,
        "max_images": channels["x"]["limits"]["max_images"],
        "max_hashtags": channels["x"]["limits"]["max_hashtags"],
    }
    assert channels["kakao"]["by_hand"] is True
    assert channels["facebook"]["by_hand"] is False
    assert channels["facebook"]["status"] == "active"


def test_text_fit_counts_as_the_platform_does(city, author, client_for) -> None:
    client = client_for(author)
    fit = post_json(client, "/api/v1/text/fit", {"channel_kind": "x", "text": "가" * 141}).json()
    assert fit["weighted_length"] == 282
    assert fit["limit"] == 280
    assert fit["fits"] is False
    assert fit["problems"] == ["too_long:2"]
    url = post_json(
        client, "/api/v1/text/fit", {"channel_kind": "x", "text": "https://example.com/" + "a" * 80}
    ).json()
    assert url["weighted_length"] == 23


def test_text_fit_with_an_unknown_kind_or_no_text_is_422(city, author, client_for) -> None:
    client = client_for(author)
    unknown = post_json(client, "/api/v1/text/fit", {"channel_kind": "myspace", "text": "가"})
    assert unknown.status_code == 422
    assert "channel_kind" in error_of(unknown)["fields"]
    missing = post_json(client, "/api/v1/text/fit", {"channel_kind": "x"})
    assert missing.status_code == 422
    assert error_of(missing)["fields"] == {"text": ["필수 항목입니다."]}


def test_a_body_that_is_not_json_is_422(city, author, client_for) -> None:
    response = client_for(author).post(
        "/api/v1/text/fit", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid_json",
        "message": "요청 본문이 올바른 JSON이 아닙니다.",
        "fields": {},
    }


# -- compose and the post ------------------------------------------------------------------


def test_compose_makes_a_draft_with_adapted_variants(
    city, author, facebook, x_channel, client_for
) -> None:
    client = client_for(author)
    body = compose_body(city, [facebook, x_channel], campaign_name="순천만갈대축제 2026")
    del body["department"]  # the author's own, as on the compose page
    response = post_json(client, "/api/v1/posts", body)
    assert response.status_code == 201
    post = response.json()
    assert post["status"] == "draft"
    assert post["department"]["name"] == "하수도과"
    assert post["campaign"] == "순천만갈대축제 2026"
    assert post["hashtags"] == ["순천", "공사안내"]
    variants = {v["channel"]["kind"]: v for v in post["variants"]}
    assert variants["facebook"]["text"].endswith("#순천 #공사안내")
    assert variants["x"]["fit"]["limit"] == 280
    assert post["reviews"] == []
    stored = Post.objects.get(pk=post["id"])
    assert stored.author == author
    assert AuditEntry.objects.filter(action="post.compose", target_id=str(stored.pk)).exists()
    assert post["created_at"].endswith("+09:00")


def test_compose_refuses_what_the_caller_cannot_choose(city, author, facebook, client_for) -> None:
    client = client_for(author)
    response = post_json(
        client,
        "/api/v1/posts",
        {
            **compose_body(
                city, [facebook], department=department(city, "traffic").pk, topics=["축구"]
            ),
            "channels": [facebook.pk, 999999],
        },
    )
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert set(fields) == {"department", "channels", "topics"}
    assert "999999" in fields["channels"][0]
    assert not Post.objects.exists()


def test_compose_without_title_or_channels_is_422(city, author, facebook, client_for) -> None:
    response = post_json(client_for(author), "/api/v1/posts", compose_body(city, [], title=""))
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"title", "channels"}


def test_the_idempotency_key_returns_the_first_post(city, author, facebook, client_for) -> None:
    client = client_for(author)
    body = compose_body(city, [facebook])
    first = post_json(client, "/api/v1/posts", body, **{"Idempotency-Key": "k-1"})
    again = post_json(client, "/api/v1/posts", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Post.objects.count() == 1
    # Another body with the same key is a mistake, not a retry.
    other = post_json(
        client, "/api/v1/posts", {**body, "title": "다른 글"}, **{"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409
    assert error_of(other)["code"] == "idempotency_key_reused"
    # Another key, or the same key from another token, composes again.
    assert (
        post_json(client, "/api/v1/posts", body, **{"Idempotency-Key": "k-2"}).json()["id"]
        != first.json()["id"]
    )
    other_token = client_for(author)
    assert (
        post_json(other_token, "/api/v1/posts", body, **{"Idempotency-Key": "k-1"}).status_code
        == 201
    )
    assert Post.objects.count() == 3


def test_an_idempotency_key_older_than_a_day_is_forgotten(
    city, author, facebook, client_for
) -> None:
    from sotong.api.models import IdempotencyKey

    client = client_for(author)
    body = compose_body(city, [facebook])
    first = post_json(client, "/api/v1/posts", body, **{"Idempotency-Key": "daily"})
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    later = post_json(client, "/api/v1/posts", body, **{"Idempotency-Key": "daily"})
    assert later.status_code == 201
    assert later.json()["id"] != first.json()["id"]


def test_a_refused_compose_does_not_use_up_its_key(city, author, facebook, client_for) -> None:
    client = client_for(author)
    bad = post_json(
        client,
        "/api/v1/posts",
        compose_body(city, [facebook], link="not a link"),
        **{"Idempotency-Key": "k"},
    )
    assert bad.status_code == 400
    assert "link" in error_of(bad)["fields"]
    good = post_json(
        client, "/api/v1/posts", compose_body(city, [facebook]), **{"Idempotency-Key": "k"}
    )
    assert good.status_code == 201


def test_list_posts_filters_and_pages(city, author, editor, facebook, client_for, composed) -> None:
    client, post = composed
    post_json(client, "/api/v1/posts", compose_body(city, [facebook], title="둘째 글"))
    page = client.get("/api/v1/posts", {"limit": 1}).json()
    assert page["count"] == 2
    assert [item["title"] for item in page["items"]] == ["둘째 글"]
    second = client.get("/api/v1/posts", {"limit": 1, "offset": 1}).json()
    assert [item["id"] for item in second["items"]] == [post["id"]]
    assert client.get("/api/v1/posts", {"status": "in_review"}).json()["count"] == 0
    traffic = department(city, "traffic").pk
    assert client.get("/api/v1/posts", {"department": traffic}).json()["count"] == 0
    assert client.get("/api/v1/posts", {"status": "nonsense"}).status_code == 422
    assert client.get("/api/v1/posts", {"limit": 1000}).status_code == 422


def test_another_departments_author_sees_404_and_cannot_approve(
    city, other_author, editor, client_for, composed
) -> None:
    client, post = composed
    stranger = client_for(other_author)
    assert stranger.get(f"/api/v1/posts/{post['id']}").status_code == 404
    assert stranger.get("/api/v1/posts").json()["count"] == 0
    # The same answer as for a post that does not exist: nothing leaks.
    missing = stranger.get("/api/v1/posts/999999")
    assert error_of(stranger.get(f"/api/v1/posts/{post['id']}")) == error_of(missing)
    post_json(client, f"/api/v1/posts/{post['id']}/submit")
    assert post_json(stranger, f"/api/v1/posts/{post['id']}/approve").status_code == 404
    variant = post["variants"][0]["id"]
    edit = stranger.put(
        f"/api/v1/posts/{post['id']}/variants/{variant}",
        {"text": "x"},
        content_type="application/json",
    )
    assert edit.status_code == 404
    assert Post.objects.get(pk=post["id"]).status == PostStatus.IN_REVIEW


def test_an_author_cannot_approve_their_own_post(city, author, client_for, composed) -> None:
    client, post = composed
    post_json(client, f"/api/v1/posts/{post['id']}/submit")
    response = post_json(client, f"/api/v1/posts/{post['id']}/approve")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_edit_submit_approve_with_the_timeline(city, author, editor, client_for, composed) -> None:
    client, post = composed
    variant = post["variants"][0]
    edited = client.put(
        f"/api/v1/posts/{post['id']}/variants/{variant['id']}",
        {"text": "조례동 공사 안내입니다."},
        content_type="application/json",
    )
    assert edited.status_code == 200
    assert edited.json()["edited"] is True
    assert edited.json()["fit"]["fits"] is True
    publish_at = (timezone.now() + dt.timedelta(hours=2)).replace(microsecond=0)
    submitted = post_json(
        client, f"/api/v1/posts/{post['id']}/submit", {"publish_at": publish_at.isoformat()}
    )
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "in_review"
    [publication] = submitted.json()["publications"]
    assert publication["state"] == "scheduled"
    assert dt.datetime.fromisoformat(publication["due_at"]) == publish_at
    assert publication["due_at"].endswith("+09:00")
    reviewer = client_for(editor)
    queue = reviewer.get("/api/v1/approvals").json()
    assert [item["id"] for item in queue] == [post["id"]]
    assert client.get("/api/v1/approvals").json() == []
    approved = post_json(reviewer, f"/api/v1/posts/{post['id']}/approve", {"comment": "좋습니다"})
    assert approved.json()["status"] == "approved"
    timeline = [(r["decision"], r["comment"]) for r in approved.json()["reviews"]]
    assert timeline == [("submitted", ""), ("approved", "좋습니다")]
    assert reviewer.get("/api/v1/approvals").json() == []


def test_an_unfit_variant_cannot_be_submitted(city, author, x_channel, client_for) -> None:
    client = client_for(author)
    post = post_json(client, "/api/v1/posts", compose_body(city, [x_channel])).json()
    variant = post["variants"][0]["id"]
    client.put(
        f"/api/v1/posts/{post['id']}/variants/{variant}",
        {"text": "가" * 141},
        content_type="application/json",
    )
    detail = client.get(f"/api/v1/posts/{post['id']}").json()
    assert detail["variants"][0]["fit"]["fits"] is False
    response = post_json(client, f"/api/v1/posts/{post['id']}/submit")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert "순천시 X" in error_of(response)["message"]
    assert not Publication.objects.exists()


def test_submit_in_the_past_is_422(city, author, client_for, composed) -> None:
    client, post = composed
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    response = post_json(client, f"/api/v1/posts/{post['id']}/submit", {"publish_at": past})
    assert response.status_code == 422
    assert "publish_at" in error_of(response)["fields"]


def test_request_changes_and_reject_need_a_comment(
    city, author, editor, client_for, composed
) -> None:
    client, post = composed
    post_json(client, f"/api/v1/posts/{post['id']}/submit")
    reviewer = client_for(editor)
    missing = post_json(reviewer, f"/api/v1/posts/{post['id']}/request-changes", {"comment": " "})
    assert missing.status_code == 400
    with translation.override("ko"):
        expected = translation.gettext("Say what should change.")
    assert error_of(missing)["fields"] == {"comment": [expected]}
    assert post_json(reviewer, f"/api/v1/posts/{post['id']}/reject").status_code == 400
    changes = post_json(
        reviewer, f"/api/v1/posts/{post['id']}/request-changes", {"comment": "날짜를 확인해 주세요"}
    )
    assert changes.json()["status"] == "changes_requested"
    assert changes.json()["reviews"][-1]["comment"] == "날짜를 확인해 주세요"
    post_json(client, f"/api/v1/posts/{post['id']}/submit")
    rejected = post_json(reviewer, f"/api/v1/posts/{post['id']}/reject", {"comment": "중복 공지"})
    assert rejected.json()["status"] == "rejected"


# -- publications --------------------------------------------------------------------------


@pytest.fixture
def by_hand(city, author, editor, kakao, client_for):
    client = client_for(author)
    post = post_json(client, "/api/v1/posts", compose_body(city, [kakao])).json()
    post_json(client, f"/api/v1/posts/{post['id']}/submit")
    actions.approve(editor, Post.objects.get(pk=post["id"]))
    return Publication.objects.get(channel=kakao)


def test_the_calendar_lists_publications_in_a_range(
    city, author, editor, client_for, by_hand, kakao
) -> None:
    reviewer = client_for(editor)
    today = timezone.localdate()
    rows = reviewer.get(
        "/api/v1/publications", {"start": today.isoformat(), "end": today.isoformat()}
    ).json()
    assert [row["id"] for row in rows] == [by_hand.pk]
    assert rows[0]["state"] == "by_hand"
    assert rows[0]["by_hand"] is True
    assert rows[0]["department"]["name"] == "하수도과"
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert reviewer.get("/api/v1/publications", {"start": tomorrow, "end": tomorrow}).json() == []
    week = {"start": (today - dt.timedelta(days=3)).isoformat(), "end": tomorrow}
    assert len(reviewer.get("/api/v1/publications", {**week, "channel": kakao.pk}).json()) == 1
    assert reviewer.get("/api/v1/publications", {**week, "state": "published"}).json() == []
    traffic = department(city, "traffic").pk
    assert reviewer.get("/api/v1/publications", {**week, "department": traffic}).json() == []
    backwards = reviewer.get("/api/v1/publications", {"start": tomorrow, "end": today.isoformat()})
    assert backwards.status_code == 422
    assert "end" in error_of(backwards)["fields"]
    assert reviewer.get("/api/v1/publications").status_code == 422


def test_confirm_records_the_url_and_a_bad_url_is_refused(
    city, editor, client_for, by_hand
) -> None:
    reviewer = client_for(editor)
    path = f"/api/v1/publications/{by_hand.pk}/confirm"
    bad = post_json(reviewer, path, {"url": "pf.kakao.com/없음"})
    assert bad.status_code == 422
    assert error_of(bad)["fields"] == {"url": ["플랫폼에 게시된 글의 주소를 입력하세요."]}
    by_hand.refresh_from_db()
    assert by_hand.state == PublicationState.BY_HAND
    good = post_json(reviewer, path, {"url": "https://pf.kakao.com/_xkxj/101"})
    assert good.status_code == 200
    assert good.json()["state"] == "published"
    assert good.json()["url"] == "https://pf.kakao.com/_xkxj/101"


def test_retry_of_a_published_publication_is_a_clear_error(
    city, editor, client_for, by_hand
) -> None:
    reviewer = client_for(editor)
    post_json(
        reviewer, f"/api/v1/publications/{by_hand.pk}/confirm", {"url": "https://pf.kakao.com/_x/1"}
    )
    response = post_json(reviewer, f"/api/v1/publications/{by_hand.pk}/retry")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert error_of(response)["message"]
    by_hand.refresh_from_db()
    assert by_hand.state == PublicationState.PUBLISHED


def test_retry_of_a_failed_publication_schedules_it_again(
    city, editor, client_for, by_hand
) -> None:
    Publication.objects.filter(pk=by_hand.pk).update(state=PublicationState.FAILED, reason="거부됨")
    response = post_json(client_for(editor), f"/api/v1/publications/{by_hand.pk}/retry")
    assert response.status_code == 200
    assert response.json()["state"] == "scheduled"


def test_reschedule_moves_an_open_publication(city, author, editor, client_for, by_hand) -> None:
    reviewer = client_for(editor)
    later = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    moved = post_json(
        reviewer, f"/api/v1/publications/{by_hand.pk}/reschedule", {"due_at": later.isoformat()}
    )
    assert moved.status_code == 200
    assert dt.datetime.fromisoformat(moved.json()["due_at"]) == later
    naive = (timezone.localtime() + dt.timedelta(days=3)).replace(tzinfo=None, microsecond=0)
    seoul = post_json(
        reviewer, f"/api/v1/publications/{by_hand.pk}/reschedule", {"due_at": naive.isoformat()}
    )
    assert seoul.json()["due_at"] == naive.isoformat() + "+09:00"
    past = post_json(
        reviewer,
        f"/api/v1/publications/{by_hand.pk}/reschedule",
        {"due_at": "2020-01-01T09:00:00+09:00"},
    )
    assert past.status_code == 422
    # Department authors do not publish: the action refuses them.
    refused = post_json(
        client_for(author),
        f"/api/v1/publications/{by_hand.pk}/reschedule",
        {"due_at": later.isoformat()},
    )
    assert refused.status_code == 403


def test_a_publication_outside_scope_is_404(city, other_author, client_for, by_hand) -> None:
    stranger = client_for(other_author)
    assert stranger.get(f"/api/v1/publications/{by_hand.pk}").status_code == 404
    assert post_json(stranger, f"/api/v1/publications/{by_hand.pk}/retry").status_code == 404
