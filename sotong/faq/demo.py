"""The demo city's FAQ: fifteen questions 순천시 hears every week, with the ways citizens
ask them. Idempotent: an organisation that has any FAQ entry is left alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from sotong.core.audit import Actor
from sotong.core.models import Department, Organisation
from sotong.faq import actions
from sotong.faq.models import FaqEntry


def demo_faq() -> list[dict[str, Any]]:
    """The entries as shipped: key, department code, questions, answer."""
    text = resources.files("sotong.faq").joinpath("fixtures/suncheon-faq.json").read_text("utf-8")
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


def seed_demo_faq(
    organisation: Organisation, actor: Actor, progress: Callable[[str], None] = lambda step: None
) -> list[FaqEntry]:
    if FaqEntry.objects.filter(organisation=organisation).exists():
        return []
    progress("faq")
    departments = {d.code: d for d in Department.objects.filter(organisation=organisation)}
    return [
        actions.create_entry(
            actor,
            organisation,
            questions=row["questions"],
            answer=row["answer"],
            department=departments[row["department"]],
        )
        for row in demo_faq()
        if row["department"] in departments
    ]
