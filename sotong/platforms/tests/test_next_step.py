"""One decision for every sender: what a failed publish, edit or reply does next."""

from __future__ import annotations

import datetime as dt

import pytest

from sotong.platforms.base import (
    ContentRejected,
    CredentialExpired,
    CredentialRevoked,
    DuplicateContent,
    MalformedResponse,
    NextStep,
    NotFound,
    OutcomeUnknown,
    PermissionMissing,
    PlatformError,
    RateLimited,
    TransientError,
    backoff,
    next_step,
)


@pytest.mark.parametrize(
    ("error", "step"),
    [
        (OutcomeUnknown("read timeout"), NextStep.CHECK),
        (RateLimited("slow down", retry_after=60), NextStep.WAIT),
        (CredentialExpired("expired"), NextStep.RECONNECT),
        (CredentialRevoked("revoked"), NextStep.RECONNECT),
        (PermissionMissing("no scope"), NextStep.PERMISSION),
        (TransientError("502"), NextStep.RETRY),
        (ContentRejected("too long"), NextStep.FAIL),
        (DuplicateContent("again"), NextStep.FAIL),
        (NotFound("gone"), NextStep.FAIL),
        # The change may have been made: never sent again blindly.
        (MalformedResponse("not JSON"), NextStep.FAIL),
    ],
)
def test_each_error_has_one_next_step(error: PlatformError, step: NextStep) -> None:
    assert next_step(error, attempts=1, max_attempts=3) is step


def test_passing_trouble_is_retried_until_the_attempts_run_out() -> None:
    error = TransientError("503")
    assert next_step(error, attempts=2, max_attempts=3) is NextStep.RETRY
    assert next_step(error, attempts=3, max_attempts=3) is NextStep.GIVE_UP
    # Waiting for a rate limit is never giving up.
    assert next_step(RateLimited("x", retry_after=1), 9, 3) is NextStep.WAIT


def test_backoff_doubles_up_to_the_longest_wait() -> None:
    first, longest = dt.timedelta(seconds=30), dt.timedelta(minutes=30)
    waits = [backoff(n, first, longest).total_seconds() for n in range(1, 9)]
    assert waits == [30, 60, 120, 240, 480, 960, 1800, 1800]
    assert backoff(0, first, longest) == first
