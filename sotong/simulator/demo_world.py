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


def _facebook(platform: Any, account: DemoAccount, hook: str) -> None:
    platform.add_page(
        account.account_id, "순천시", token=account.token, followers=account.followers
    )
    platform.subscribe_webhooks(account.account_id, hook)


POPULATE = {"facebook": _facebook}
