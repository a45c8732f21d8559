"""The demo city's accounts on the simulated platforms. `sotong simulate` creates them;
`sotong demo` connects the demo city's channels to them with the same ids and tokens, so the
two meet without any set-up by hand. Demo values only: nothing here is a real secret."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sotong.simulator.core import Simulator


@dataclass(frozen=True)
class DemoAccount:
    kind: str
    name: str
    account_id: str
    token: str
    webhook_secret: str
    extra: dict[str, str] = field(default_factory=dict)
    followers: int = 0


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "facebook",
        "순천시 페이스북",
        "104220000000001",
        "EAAB-demo-suncheon-page-token",
        "demo-hook-facebook-2026",
        {"app_id": "sotong-app", "app_secret": "sim-app-secret", "verify_token": "demo-verify"},
        followers=31000,
    ),
)


def webhook_url(sotong_url: str, account: DemoAccount) -> str:
    return f"{sotong_url.rstrip('/')}/hooks/{account.kind}/{account.webhook_secret}/"


def populate(simulator: Simulator, *, sotong_url: str) -> None:
    """Create every demo account on its simulated platform and point its webhooks at Sotong."""
    for account in DEMO_ACCOUNTS:
        platform = simulator.platforms.get(account.kind)
        if platform is None:
            continue
        POPULATE[account.kind](platform, account, webhook_url(sotong_url, account))


# Posts the city made before Sotong, for the citizens to react to from the start.
FACEBOOK_HISTORY: tuple[tuple[str, dict[str, int]], ...] = (
    (
        "순천만국가정원에 가을 국화가 활짝 피었습니다 🌼 이번 주말 정원에서 만나요!",
        {"views": 72041, "reach": 51230, "reactions": 718, "shares": 96, "clicks": 1840},
    ),
    (
        "[주간꿀팁] 대형폐기물, 앱으로 간편하게 신고하세요",
        {"views": 8120, "reach": 6400, "reactions": 88},
    ),
    (
        "조례동 하수관로 교체 공사로 11.24.~11.28. 일부 구간을 통제합니다",
        {"views": 5320, "reach": 4100},
    ),
)


def _facebook(platform: Any, account: DemoAccount, hook: str) -> None:
    platform.add_page(
        account.account_id, "순천시", token=account.token, followers=account.followers
    )
    for text, figures in FACEBOOK_HISTORY:
        platform.add_post(account.account_id, text, **figures)
    platform.subscribe_webhooks(account.account_id, hook)


POPULATE = {"facebook": _facebook}
