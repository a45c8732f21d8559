"""The demo city's accounts on the simulated platforms. Each simulator module lists its
own (``DEMO_ACCOUNTS``) and creates them (``Platform.populate_demo``), history included;
`sotong simulate` creates them all and `sotong demo` connects the demo city's channels to
them with the same ids and tokens, so the two meet without any set-up by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sotong.simulator.core import DemoAccount, all_demo_accounts

if TYPE_CHECKING:
    from sotong.simulator.core import Simulator

__all__ = ["DemoAccount", "demo_accounts", "populate", "webhook_url"]


def demo_accounts() -> list[DemoAccount]:
    return all_demo_accounts()


def webhook_url(sotong_url: str, account: DemoAccount) -> str:
    return f"{sotong_url.rstrip('/')}/hooks/{account.kind}/{account.webhook_secret}/"


def populate(simulator: Simulator, *, sotong_url: str) -> None:
    """Create every demo account on its simulated platform and point its webhooks at Sotong."""
    for account in demo_accounts():
        platform = simulator.platforms.get(account.kind)
        if platform is not None:
            platform.populate_demo(account, webhook_url(sotong_url, account))
