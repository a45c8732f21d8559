"""Topics in the API: the organisation's active topics, and compose and the post list
using them."""

from __future__ import annotations

from sotong.api.tests.test_endpoints import compose_body, error_of, post_json
from sotong.conftest import SYSTEM
from sotong.publishing import actions
from sotong.publishing.models import DEFAULT_TOPICS, Post, Topic


def test_topics_lists_the_organisations_active_topics_in_order(
    city, other_city, author, editor, client_for
) -> None:
    actions.add_topic(editor, city, "정원")
    actions.move_topic(editor, Topic.objects.get(organisation=city, name="정원"), up=True)
    actions.retire_topic(editor, Topic.objects.get(organisation=city, name="축제"))
    actions.add_topic(SYSTEM, other_city, "해양")
    response = client_for(author).get("/api/v1/topics")
    assert response.status_code == 200
    names = [topic["name"] for topic in response.json()]
    expected = [name for name in DEFAULT_TOPICS if name != "축제"]
    expected.insert(len(expected) - 1, "정원")
    assert names == expected  # not 축제 (retired), not 여수's 해양
    assert {"id", "name", "position"} == set(response.json()[0])


def test_compose_refuses_a_retired_or_unknown_topic_and_keeps_nothing(
    city, author, editor, facebook, client_for
) -> None:
    actions.retire_topic(editor, Topic.objects.get(organisation=city, name="축제"))
    client = client_for(author)
    for topics in (["축제"], ["안전", "축구"]):
        response = post_json(client, "/api/v1/posts", compose_body(city, [facebook], topics=topics))
        assert response.status_code == 422
        (message,) = error_of(response)["fields"]["topics"]
        assert message.startswith("제공하지 않는 주제입니다")
        assert "축제" not in message.split(":", 2)[-1]  # the choices offered leave it out
    assert not Post.objects.exists()
    made = post_json(client, "/api/v1/posts", compose_body(city, [facebook], topics=["정원"]))
    assert made.status_code == 422
    actions.add_topic(editor, city, "정원")
    made = post_json(client, "/api/v1/posts", compose_body(city, [facebook], topics=[" 정원 "]))
    assert made.status_code == 201
    assert made.json()["topics"] == ["정원"]


def test_posts_filter_by_topic_including_a_retired_one(
    city, author, editor, facebook, client_for
) -> None:
    client = client_for(author)
    festival = post_json(
        client, "/api/v1/posts", compose_body(city, [facebook], topics=["축제"], title="축제")
    ).json()
    post_json(client, "/api/v1/posts", compose_body(city, [facebook], topics=["교통"]))
    actions.retire_topic(editor, Topic.objects.get(organisation=city, name="축제"))
    page = client.get("/api/v1/posts", {"topic": "축제"}).json()
    assert (page["count"], page["items"][0]["id"]) == (1, festival["id"])
    assert client.get("/api/v1/posts", {"topic": "없는주제"}).json()["count"] == 0
