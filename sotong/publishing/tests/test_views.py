"""The publishing pages with Django's test client: compose with its live preview, the post
page (variants, approval, publications), the approval queue and the list of posts;
permissions, department scoping and Korean validation errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from sotong.channels import actions as channel_actions
from sotong.channels.models import Channel
from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.platforms.base import Credentials
from sotong.publishing import actions, adapt, dispatch
from sotong.publishing.models import (
    Campaign,
    Post,
    PostStatus,
    Publication,
    PublicationState,
    ReviewDecision,
)
from sotong.publishing.views import problem_label

TITLE = "조례동 하수관로 교체 공사 안내"
BODY = "11.24.~11.28. 조례동 일부 구간을 통제합니다. 우회도로를 이용해 주세요."


def add_channel(city, kind: str, name: str, *, department=None, api_base: str = "") -> Channel:
    """A channel saved without calling the platform (only dispatch needs one that answers)."""
    return channel_actions.connect_channel(
        SYSTEM,
        city,
        kind=kind,
        name=name,
        account_id=f"{kind}-{name}",
        credentials=Credentials(access_token="token"),
        department=department,
        api_base=api_base,
        verify=False,
    )


@pytest.fixture
def facebook(city) -> Channel:
    return add_channel(city, "facebook", "순천시 페이스북")


@pytest.fixture
def band(city) -> Channel:
    return add_channel(city, "band", "순천시 밴드")


@pytest.fixture
def x(city) -> Channel:
    return add_channel(city, "x", "순천시 X")


@pytest.fixture
def author(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")


@pytest.fixture
def editor(city, make_staff):
    return make_staff(city, Role.PR_EDITOR, "pr")


def as_(client, staff):
    client.force_login(staff.user)
    return client


def compose_data(city, channels, **overrides) -> dict:
    data = {
        "department": department(city, "sewer").pk,
        "title": TITLE,
        "body": BODY,
        "link": "https://www.suncheon.go.kr/sewer",
        "hashtags": "#순천, 공사안내",
        "topics": ["교통", "안전"],
        "channels": [channel.pk for channel in channels],
        "publish_at": "",
        "campaign": "",
        "new_campaign": "",
    }
    data.update(overrides)
    return data


def write(author, city, channels, **overrides) -> Post:
    fields = {
        "department": department(city, "sewer"),
        "title": TITLE,
        "body": BODY,
        "link": "https://www.suncheon.go.kr/sewer",
        "hashtags": ["순천", "공사안내"],
        "channels": channels,
        **overrides,
    }
    return actions.compose(author, city, **fields)


def later(hours: int = 2) -> str:
    return timezone.localtime(timezone.now() + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def page(response) -> str:
    return response.content.decode()


# -- compose ---------------------------------------------------------------------------------


def test_compose_page_offers_own_department_and_postable_channels(
    client, city, author, facebook, band
) -> None:
    add_channel(city, "youtube", "순천시 유튜브")  # takes videos, not posts
    paused = add_channel(city, "mastodon", "순천시 마스토돈")
    channel_actions.pause_channel(SYSTEM, paused)
    add_channel(city, "telegram", "교통과 텔레그램", department=department(city, "traffic"))
    own = add_channel(city, "telegram", "하수도과 텔레그램", department=department(city, "sewer"))
    response = as_(client, author).get(reverse("publishing:compose"))
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields["department"].queryset) == [department(city, "sewer")]
    offered = set(form.fields["channels"].queryset)
    assert offered == {facebook, band, own}
    html = page(response)
    assert "순천시 페이스북 (Facebook)" in html
    assert "순천시 유튜브" not in html
    assert 'type="datetime-local"' in html
    for topic in ("관광", "축제", "행정"):
        assert f'value="{topic}"' in html


def test_editors_may_write_for_any_department(client, city, editor, facebook) -> None:
    response = as_(client, editor).get(reverse("publishing:compose"))
    names = {d.name for d in response.context["form"].fields["department"].queryset}
    assert {"하수도과", "교통과", "홍보담당관"} <= names


def test_compose_saves_the_post_with_a_new_campaign(client, city, author, facebook, band) -> None:
    data = compose_data(
        city, [facebook, band], new_campaign="순천만갈대축제 2026", publish_at=later()
    )
    response = as_(client, author).post(reverse("publishing:compose"), data)
    post = Post.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("publishing:post", args=[post.pk])
    assert (post.author, post.status) == (author, PostStatus.DRAFT)
    assert post.hashtags == ["순천", "공사안내"]
    assert post.topics == ["교통", "안전"]
    assert post.campaign.name == "순천만갈대축제 2026"
    assert timezone.localtime(post.publish_at).strftime("%Y-%m-%dT%H:%M") == data["publish_at"]
    texts = {v.channel.kind: v.text for v in post.variants.select_related("channel")}
    assert texts["band"].startswith(f"[안내] {TITLE}")
    assert texts["facebook"].endswith("#순천 #공사안내")


def test_compose_uses_an_existing_campaign(client, city, author, editor, facebook) -> None:
    festival = actions.campaign_named(editor, city, "순천만갈대축제 2026")
    as_(client, author).post(
        reverse("publishing:compose"), compose_data(city, [facebook], campaign=festival.pk)
    )
    assert Post.objects.get().campaign == festival
    assert Campaign.objects.count() == 1


def test_compose_errors_are_korean_and_keep_the_input(client, city, author, facebook) -> None:
    response = as_(client, author).post(
        reverse("publishing:compose"),
        compose_data(city, [], title="", link="not a link", publish_at="내일 아침"),
    )
    assert response.status_code == 200
    html = page(response)
    assert "채널을 하나 이상 선택하세요." in html
    assert "필수 항목입니다" in html  # the title
    assert "올바른 URL을 입력하세요" in html
    assert "날짜와 시각을 입력하세요" in html
    assert BODY in html  # nothing typed is lost
    assert not Post.objects.exists()


def test_compose_refuses_a_campaign_chosen_and_typed(
    client, city, author, editor, facebook
) -> None:
    festival = actions.campaign_named(editor, city, "순천만갈대축제 2026")
    response = as_(client, author).post(
        reverse("publishing:compose"),
        compose_data(city, [facebook], campaign=festival.pk, new_campaign="다른 캠페인"),
    )
    assert "둘 다 할 수는 없습니다" in page(response)
    assert not Post.objects.exists()
    assert Campaign.objects.count() == 1


def test_an_author_cannot_write_for_another_department(client, city, author, facebook) -> None:
    response = as_(client, author).post(
        reverse("publishing:compose"),
        compose_data(city, [facebook], department=department(city, "traffic").pk),
    )
    # Not among the choices: a form error, and nothing saved.
    assert response.status_code == 200
    assert "올바르게 선택해 주세요" in page(response)
    assert not Post.objects.exists()


def test_an_action_error_lands_on_the_form_and_rolls_back_the_campaign(
    client, city, author, facebook, monkeypatch
) -> None:
    def refuse(*args, **kwargs):
        raise ValidationError({"channels": "채널 점검 중입니다."})

    monkeypatch.setattr(actions, "compose", refuse)
    response = as_(client, author).post(
        reverse("publishing:compose"), compose_data(city, [facebook], new_campaign="새 캠페인")
    )
    assert "채널 점검 중입니다." in page(response)
    assert not Campaign.objects.exists()  # created inside the same transaction, rolled back


def test_viewers_and_responders_cannot_compose(client, city, make_staff, facebook) -> None:
    viewer = make_staff(city, Role.VIEWER)
    responder = make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")
    for staff in (viewer, responder):
        assert as_(client, staff).get(reverse("publishing:compose")).status_code == 403
        assert (
            client.post(reverse("publishing:compose"), compose_data(city, [facebook])).status_code
            == 403
        )
    assert not Post.objects.exists()


def test_compose_needs_sign_in(client, db) -> None:
    response = client.get(reverse("publishing:compose"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# -- the live preview ------------------------------------------------------------------------


def test_preview_shows_each_channel_as_adapt_renders_it(client, city, author, facebook, band, x):
    data = compose_data(city, [facebook, band, x], body="가" * 300)
    response = as_(client, author).post(reverse("publishing:preview"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = page(response)
    content = adapt.PostContent(
        TITLE, "가" * 300, "https://www.suncheon.go.kr/sewer", ("순천", "공사안내")
    )
    items = {item.channel.kind: item for item in response.context["preview"]}
    assert set(items) == {"facebook", "band", "x"}
    for kind, item in items.items():
        assert item.text == adapt.adapt(kind, content)
    # X counts Hangul as 2: the body was shortened to fit, and the count says so.
    x_length = adapt.platform_length("x", items["x"].text)
    assert items["x"].text.endswith("#순천 #공사안내")
    assert f"{x_length}/280자" in html
    assert f"{280 - x_length}자 남음" in html
    assert "[안내] 조례동" in html
    assert "길이 제한 없음" in html  # Band has no limit
    assert "<h3>" in html
    assert "순천시 밴드" in html


def test_preview_follows_unfinished_input(client, city, author, facebook) -> None:
    # No title yet, no valid link: the preview still shows what there is.
    data = compose_data(city, [facebook], title="", link="www", hashtags="")
    response = as_(client, author).post(reverse("publishing:preview"), data)
    assert [item.text for item in response.context["preview"]] == [BODY]


def test_preview_without_channels_asks_to_choose(client, city, author, facebook) -> None:
    response = as_(client, author).post(reverse("publishing:preview"), compose_data(city, []))
    assert "채널을 고르면" in page(response)


def test_preview_names_problems_in_korean(client, city, author) -> None:
    instagram = add_channel(city, "instagram", "순천시 인스타그램")
    mastodon = add_channel(city, "mastodon", "순천시 마스토돈")
    data = compose_data(city, [instagram, mastodon], body="가" * 10, link="", hashtags="")
    html = page(as_(client, author).post(reverse("publishing:preview"), data))
    assert "이미지가 필요합니다" in html
    # A variant's own text that is too long: the live count on the post page.
    post = write(author, city, [mastodon])
    variant = post.variants.get()
    response = client.post(
        reverse("publishing:preview"),
        {"variant": variant.pk, f"variant-{variant.pk}-text": "가" * 512},
    )
    assert "12자 초과" in page(response)
    assert "512/500자" in page(response)


def test_problem_labels() -> None:
    assert problem_label("too_long:12") == "12자 초과"
    assert problem_label("image_required") == "이미지가 필요합니다"
    assert problem_label("empty") == "내용이 없습니다"
    assert problem_label("too_many_hashtags:30") == "해시태그는 30개까지 쓸 수 있습니다"
    assert problem_label("too_many_images:4") == "이미지는 4장까지 올릴 수 있습니다"


def test_preview_scoping_and_permissions(client, city, make_staff, author, facebook) -> None:
    traffic_author = make_staff(city, Role.DEPARTMENT_AUTHOR, "traffic")
    variant = write(author, city, [facebook]).variants.get()
    as_(client, traffic_author)
    assert (
        client.post(reverse("publishing:preview"), {"variant": variant.pk, "text": "x"}).status_code
        == 404
    )
    assert client.get(reverse("publishing:preview")).status_code == 405
    as_(client, make_staff(city, Role.VIEWER))
    assert client.post(reverse("publishing:preview"), compose_data(city, [])).status_code == 403


# -- the post page -----------------------------------------------------------------------------


def test_post_page_shows_variants_fit_and_timeline(client, city, author, facebook, x) -> None:
    post = write(author, city, [facebook, x])
    response = as_(client, author).get(reverse("publishing:post", args=[post.pk]))
    html = page(response)
    assert response.status_code == 200
    assert TITLE in html
    assert "하수도과" in html
    assert "초안" in html
    assert "순천시 X 문안" in html  # the edit form's label
    x_text = post.variants.get(channel=x).text
    assert f"{adapt.platform_length('x', x_text)}/280자" in html
    assert "승인 요청" in html
    assert "승인 결정" not in html  # authors do not approve
    assert "작성 ·" in html


def test_department_staff_never_see_another_departments_post(
    client, city, make_staff, author, facebook
) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post, publish_at=timezone.now() + dt.timedelta(hours=1))
    publication = Publication.objects.get()
    other = make_staff(city, Role.DEPARTMENT_AUTHOR, "traffic")
    as_(client, other)
    assert client.get(reverse("publishing:post", args=[post.pk])).status_code == 404
    assert TITLE not in page(client.get(reverse("publishing:posts")))
    assert (
        client.post(reverse("publishing:post_action", args=[post.pk, "submit"])).status_code == 404
    )
    variant = post.variants.get()
    assert (
        client.post(
            reverse("publishing:variant_edit", args=[variant.pk]), {"text": "바꿈"}
        ).status_code
        == 404
    )
    variant.refresh_from_db()
    assert variant.text != "바꿈"
    # And an editor of another city does not see it at all.
    from sotong.core import actions as core_actions

    other_city = core_actions.create_organisation(SYSTEM, slug="yeosu", name="여수시")
    stranger = make_staff(other_city, Role.PR_EDITOR)
    as_(client, stranger)
    assert client.get(reverse("publishing:post", args=[post.pk])).status_code == 404
    assert (
        client.post(
            reverse("publishing:publication_action", args=[publication.pk, "retry"])
        ).status_code
        == 404
    )


def test_edit_a_variant(client, city, author, facebook) -> None:
    post = write(author, city, [facebook])
    variant = post.variants.get()
    response = as_(client, author).post(
        reverse("publishing:variant_edit", args=[variant.pk]),
        {f"variant-{variant.pk}-text": "  고친 공지입니다.  "},
    )
    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.text, variant.edited) == ("고친 공지입니다.", True)
    followed = client.get(response["Location"])
    assert "순천시 페이스북 문안을 저장했습니다." in page(followed)


def test_an_empty_variant_is_refused_in_korean(client, city, author, facebook) -> None:
    variant = write(author, city, [facebook]).variants.get()
    response = as_(client, author).post(
        reverse("publishing:variant_edit", args=[variant.pk]), {f"variant-{variant.pk}-text": ""}
    )
    assert response.status_code == 400
    assert "필수 항목입니다" in page(response)


def test_a_rejected_posts_variant_cannot_be_edited(client, city, author, editor, facebook) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post, publish_at=timezone.now() + dt.timedelta(hours=1))
    actions.reject(editor, post, comment="시기가 맞지 않습니다")
    variant = post.variants.get()
    before = variant.text
    response = as_(client, author).post(
        reverse("publishing:variant_edit", args=[variant.pk]),
        {f"variant-{variant.pk}-text": "그래도 고칩니다"},
    )
    # The page comes back with the reason; no edit form is offered for a rejected post.
    assert response.status_code == 400
    assert "반려된 글은 수정할 수 없습니다." in page(response)
    variant.refresh_from_db()
    assert variant.text == before


def test_submit_schedules_the_publications(client, city, author, facebook, band) -> None:
    post = write(author, city, [facebook, band])
    when = later(3)
    response = as_(client, author).post(
        reverse("publishing:post_action", args=[post.pk, "submit"]), {"publish_at": when}
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert timezone.localtime(post.publish_at).strftime("%Y-%m-%dT%H:%M") == when
    assert Publication.objects.filter(state=PublicationState.SCHEDULED).count() == 2
    html = page(client.get(response["Location"]))
    assert "승인을 요청했습니다." in html
    assert "승인 대기" in html
    assert "예약됨" in html


def test_submit_refuses_a_variant_that_does_not_fit(client, city, author, facebook, x) -> None:
    post = write(author, city, [facebook, x])
    actions.edit_variant(author, post.variants.get(channel=x), "가" * 141)
    response = as_(client, author).post(
        reverse("publishing:post_action", args=[post.pk, "submit"]), {"publish_at": later()}
    )
    assert response.status_code == 400
    html = page(response)
    assert "채널 규칙에 맞지 않는 문안이 있습니다: 순천시 X" in html
    assert "2자 초과" in html  # the X variant's fit, on the same page
    assert not Publication.objects.exists()
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_submit_refuses_a_time_that_has_passed_or_is_missing(
    client, city, author, facebook
) -> None:
    post = write(author, city, [facebook])
    as_(client, author)
    url = reverse("publishing:post_action", args=[post.pk, "submit"])
    past = later(-3)
    response = client.post(url, {"publish_at": past})
    assert "이미 지난 시각입니다" in page(response)
    assert f'value="{past}"' in page(response)  # the typed time is kept
    assert "게시할 시각을 정하세요." in page(client.post(url, {"publish_at": ""}))
    assert not Publication.objects.exists()


def test_approve_from_the_post_page(client, city, author, editor, facebook) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post, publish_at=timezone.now() + dt.timedelta(hours=1))
    as_(client, editor)
    html = page(client.get(reverse("publishing:post", args=[post.pk])))
    assert "승인 결정" in html
    assert "반려" in html
    response = client.post(reverse("publishing:post_action", args=[post.pk, "approve"]))
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    html = page(client.get(response["Location"]))
    assert "승인했습니다" in html
    assert [r.decision for r in post.reviews.all()] == [
        ReviewDecision.SUBMITTED,
        ReviewDecision.APPROVED,
    ]


def test_request_changes_and_reject_need_a_comment(client, city, author, editor, facebook) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post, publish_at=timezone.now() + dt.timedelta(hours=1))
    as_(client, editor)
    for action, message in (
        ("request_changes", "무엇을 고쳐야 하는지 적어 주세요."),
        ("reject", "반려 사유를 적어 주세요."),
    ):
        response = client.post(
            reverse("publishing:post_action", args=[post.pk, action]), {"comment": "  "}
        )
        assert response.status_code == 400
        assert message in page(response)
        post.refresh_from_db()
        assert post.status == PostStatus.IN_REVIEW
    response = client.post(
        reverse("publishing:post_action", args=[post.pk, "request_changes"]),
        {"comment": "우회도로 안내를 더 자세히 적어 주세요."},
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.CHANGES_REQUESTED
    html = page(client.get(response["Location"]))
    assert "우회도로 안내를 더 자세히 적어 주세요." in html  # on the timeline
    assert Publication.objects.get().state == PublicationState.CANCELLED


def test_reject_from_the_post_page(client, city, author, editor, facebook) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post, publish_at=timezone.now() + dt.timedelta(hours=1))
    as_(client, editor).post(
        reverse("publishing:post_action", args=[post.pk, "reject"]), {"comment": "중복 공지"}
    )
    post.refresh_from_db()
    assert post.status == PostStatus.REJECTED
    assert post.reviews.last().comment == "중복 공지"


def test_authors_cannot_decide_and_unknown_actions_are_404(client, city, author, facebook) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post, publish_at=timezone.now() + dt.timedelta(hours=1))
    as_(client, author)
    for action in ("approve", "request_changes", "reject"):
        response = client.post(
            reverse("publishing:post_action", args=[post.pk, action]), {"comment": "좋아요"}
        )
        assert response.status_code == 403
    assert (
        client.post(reverse("publishing:post_action", args=[post.pk, "publish"])).status_code == 404
    )
    assert (
        client.get(reverse("publishing:post_action", args=[post.pk, "submit"])).status_code == 405
    )
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_deciding_twice_is_a_korean_error(client, city, author, editor, facebook) -> None:
    post = write(author, city, [facebook])
    as_(client, editor)
    response = client.post(reverse("publishing:post_action", args=[post.pk, "approve"]))
    assert response.status_code == 400
    assert "승인 대기 중인 글만 결정할 수 있습니다." in page(response)


# -- publications ------------------------------------------------------------------------------


def submitted_and_approved(author, editor, post, *, hours: int = 1) -> Post:
    actions.submit(author, post, publish_at=timezone.now() + dt.timedelta(hours=hours))
    return actions.approve(editor, post)


def test_reschedule_a_publication(client, city, author, editor, facebook) -> None:
    post = write(author, city, [facebook])
    submitted_and_approved(author, editor, post)
    publication = Publication.objects.get()
    as_(client, editor)
    html = page(client.get(reverse("publishing:post", args=[post.pk])))
    assert "시각 변경" in html
    when = later(5)
    response = client.post(
        reverse("publishing:publication_action", args=[publication.pk, "reschedule"]),
        {f"reschedule-{publication.pk}-due_at": when},
    )
    assert response.status_code == 302
    publication.refresh_from_db()
    assert timezone.localtime(publication.due_at).strftime("%Y-%m-%dT%H:%M") == when
    bad = client.post(
        reverse("publishing:publication_action", args=[publication.pk, "reschedule"]),
        {f"reschedule-{publication.pk}-due_at": "언젠가"},
    )
    assert bad.status_code == 400
    assert "날짜와 시각을 입력하세요" in page(bad)


def test_authors_cannot_act_on_publications(client, city, author, editor, facebook) -> None:
    post = write(author, city, [facebook])
    submitted_and_approved(author, editor, post)
    publication = Publication.objects.get()
    as_(client, author)
    html = page(client.get(reverse("publishing:post", args=[post.pk])))
    assert "시각 변경" not in html
    for action in ("retry", "confirm", "reschedule"):
        url = reverse("publishing:publication_action", args=[publication.pk, action])
        assert client.post(url).status_code == 403
    as_(client, editor)
    assert (
        client.post(
            reverse("publishing:publication_action", args=[publication.pk, "delete"])
        ).status_code
        == 404
    )


def test_retry_only_what_can_be_retried(client, city, author, editor, facebook) -> None:
    post = write(author, city, [facebook])
    submitted_and_approved(author, editor, post)
    publication = Publication.objects.get()
    as_(client, editor)
    url = reverse("publishing:publication_action", args=[publication.pk, "retry"])
    response = client.post(url, follow=True)
    assert "미확인 또는 실패한 게시만 다시 시도할 수 있습니다." in page(response)
    Publication.objects.filter(pk=publication.pk).update(
        state=PublicationState.FAILED, reason="(#506) Duplicate status message"
    )
    html = page(client.get(reverse("publishing:post", args=[post.pk])))
    assert "실패" in html
    assert "Duplicate status message" in html
    assert "다시 게시" in html
    response = client.post(url, follow=True)
    assert "다음 게시 차례에 다시 보냅니다" in page(response)
    publication.refresh_from_db()
    assert publication.state == PublicationState.SCHEDULED


def test_a_by_hand_publication_shows_the_text_and_is_confirmed(
    client, city, author, editor, facebook
) -> None:
    kakao = add_channel(city, "kakao", "순천시 카카오톡 채널")
    post = write(author, city, [facebook, kakao])
    submitted_and_approved(author, editor, post)
    by_hand = Publication.objects.get(channel=kakao)
    assert by_hand.state == PublicationState.BY_HAND
    as_(client, editor)
    html = page(client.get(reverse("publishing:post", args=[post.pk])))
    assert "수동 게시 대기" in html
    assert "직접 올릴 문안" in html
    assert "문안 복사" in html
    assert by_hand.variant.text.split("\n")[0] in html
    url = reverse("publishing:publication_action", args=[by_hand.pk, "confirm"])
    bad = client.post(url, {f"confirm-{by_hand.pk}-url": ""})
    assert bad.status_code == 400
    assert "플랫폼에 게시된 글의 주소를 입력하세요." in page(bad)
    response = client.post(url, {f"confirm-{by_hand.pk}-url": "https://pf.kakao.com/_xnxaxj/101"})
    assert response.status_code == 302
    by_hand.refresh_from_db()
    assert (by_hand.state, by_hand.url, by_hand.by_hand) == (
        PublicationState.PUBLISHED,
        "https://pf.kakao.com/_xnxaxj/101",
        True,
    )
    html = page(client.get(response["Location"]))
    assert 'href="https://pf.kakao.com/_xnxaxj/101"' in html
    assert "게시됨" in html


def test_held_publication_shows_why(client, city, author, facebook) -> None:
    post = write(author, city, [facebook])
    actions.submit(author, post, publish_at=timezone.now() - dt.timedelta(seconds=1))
    dispatch.dispatch_due()  # not approved by its time: held, never published
    html = page(as_(client, author).get(reverse("publishing:post", args=[post.pk])))
    assert "보류" in html
    assert "게시 시각까지 승인되지 않음" in html


def test_published_through_the_simulator(client, city, sim, author, editor) -> None:
    from sotong.publishing.tests.test_actions import connect

    facebook = connect(city, sim, "facebook")
    post = write(author, city, [facebook])
    submitted_and_approved(author, editor, post)
    publication = Publication.objects.get()
    as_(client, editor).post(
        reverse("publishing:publication_action", args=[publication.pk, "reschedule"]),
        {f"reschedule-{publication.pk}-due_at": later(0)},
    )
    assert dispatch.dispatch_due().published == 1
    publication.refresh_from_db()
    html = page(client.get(reverse("publishing:post", args=[post.pk])))
    assert "게시됨" in html
    assert f'href="{publication.url}"' in html
    assert "순천시 페이스북 문안 저장" not in html  # gone out: edited on the platform now


# -- lists -----------------------------------------------------------------------------------


def test_posts_page_lists_department_posts_with_filters(
    client, city, make_staff, author, editor, facebook
) -> None:
    draft = write(author, city, [facebook], title="하수도 초안")
    submitted = write(author, city, [facebook], title="하수도 승인 요청")
    actions.submit(author, submitted, publish_at=timezone.now() + dt.timedelta(hours=1))
    colleague = make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer")
    theirs = write(colleague, city, [facebook], title="동료의 글")
    write(editor, city, [facebook], department=department(city, "traffic"), title="교통 공지")
    as_(client, author)
    response = client.get(reverse("publishing:posts"))
    titles = {post.title for post in response.context["posts"]}
    assert titles == {draft.title, submitted.title, theirs.title}
    assert "교통 공지" not in page(response)
    only_review = client.get(reverse("publishing:posts"), {"status": "in_review"})
    assert [p.title for p in only_review.context["posts"]] == [submitted.title]
    mine = client.get(reverse("publishing:posts"), {"mine": "on"})
    assert {p.title for p in mine.context["posts"]} == {draft.title, submitted.title}
    # Editors see every department's posts.
    as_(client, editor)
    assert len(client.get(reverse("publishing:posts")).context["posts"]) == 4


def test_approvals_page(client, city, author, editor, facebook, band) -> None:
    waiting = write(author, city, [facebook, band])
    actions.submit(author, waiting, publish_at=timezone.now() + dt.timedelta(hours=1))
    write(author, city, [facebook], title="아직 초안")
    as_(client, editor)
    response = client.get(reverse("publishing:approvals"))
    html = page(response)
    assert response.status_code == 200
    assert list(response.context["posts"]) == [waiting]
    assert reverse("publishing:post", args=[waiting.pk]) in html
    assert "하수도과" in html
    assert author.display_name in html
    assert "순천시 밴드, 순천시 페이스북" in html
    assert "아직 초안" not in html
    assert as_(client, author).get(reverse("publishing:approvals")).status_code == 403


# -- the actions added for these pages -----------------------------------------------------


def test_campaign_named_finds_or_creates_once(city, author, make_staff) -> None:
    created = actions.campaign_named(author, city, "  순천만갈대축제   2026 ")
    assert created.name == "순천만갈대축제 2026"
    assert actions.campaign_named(author, city, "순천만갈대축제 2026") == created
    assert AuditEntry.objects.filter(action="campaign.create").count() == 1
    with pytest.raises(ValidationError):
        actions.campaign_named(author, city, "   ")
    with pytest.raises(ValidationError):
        actions.campaign_named(author, city, "가" * 101)
    with pytest.raises(PermissionDenied):
        actions.campaign_named(make_staff(city, Role.VIEWER), city, "다른 캠페인")


def test_adapted_text_uses_the_channels_own_template(city, author) -> None:
    band = add_channel(city, "band", "순천시 밴드")
    Channel.objects.filter(pk=band.pk).update(options={"post_template": "[공지] {title}\n{body}"})
    band.refresh_from_db()
    content = adapt.PostContent(TITLE, BODY)
    assert actions.adapted_text(band, content) == f"[공지] {TITLE}\n{BODY}"
    post = write(author, city, [band], link="")
    assert post.variants.get().text == actions.adapted_text(band, content)
