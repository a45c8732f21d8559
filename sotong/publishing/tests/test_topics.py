"""Topic tags per organisation: the defaults a new organisation starts with, adding,
renaming (on the posts too), retiring and restoring, ordering; who may; what compose, the
settings page and the post list accept."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from sotong.conftest import SYSTEM
from sotong.core import actions as core_actions
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.publishing import actions
from sotong.publishing.forms import ComposeForm
from sotong.publishing.models import DEFAULT_TOPICS, Post, PostRevision, Topic
from sotong.publishing.tests.test_actions import connect, write


@pytest.fixture
def author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


def names(city, *, active_only: bool = False) -> list[str]:
    topics = actions.topics_of(city)
    if active_only:
        topics = topics.filter(active=True)
    return [topic.name for topic in topics]


def topic(city, name: str) -> Topic:
    return Topic.objects.get(organisation=city, name=name)


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


# -- defaults ------------------------------------------------------------------------------


def test_a_new_organisation_starts_with_the_default_topics(city, other_city) -> None:
    assert names(city) == list(DEFAULT_TOPICS)
    assert names(other_city) == list(DEFAULT_TOPICS)
    assert AuditEntry.objects.filter(
        action="topic.add_defaults", organisation=city
    ).get().after == {"topics": list(DEFAULT_TOPICS)}
    # Each organisation owns its own rows: changing one leaves the other alone.
    actions.retire_topic(SYSTEM, topic(city, "축제"))
    assert "축제" in names(other_city, active_only=True)


def test_defaults_are_not_added_again_to_an_organisation_that_has_topics(city) -> None:
    actions.rename_topic(SYSTEM, topic(city, "관광"), "관광·여행")
    assert actions.add_default_topics(SYSTEM, city) == []
    assert names(city)[0] == "관광·여행"
    assert Topic.objects.filter(organisation=city).count() == len(DEFAULT_TOPICS)


def test_the_cli_path_gives_a_new_city_its_topics(db) -> None:
    city = core_actions.create_organisation(SYSTEM, slug="gwangyang", name="광양시")
    assert names(city) == list(DEFAULT_TOPICS)


# -- add, rename, retire, order ------------------------------------------------------------


def test_an_editor_adds_a_topic_at_the_end(city, editor) -> None:
    added = actions.add_topic(editor, city, "  정원   ")
    assert added.name == "정원"
    assert names(city)[-1] == "정원"
    assert added.position == len(DEFAULT_TOPICS)
    entry = AuditEntry.objects.get(action="topic.add")
    assert entry.after["name"] == "정원"
    assert entry.actor_label == editor.user.username


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "주제 이름을 입력해 주세요."),
        ("   ", "주제 이름을 입력해 주세요."),
        ("관광", "‘관광’ 주제가 이미 있습니다."),
        ("가" * 31, "주제 이름이 너무 깁니다(최대 30자)."),
    ],
)
def test_a_bad_topic_name_is_refused(city, editor, typed, message) -> None:
    with pytest.raises(ValidationError) as refused:
        actions.add_topic(editor, city, typed)
    assert refused.value.message_dict == {"name": [message]}
    assert Topic.objects.filter(organisation=city).count() == len(DEFAULT_TOPICS)


def test_names_are_unique_whatever_the_case_spacing_or_unicode_form(city, editor) -> None:
    actions.add_topic(editor, city, "Eco Tour")
    for same in ("eco tour", "ECO   TOUR", " Eco Tour "):
        with pytest.raises(ValidationError):
            actions.add_topic(editor, city, same)
    # 관광 typed on a Mac arrives decomposed (NFD): still the same topic.
    import unicodedata

    with pytest.raises(ValidationError):
        actions.add_topic(editor, city, unicodedata.normalize("NFD", "관광"))


def test_a_department_author_or_another_city_cannot_change_topics(
    city, other_city, author, make_staff
) -> None:
    with pytest.raises(PermissionDenied):
        actions.add_topic(author, city, "정원")
    with pytest.raises(PermissionDenied):
        actions.retire_topic(author, topic(city, "축제"))
    stranger = make_staff(other_city, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        actions.rename_topic(stranger, topic(city, "축제"), "행사")
    assert names(city) == list(DEFAULT_TOPICS)


def test_renaming_renames_the_tag_on_posts_and_keeps_their_history(
    city, sim, author, editor
) -> None:
    facebook = connect(city, sim, "facebook")
    tagged = write(author, city, [facebook], topics=["환경", "안전"])
    other = write(author, city, [facebook], topics=["교통"])
    updated_at = Post.objects.get(pk=tagged.pk).updated_at
    actions.rename_topic(editor, topic(city, "환경"), "환경·기후")
    tagged.refresh_from_db()
    other.refresh_from_db()
    assert tagged.topics == ["환경·기후", "안전"]
    assert other.topics == ["교통"]
    assert tagged.updated_at == updated_at  # re-tagging is not an edit of the post
    # The record of what the post said when it was written is unchanged.
    assert PostRevision.objects.get(post=tagged).snapshot["topics"] == ["환경", "안전"]
    entry = AuditEntry.objects.get(action="topic.rename")
    assert entry.before == {"name": "환경"}
    assert (entry.after["name"], entry.after["posts"]) == ("환경·기후", [tagged.pk])


def test_renaming_only_the_case_is_allowed_but_not_onto_another_topic(city, editor) -> None:
    eco = actions.add_topic(editor, city, "eco")
    assert actions.rename_topic(editor, eco, "Eco").name == "Eco"
    with pytest.raises(ValidationError) as refused:
        actions.rename_topic(editor, eco, "복지")
    assert refused.value.message_dict == {"name": ["‘복지’ 주제가 이미 있습니다."]}


def test_a_retired_topic_stays_on_old_posts_but_compose_refuses_it(
    city, sim, author, editor
) -> None:
    facebook = connect(city, sim, "facebook")
    old = write(author, city, [facebook], topics=["축제"])
    actions.retire_topic(editor, topic(city, "축제"))
    assert "축제" not in names(city, active_only=True)
    old.refresh_from_db()
    assert old.topics == ["축제"]
    with pytest.raises(ValidationError) as refused:
        write(author, city, [facebook], topics=["축제"])
    assert "축제" in refused.value.message_dict["topics"][0]
    assert Post.objects.count() == 1
    # Editing the old post's text does not take its tag away.
    actions.edit_variant(author, old.variants.get(), "축제 일정이 바뀌었습니다.")
    old.refresh_from_db()
    assert old.topics == ["축제"]
    # Offered to a post that already has it, to nobody else.
    assert "축제" in actions.offered_topics(city, current=old.topics)
    assert "축제" not in actions.offered_topics(city)
    # Found by it in the post list.
    assert list(actions.with_topic(Post.objects.all(), "축제")) == [old]
    actions.restore_topic(editor, topic(city, "축제"))
    assert write(author, city, [facebook], topics=["축제"]).topics == ["축제"]
    assert [
        e.action for e in AuditEntry.objects.filter(action__startswith="topic.r").order_by("id")
    ] == [
        "topic.retire",
        "topic.restore",
    ]


def test_compose_refuses_an_unknown_topic_and_spells_known_ones_as_the_list_does(
    city, sim, author, editor
) -> None:
    facebook = connect(city, sim, "facebook")
    actions.add_topic(editor, city, "Eco Tour")
    with pytest.raises(ValidationError) as refused:
        write(author, city, [facebook], topics=["안전", "축구"])
    assert refused.value.message_dict["topics"][0].startswith("제공하지 않는 주제입니다: 축구.")
    post = write(author, city, [facebook], topics=["eco  tour", "안전", "안전"])
    assert post.topics == ["Eco Tour", "안전"]


def test_moving_swaps_with_the_neighbour_and_stops_at_the_ends(city, editor) -> None:
    first, second = names(city)[:2]
    actions.move_topic(editor, topic(city, second), up=True)
    assert names(city)[:2] == [second, first]
    actions.move_topic(editor, topic(city, second), up=True)  # already first: nothing
    assert names(city)[:2] == [second, first]
    last = names(city)[-1]
    actions.move_topic(editor, topic(city, last), up=False)
    assert names(city)[-1] == last
    actions.move_topic(editor, topic(city, first), up=False)
    assert names(city)[:3] == [second, DEFAULT_TOPICS[2], first]
    positions = list(actions.topics_of(city).values_list("position", flat=True))
    assert positions == list(range(len(DEFAULT_TOPICS)))
    assert AuditEntry.objects.filter(action="topic.move").count() == 2


# -- pages ---------------------------------------------------------------------------------


def test_the_compose_form_offers_the_organisations_active_topics(city, author, editor) -> None:
    actions.add_topic(editor, city, "정원")
    actions.retire_topic(editor, topic(city, "행정"))
    actions.move_topic(editor, topic(city, "정원"), up=True)
    form = ComposeForm(staff=author)
    offered = [value for value, _label in form.fields["topics"].choices]
    assert offered == [*DEFAULT_TOPICS[:-1], "정원"]  # 행정 retired, 정원 moved above it
    page = signed_in(author).get(reverse("publishing:compose")).content.decode()
    assert 'value="정원"' in page
    assert 'value="행정"' not in page
    bound = ComposeForm({"topics": ["행정"]}, staff=author)
    assert not bound.is_valid()
    assert "topics" in bound.errors


def test_the_settings_page_adds_renames_retires_and_orders(city, editor) -> None:
    client = signed_in(editor)
    url = reverse("topics:list")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for name in DEFAULT_TOPICS:
        assert f'<th scope="row">{name}</th>' in html
    response = client.post(url, {"name": "정원"}, follow=True)
    assert response.redirect_chain[-1][0] == url
    assert "정원" in names(city, active_only=True)
    garden = topic(city, "정원")
    client.post(reverse("topics:action", args=[garden.pk, "up"]))
    assert names(city)[-2:] == ["정원", "행정"]
    client.post(reverse("topics:rename", args=[garden.pk]), {"name": "정원·숲"})
    assert names(city)[-2] == "정원·숲"
    client.post(reverse("topics:action", args=[garden.pk, "retire"]))
    assert not Topic.objects.get(pk=garden.pk).active
    assert "정원·숲" in client.get(url).content.decode()  # still listed, as retired
    client.post(reverse("topics:action", args=[garden.pk, "restore"]))
    assert Topic.objects.get(pk=garden.pk).active


def test_the_settings_page_shows_errors_in_korean_and_keeps_what_was_typed(city, editor) -> None:
    client = signed_in(editor)
    client.cookies["django_language"] = "ko"
    url = reverse("topics:list")
    response = client.post(url, {"name": "관광"}, HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 400
    assert "이미 있습니다" in response.content.decode()
    response = client.post(url, {"name": ""}, HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 400
    assert "주제 이름을 입력해 주세요" in response.content.decode()
    tour = topic(city, "관광")
    response = client.post(
        reverse("topics:rename", args=[tour.pk]), {"name": "축제"}, HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'value="축제"' in html
    assert names(city) == list(DEFAULT_TOPICS)


def test_an_author_cannot_open_the_settings_page_nor_post_to_it(city, author, editor) -> None:
    client = signed_in(author)
    assert client.get(reverse("topics:list")).status_code == 403
    tour = topic(city, "관광")
    assert client.post(reverse("topics:action", args=[tour.pk, "retire"])).status_code == 403
    assert topic(city, "관광").active
    assert reverse("topics:list") not in client.get(reverse("web:settings")).content.decode()
    assert reverse("topics:list") in signed_in(editor).get(reverse("web:settings")).content.decode()


def test_another_citys_topic_is_not_found(city, other_city, editor) -> None:
    theirs = Topic.objects.filter(organisation=other_city).first()
    client = signed_in(editor)
    response = client.post(reverse("topics:action", args=[theirs.pk, "retire"]))
    assert response.status_code == 404
    assert Topic.objects.get(pk=theirs.pk).active


def test_the_post_list_filters_by_topic_including_retired_ones(city, sim, author, editor) -> None:
    facebook = connect(city, sim, "facebook")
    festival = write(author, city, [facebook], title="축제 안내", topics=["축제"])
    write(author, city, [facebook], title="교통 안내", topics=["교통"])
    actions.retire_topic(editor, topic(city, "축제"))
    client = signed_in(editor)
    page = client.get(reverse("publishing:posts"), {"topic": "축제"}).content.decode()
    assert festival.title in page
    assert "교통 안내" not in page
