"""Fitting a post to each channel: counting as the platform counts, templates, shortening."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sotong.publishing import adapt

FESTIVAL = adapt.PostContent(
    title="순천만갈대축제 개막",
    body="올해 갈대축제가 11월 1일 개막합니다. 주차는 순천만습지 제2주차장을 이용하세요.",
    link="https://www.suncheon.go.kr/festival",
    hashtags=("순천", "갈대축제", "순천만", "가을여행"),
)


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello world", 11),
        ("가", 2),  # Hangul weighs 2 on X
        ("순천시 🌼", 6 + 1 + 2),  # an emoji counts 2
        ("https://www.suncheon.go.kr/a/very/long/path?with=query", 23),  # every URL 23
        ("café", 4),
        ("“따옴표”", 1 + 6 + 1),  # typographic quotes weigh 1
    ],
)
def test_x_counts_as_x_does(text: str, length: int) -> None:
    assert adapt.platform_length("x", text) == length


def test_other_platforms_count_code_points() -> None:
    assert adapt.platform_length("mastodon", "가나다") == 3
    # Decomposed Hangul counts as the composed syllables people see.
    assert adapt.platform_length("band", "\u1100\u1161") == 1


def test_measure_reports_every_broken_rule() -> None:
    fit = adapt.measure("x", "가" * 141)
    assert (fit.weighted_length, fit.limit, fit.fits, fit.remaining) == (282, 280, False, -2)
    assert fit.problems == ("too_long:2",)
    assert adapt.measure("instagram", "정원 사진").problems == ("image_required",)
    assert adapt.measure("instagram", "정원", image_count=1).fits
    assert not adapt.measure(
        "instagram", " ".join(f"#태그{n}" for n in range(31)), image_count=1
    ).fits
    assert adapt.measure("facebook", "").problems == ("empty",)
    assert adapt.measure("band", "긴 공지 " * 2000).fits  # Band publishes no limit


def test_each_channel_gets_its_own_style() -> None:
    facebook = adapt.adapt("facebook", FESTIVAL)
    assert facebook.startswith("순천만갈대축제 개막\n\n올해 갈대축제가")
    assert "https://" not in facebook  # Facebook shows the link as a card from its own field
    assert facebook.endswith("#순천 #갈대축제 #순천만")  # three hashtags on Facebook
    band = adapt.adapt("band", FESTIVAL)
    assert band.startswith("[안내] 순천만갈대축제 개막")
    assert band.endswith("https://www.suncheon.go.kr/festival")
    assert "#" not in band
    instagram = adapt.adapt("instagram", FESTIVAL)
    assert "https://" not in instagram  # links in captions are not clickable
    assert "프로필 링크" in instagram
    assert instagram.endswith("#순천 #갈대축제 #순천만 #가을여행")


def test_a_long_post_is_shortened_to_fit_x_keeping_title_link_and_tags() -> None:
    long = adapt.PostContent(
        title="하수관로 교체 공사 안내",
        body="조례동 일대 하수관로를 교체합니다. " * 20,
        link="https://www.suncheon.go.kr/sewer",
        hashtags=("순천", "공사안내"),
    )
    text = adapt.adapt("x", long)
    assert adapt.measure("x", text).fits
    assert adapt.platform_length("x", text) > 250  # shortened, not gutted
    assert text.startswith("하수관로 교체 공사 안내\n조례동")
    assert "…" in text
    assert text.endswith("https://www.suncheon.go.kr/sewer\n#순천 #공사안내")


def test_a_channel_template_of_its_own() -> None:
    text = adapt.adapt("band", FESTIVAL, "📢 {title}\n{body}\n{unknown}자세히: {link}")
    assert text.startswith("📢 순천만갈대축제 개막\n올해")
    assert text.endswith("자세히: https://www.suncheon.go.kr/festival")


def test_hashtags_as_people_type_them() -> None:
    assert adapt.parse_hashtags("#순천 국가정원, 축제 #순천") == ("순천", "국가정원", "축제")


def test_youtube_takes_no_posts_but_kakao_and_blog_take_them_by_hand() -> None:
    assert not adapt.can_publish_to("youtube")
    assert adapt.can_publish_to("kakao")
    assert adapt.can_publish_to("naver_blog")


@given(
    title=st.text(min_size=1, max_size=60),
    body=st.text(max_size=2000),
    link=st.sampled_from(["", "https://www.suncheon.go.kr/x"]),
)
def test_adapted_x_text_always_fits_when_the_title_does(title: str, body: str, link: str) -> None:
    content = adapt.PostContent(title=title, body=body, link=link, hashtags=("순천",))
    bare = adapt.render("x", adapt.PostContent(title=title, body="", link=link, hashtags=("순천",)))
    text = adapt.adapt("x", content)
    if adapt.platform_length("x", bare) <= 280:
        assert adapt.platform_length("x", text) <= 280
