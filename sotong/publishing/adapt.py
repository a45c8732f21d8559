"""Writing once for every channel: how long a text is as each platform counts it, and the
variant of a post that fits a channel's rules and style. No Django here: the CLI, the
compose page's live preview and the actions all call these.

The per-kind templates are the city's house style (a Band notice reads like a notice, a
Facebook post like a seasonal greeting); a channel may replace its template with its own
(``post_template`` in the channel's options) using the same placeholders.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from sotong.platforms.base import Capability, Connector, connector_class
from sotong.platforms.x import weighted_length

ELLIPSIS = "…"
HASHTAG = re.compile(r"#[^\s#]+")

# Placeholders: {title} {body} {link} {hashtags}. Empty parts leave no blank lines behind.
TEMPLATES: dict[str, str] = {
    "facebook": "{title}\n\n{body}\n\n{hashtags}",
    "instagram": "{title}\n\n{body}\n\n{link_note}\n\n{hashtags}",
    "x": "{title}\n{body}\n{link}\n{hashtags}",
    "band": "[안내] {title}\n\n{body}\n\n{link}",
    "mastodon": "{title}\n\n{body}\n\n{link}\n\n{hashtags}",
    "telegram": "{title}\n\n{body}\n\n{link}",
    "kakao": "{title}\n\n{body}\n\n{link}",
    "naver_blog": "{body}\n\n{link}",
}
DEFAULT_TEMPLATE = "{title}\n\n{body}\n\n{link}\n\n{hashtags}"
# How many of the post's hashtags each platform's readers tolerate (Instagram lives on
# them; on X they cost characters; Band, Telegram and KakaoTalk notices go without).
HASHTAG_BUDGET: dict[str, int] = {
    "facebook": 3,
    "instagram": 30,
    "x": 2,
    "mastodon": 5,
    "band": 0,
    "telegram": 0,
    "kakao": 0,
    "naver_blog": 0,
}
# Where the platform shows a link card from a separate field, the link is not repeated
# in the text (Facebook); Instagram captions do not make links clickable.
LINK_SEPARATE = frozenset({"facebook"})


@dataclass(frozen=True)
class PostContent:
    title: str
    body: str
    link: str = ""
    hashtags: tuple[str, ...] = ()
    image_count: int = 0


@dataclass(frozen=True)
class Fit:
    """How long a text is as the platform counts it, against the platform's limit."""

    weighted_length: int
    limit: int | None
    fits: bool
    problems: tuple[str, ...] = field(default=())

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else self.limit - self.weighted_length

    def as_json(self) -> dict[str, object]:
        return {"weighted_length": self.weighted_length, "limit": self.limit, "fits": self.fits}


def platform_length(kind: str, text: str) -> int:
    """The length ``kind`` counts: X's weighted count (Hangul and emoji 2, each URL 23),
    code points (after NFC) everywhere else."""
    platform = connector_class(kind)
    if platform.limits.counting == "twitter":
        return weighted_length(text)
    return len(unicodedata.normalize("NFC", text))


def measure(kind: str, text: str, *, image_count: int = 0) -> Fit:
    """Whether ``text`` (with ``image_count`` images) can be published on ``kind``;
    ``problems`` names each rule it breaks, in words a person can act on."""
    platform = connector_class(kind)
    limits = platform.limits
    length = platform_length(kind, text)
    problems: list[str] = []
    if limits.max_length is not None and length > limits.max_length:
        problems.append(f"too_long:{length - limits.max_length}")
    if not text.strip() and not image_count:
        problems.append("empty")
    if limits.image_required and image_count == 0:
        problems.append("image_required")
    if image_count > limits.max_images and not _manual(platform):
        problems.append(f"too_many_images:{limits.max_images}")
    if limits.max_hashtags is not None and len(HASHTAG.findall(text)) > limits.max_hashtags:
        problems.append(f"too_many_hashtags:{limits.max_hashtags}")
    return Fit(length, limits.max_length, not problems, tuple(problems))


def _manual(platform: type[Connector]) -> bool:
    return Capability.MANUAL_PUBLISH in platform.capabilities


def can_publish_to(kind: str) -> bool:
    """Whether posts can go to ``kind`` at all, by API or by hand (YouTube takes videos only)."""
    capabilities = connector_class(kind).capabilities
    return bool(
        capabilities
        & {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGE,
            Capability.MANUAL_PUBLISH,
        }
    )


def render(kind: str, content: PostContent, template: str | None = None) -> str:
    """The post as ``kind`` shows it, through its template, before any shortening."""
    budget = HASHTAG_BUDGET.get(kind, 3)
    tags = " ".join(_hashtag(tag) for tag in content.hashtags[:budget])
    link = "" if kind in LINK_SEPARATE else content.link
    values = {
        "title": content.title.strip(),
        "body": content.body.strip(),
        "link": link,
        "link_note": "자세한 내용은 프로필 링크에서 확인하세요." if content.link else "",
        "hashtags": tags,
    }
    if kind == "instagram":
        values["link"] = ""
    text = (template or TEMPLATES.get(kind, DEFAULT_TEMPLATE)).format_map(_Blank(values))
    return _tidy(text)


def adapt(kind: str, content: PostContent, template: str | None = None) -> str:
    """The variant of ``content`` for ``kind``: its template, then, if the platform's limit
    is passed, the body shortened at a word boundary with an ellipsis (title, link and
    hashtags kept). What still does not fit is left for the author to edit."""
    text = render(kind, content, template)
    limit = connector_class(kind).limits.max_length
    if limit is None or platform_length(kind, text) <= limit:
        return text
    body = content.body.strip()
    low, high = 0, len(body)
    best = render(kind, _with_body(content, ""), template)
    while low <= high:
        middle = (low + high) // 2
        shortened = _shorten(body, middle)
        candidate = render(kind, _with_body(content, shortened), template)
        if platform_length(kind, candidate) <= limit:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def _with_body(content: PostContent, body: str) -> PostContent:
    return PostContent(content.title, body, content.link, content.hashtags, content.image_count)


def _shorten(body: str, length: int) -> str:
    if length >= len(body):
        return body
    if length <= 0:
        return ""
    cut = body[:length]
    if " " in cut and not body[length].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + ELLIPSIS


def _hashtag(tag: str) -> str:
    tag = tag.strip().lstrip("#").replace(" ", "")
    return f"#{tag}" if tag else ""


def parse_hashtags(text: str) -> tuple[str, ...]:
    """'#순천 국가정원, 축제' → ('순천', '국가정원', '축제'): people type them every way."""
    parts = re.split(r"[\s,]+", text)
    seen: dict[str, None] = {}
    for part in parts:
        tag = part.strip().lstrip("#")
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


class _Blank(dict[str, str]):
    """Unknown placeholders in a city's own template render empty, not as an error."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return ""
