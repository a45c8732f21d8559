"""The API after publishing: withdrawing a post, its history (revisions), each
publication's changes, and retrying or confirming a change — with the refusals and the
department scoping the web pages have."""

from __future__ import annotations

import pytest

from sotong.api.tests.test_endpoints import compose_body, error_of, post_json
from sotong.core.models import AuditEntry
from sotong.publishing import actions, propagation
from sotong.publishing.models import (
    ChangeKind,
    ChangeState,
    Post,
    PostStatus,
    PublicationChange,
    PublicationState,
    RevisionReason,
)
from sotong.publishing.tests.test_actions import connect
from sotong.publishing.tests.test_propagation import NEW_TEXT, published


@pytest.fixture
def out_on_facebook(city, author, editor, facebook):
    post, (publication,) = published(author, editor, city, [facebook])
    return post, publication


def test_withdraw_deletes_what_is_out_and_the_detail_shows_history_and_changes(
    city, author, editor, client_for, out_on_facebook
) -> None:
    post, _publication = out_on_facebook
    response = post_json(
        client_for(editor), f"/api/v1/posts/{post.pk}/withdraw", {"reason": "공사 일정 취소"}
    )
    assert response.status_code == 200, response.content
    detail = response.json()
    assert (detail["status"], detail["withdraw_reason"]) == ("withdrawn", "공사 일정 취소")
    assert detail["withdrawn_at"].endswith("+09:00")
    assert [(r["number"], r["why"]) for r in detail["revisions"]] == [
        (1, "composed"),
        (2, "withdrawn"),
    ]
    withdrawn = detail["revisions"][1]
    assert withdrawn["by"] == editor.display_name
    assert (withdrawn["note"], withdrawn["why_label"]) == (
        "공사 일정 취소",
        str(RevisionReason.WITHDRAWN.label),
    )
    (out,) = detail["publications"]
    (change,) = out["changes"]
    assert (change["kind"], change["state"], change["by_hand"]) == ("delete", "pending", False)
    assert change["requested_by"] == editor.display_name
    # The worker deletes it; the API then says so.
    assert propagation.propagate_due().done == 1
    again = client_for(author).get(f"/api/v1/posts/{post.pk}").json()
    (out,) = again["publications"]
    assert out["state"] == PublicationState.WITHDRAWN
    assert out["withdrawn_at"] is not None
    assert out["changes"][0]["state"] == "done"
    assert AuditEntry.objects.filter(action="post.withdraw").count() == 1


def test_withdraw_without_a_reason_is_a_clear_400_and_changes_nothing(
    city, editor, client_for, out_on_facebook
) -> None:
    post, _publication = out_on_facebook
    client = client_for(editor)
    for body in ({}, {"reason": "   "}):
        response = post_json(client, f"/api/v1/posts/{post.pk}/withdraw", body)
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "invalid"
        assert error["fields"] == {"reason": ["게시 취소 사유를 적어 주세요."]}
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert not PublicationChange.objects.exists()


def test_withdraw_is_for_publishers_and_within_scope(
    city, author, other_author, client_for, out_on_facebook
) -> None:
    post, _publication = out_on_facebook
    # The author sees the post but may not take it back; another department cannot see it.
    own = post_json(client_for(author), f"/api/v1/posts/{post.pk}/withdraw", {"reason": "x"})
    assert own.status_code == 403
    stranger = post_json(
        client_for(other_author), f"/api/v1/posts/{post.pk}/withdraw", {"reason": "x"}
    )
    assert stranger.status_code == 404
    assert Post.objects.get(pk=post.pk).status == PostStatus.APPROVED


def test_a_draft_cannot_be_withdrawn(city, author, editor, facebook, client_for) -> None:
    post = post_json(client_for(author), "/api/v1/posts", compose_body(city, [facebook])).json()
    response = post_json(
        client_for(editor), f"/api/v1/posts/{post['id']}/withdraw", {"reason": "x"}
    )
    assert response.status_code == 400
    assert Post.objects.get(pk=post["id"]).status == PostStatus.DRAFT


def test_editing_a_published_variant_through_the_api_goes_back_for_approval(
    city, author, editor, client_for, out_on_facebook
) -> None:
    post, _publication = out_on_facebook
    variant = post.variants.get()
    response = client_for(author).put(
        f"/api/v1/posts/{post.pk}/variants/{variant.pk}",
        {"text": NEW_TEXT},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    approved = post_json(client_for(editor), f"/api/v1/posts/{post.pk}/approve").json()
    (out,) = approved["publications"]
    assert [(c["kind"], c["state"], c["text"]) for c in out["changes"]] == [
        ("edit", "pending", NEW_TEXT)
    ]
    assert approved["revisions"][-1]["why"] == "edited_after_publishing"


def test_a_by_hand_change_is_confirmed_and_cannot_be_retried(
    city, sim, author, editor, client_for
) -> None:
    x = connect(city, sim, "x")
    post, (publication,) = published(author, editor, city, [x])
    actions.edit_published(author, post.variants.get(), "짧게 고친 안내입니다.")
    actions.approve(editor, post)
    change = PublicationChange.objects.get()
    client = client_for(editor)
    detail = client.get(f"/api/v1/posts/{post.pk}").json()
    (listed,) = detail["publications"][0]["changes"]
    assert (listed["id"], listed["by_hand"], listed["text"]) == (
        change.pk,
        True,
        "짧게 고친 안내입니다.",
    )
    retried = post_json(client, f"/api/v1/changes/{change.pk}/retry")
    assert retried.status_code == 400
    assert (
        error_of(retried)["message"] == "실패했거나 보류·확인 안 된 변경만 다시 시도할 수 있습니다."
    )
    # Even once marked failed, X cannot edit: the answer says to do it by hand.
    PublicationChange.objects.filter(pk=change.pk).update(state=ChangeState.FAILED)
    retried = post_json(client, f"/api/v1/changes/{change.pk}/retry")
    assert retried.status_code == 400
    assert (
        error_of(retried)["message"] == "이 플랫폼은 변경을 지원하지 않습니다. 직접 처리해 주세요."
    )
    confirmed = post_json(client, f"/api/v1/changes/{change.pk}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    body = confirmed.json()
    assert (body["state"], body["done_by_hand"]) == ("done", True)
    assert body["done_at"].endswith("+09:00")
    publication.refresh_from_db()
    assert publication.platform_text == "짧게 고친 안내입니다."
    # Done once: confirming again is refused.
    assert post_json(client, f"/api/v1/changes/{change.pk}/confirm").status_code == 400


def test_confirming_a_change_the_worker_is_to_make_is_refused(
    city, editor, client_for, out_on_facebook
) -> None:
    post, _publication = out_on_facebook
    actions.withdraw(editor, post, reason="중복 게시")
    change = PublicationChange.objects.get()
    assert (change.kind, change.state) == (ChangeKind.DELETE, ChangeState.PENDING)
    response = post_json(client_for(editor), f"/api/v1/changes/{change.pk}/confirm")
    assert response.status_code == 400
    assert error_of(response)["message"] == "사람이 처리할 변경이 아닙니다."
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING


def test_a_failed_change_is_retried_through_the_api(city, sim, author, editor, client_for) -> None:
    telegram = connect(city, sim, "telegram")
    post, (publication,) = published(author, editor, city, [telegram])
    actions.edit_published(author, post.variants.get(), NEW_TEXT)
    actions.approve(editor, post)
    for chat in sim.simulator["telegram"].chats.values():
        chat.messages.pop(int(publication.external_id.split(",")[0]), None)
    assert propagation.propagate_due().failed == 1
    change = PublicationChange.objects.get()
    client = client_for(editor)
    listed = client.get(f"/api/v1/publications/{publication.pk}").json()["changes"]
    assert listed[0]["state"] == "failed"
    assert "not found" in listed[0]["reason"]
    response = post_json(client, f"/api/v1/changes/{change.pk}/retry")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "pending"
    assert AuditEntry.objects.filter(action="publication_change.retry").count() == 1


def test_changes_are_scoped_like_their_posts(
    city, author, other_author, editor, client_for, out_on_facebook
) -> None:
    post, _publication = out_on_facebook
    actions.withdraw(editor, post, reason="중복 게시")
    change = PublicationChange.objects.get()
    PublicationChange.objects.filter(pk=change.pk).update(state=ChangeState.FAILED)
    stranger = client_for(other_author)
    for action in ("retry", "confirm"):
        response = post_json(stranger, f"/api/v1/changes/{change.pk}/{action}")
        assert response.status_code == 404
        assert error_of(response) == error_of(post_json(stranger, f"/api/v1/changes/0/{action}"))
    # The post's own author sees it, but settling changes is for publishers.
    assert post_json(client_for(author), f"/api/v1/changes/{change.pk}/confirm").status_code == 403
    assert PublicationChange.objects.get(pk=change.pk).state == ChangeState.FAILED
