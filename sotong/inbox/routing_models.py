"""Each organisation's own routing model: trained on its history, retrained from staff
corrections, activated only when it is not worse.

What it learns from (``examples``): every case answered by a department (the case's first
message, masked, → that department) and every staff correction (``RoutingLabel``; a
correction overrides what the case's department says about the same message).

How it is built (``OrganisationModel``): the shipped model (real complaints of another
city) keeps giving its suggestions, blended with a small model fitted on the
organisation's own examples only. The organisation's part gains weight with every example
(``n / (n + BLEND_HALF)``), so a city with no history gets the shipped model's day-one
suggestions and a city with a long one gets its own. Refitting the shipped model's 2,450
documents takes ~15 s; the organisation's part takes well under a second, so a retrain
after every few corrections is cheap.

Held out: labels of messages whose id is divisible by ``HOLD_OUT_EVERY`` are never trained
on by the versions that are compared; both the candidate and the active version's recipe
(the labels it had) are refitted without them and measured on them. The deployed version
is then trained on everything.

Versions are cached in each process by their primary key: ``model_for`` reads the active
version's id (one indexed query) and loads only when it changed, so every worker notices a
new activation, as the FAQ index cache does.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import timezone

from sotong.core import audit
from sotong.core.audit import Actor
from sotong.core.models import Department, DepartmentAlias, Organisation
from sotong.inbox.models import FINISHED_STATUSES, Case, RoutingLabel, RoutingModelVersion
from sotong.nlp.routing import DEFAULT_PATH, RoutingModel, unit_of

SYSTEM = Actor.system("routing")
BLEND_HALF = 20
HOLD_OUT_EVERY = 5
MIN_HELD_OUT = 5
# Retrain after this many new corrections (besides the nightly retrain).
RETRAIN_AFTER_CORRECTIONS = 20
TOP = 3


@dataclass(frozen=True)
class Example:
    message_id: int
    text: str
    unit: str
    at: dt.datetime


def is_held_out(message_id: int) -> bool:
    return message_id % HOLD_OUT_EVERY == 0


class OrganisationModel(RoutingModel):
    """The organisation's own examples (this model's data), blended with the shipped model
    (``base``): the same ``suggest``/``learn`` interface as any routing model."""

    def __init__(self, base: RoutingModel, aliases: dict[str, str] | None = None) -> None:
        super().__init__(aliases)
        self.base = base
        base.aliases = dict(self.aliases)

    @property
    def own_weight(self) -> float:
        n = len(self.labels)
        return n / (n + BLEND_HALF)

    def probabilities(self, docs: list[list[str]]) -> tuple[list[str], np.ndarray]:
        base_classes, base_p = self.base.probabilities(docs)
        # The shipped model's units under this city's names (aliases), summed.
        names = [self.canonical(c) for c in base_classes]
        own_classes = self.classes
        classes = sorted({*names, *own_classes})
        index = {c: i for i, c in enumerate(classes)}
        total = np.zeros((len(docs), len(classes)))
        weight = self.own_weight if own_classes else 0.0
        for j, name in enumerate(names):
            total[:, index[name]] += (1 - weight) * base_p[:, j]
        if own_classes:
            own_names, own_p = super().probabilities(docs)
            for j, name in enumerate(own_names):
                total[:, index[name]] += weight * own_p[:, j]
        return classes, total


def aliases_for(organisation: Organisation) -> dict[str, str]:
    """Old unit names → today's: the organisation's department aliases and merged
    departments (units are the last word of a department name, as the model learns)."""
    aliases: dict[str, str] = {}
    for alias in DepartmentAlias.objects.filter(organisation=organisation).select_related(
        "department"
    ):
        current = unit_of(alias.department.current().name)
        if unit_of(alias.name) != current:
            aliases[unit_of(alias.name)] = current
    for department in Department.objects.filter(organisation=organisation, is_active=False):
        current = unit_of(department.current().name)
        if unit_of(department.name) != current:
            aliases[unit_of(department.name)] = current
    return aliases


def examples(organisation: Organisation, until: dt.datetime | None = None) -> list[Example]:
    """What the organisation's history says about where messages belong, oldest first;
    with ``until``, what it said then (a version's recipe, to measure it again)."""
    found: dict[int, Example] = {}
    answered = (
        Case.objects.for_organisation(organisation.pk)
        .filter(status__in=FINISHED_STATUSES, department__isnull=False, answered_at__isnull=False)
        .select_related("department")
    )
    if until is not None:
        answered = answered.filter(answered_at__lte=until)
    for case in answered:
        first = case.messages.order_by("received_at", "pk").first()
        if first is None or not first.masked_text.strip() or case.department is None:
            continue
        found[first.pk] = Example(
            first.pk,
            first.masked_text,
            unit_of(case.department.current().name),
            case.answered_at or case.received_at,
        )
    labels = (
        RoutingLabel.objects.for_organisation(organisation.pk)
        .select_related("message", "department")
        .order_by("at", "pk")
    )
    if until is not None:
        labels = labels.filter(at__lte=until)
    for label in labels:  # later corrections override earlier ones and the case's department
        text = label.message.masked_text
        if text.strip():
            unit = unit_of(label.department.current().name)
            found[label.message_id] = Example(label.message_id, text, unit, label.at)
    return sorted(found.values(), key=lambda e: (e.at, e.message_id))


def train(items: Sequence[Example], aliases: dict[str, str]) -> OrganisationModel:
    model = OrganisationModel(RoutingModel.load(DEFAULT_PATH), aliases)
    if items:
        model.fit([e.text for e in items], [e.unit for e in items], [e.at.date() for e in items])
    return model


def evaluate(model: RoutingModel, items: Sequence[Example]) -> tuple[float, float]:
    """Top-1 and top-3 accuracy on ``items``."""
    if not items:
        return 0.0, 0.0
    suggestions = model.suggest_many([e.text for e in items], TOP)
    top1 = top3 = 0
    for item, found in zip(items, suggestions, strict=True):
        units = [model.canonical(s.unit) for s in found]
        truth = model.canonical(item.unit)
        top1 += bool(units) and units[0] == truth
        top3 += truth in units
    return round(top1 / len(items), 4), round(top3 / len(items), 4)


# -- storage ----------------------------------------------------------------------------------


def dump(model: OrganisationModel) -> tuple[bytes, dict[str, object]]:
    """The organisation's part as ``.npz`` bytes and its JSON (the shipped part is not
    stored: it ships with Sotong)."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "model"
        model.save(base)
        return base.with_suffix(".npz").read_bytes(), json.loads(
            base.with_suffix(".json").read_text()
        )


def restore(arrays: bytes | memoryview, meta: dict[str, object]) -> OrganisationModel:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model"
        path.with_suffix(".npz").write_bytes(bytes(arrays))
        path.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False))
        own = RoutingModel.load(path)
    model = OrganisationModel(RoutingModel.load(DEFAULT_PATH), own.aliases)
    model.__dict__.update({k: v for k, v in own.__dict__.items() if k not in ("base", "_lock")})
    model.base.aliases = dict(model.aliases)
    return model


_cache_lock = threading.Lock()
_cache: dict[int, tuple[int, OrganisationModel]] = {}


def active_model(organisation: Organisation) -> OrganisationModel | None:
    """The organisation's active version, loaded once per process per version."""
    version_id = (
        RoutingModelVersion.objects.filter(organisation=organisation, active=True)
        .values_list("pk", flat=True)
        .first()
    )
    if version_id is None:
        return None
    cached = _cache.get(organisation.pk)
    if cached is not None and cached[0] == version_id:
        return cached[1]
    version = RoutingModelVersion.objects.get(pk=version_id)
    model = restore(version.arrays, version.meta)
    with _cache_lock:
        _cache[organisation.pk] = (version_id, model)
    return model


def forget_models() -> None:
    """Drop every cached model (tests; an operator's reload)."""
    with _cache_lock:
        _cache.clear()


# -- retraining -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    version: RoutingModelVersion | None
    activated: bool
    reason: str


def retrain(organisation: Organisation, by: Actor = SYSTEM) -> Outcome:
    """Train a new version on everything the organisation's history says, and activate it
    unless it is worse on the held-out labels than the active version's recipe."""
    items = examples(organisation)
    if not items:
        return Outcome(None, False, "no history")
    aliases = aliases_for(organisation)
    held = [e for e in items if is_held_out(e.message_id)]
    learnt = [e for e in items if not is_held_out(e.message_id)]
    current = RoutingModelVersion.objects.filter(organisation=organisation, active=True).first()
    figures: dict[str, object] = {}
    activate, reason = True, "too few held-out labels to measure"
    if len(held) >= MIN_HELD_OUT:
        top1, top3 = evaluate(train(learnt, aliases), held)
        before: list[Example] = []
        if current is not None and current.data_until is not None:
            then = examples(organisation, current.data_until)
            before = [e for e in then if not is_held_out(e.message_id)]
        previous = evaluate(train(before, aliases), held)
        figures = {
            "held_out": len(held),
            "top1": top1,
            "top3": top3,
            "previous_top1": previous[0],
            "previous_top3": previous[1],
        }
        activate = (top3, top1) >= (previous[1], previous[0])
        reason = "not worse on held-out labels" if activate else "worse on held-out labels"
    arrays, meta = dump(train(items, aliases))
    with transaction.atomic():
        version = RoutingModelVersion.objects.create(
            organisation=organisation,
            trained_on=len(items),
            data_until=items[-1].at,
            figures=figures,
            arrays=arrays,
            meta=meta,
            reason=reason,
        )
        if activate:
            _activate(by, version)
        else:
            audit.record(
                by,
                "routing_model.reject",
                version,
                organisation=organisation,
                after={"figures": figures},
            )
    return Outcome(version, activate, reason)


def _activate(by: Actor, version: RoutingModelVersion) -> None:
    previous = list(
        RoutingModelVersion.objects.select_for_update()
        .filter(organisation_id=version.organisation_id, active=True)
        .values_list("pk", flat=True)
    )
    RoutingModelVersion.objects.filter(pk__in=previous).update(active=False)
    version.active = True
    version.activated_at = timezone.now()
    version.save(update_fields=["active", "activated_at"])
    audit.record(
        by,
        "routing_model.activate",
        version,
        organisation=version.organisation,
        before={"version": previous[0] if previous else None},
        after={"version": version.pk, "trained_on": version.trained_on, **version.figures},
    )


def corrections_since_active(organisation: Organisation) -> int:
    current = RoutingModelVersion.objects.filter(organisation=organisation, active=True).first()
    labels = RoutingLabel.objects.for_organisation(organisation.pk)
    if current is not None and current.data_until is not None:
        labels = labels.filter(at__gt=current.data_until)
    return labels.count()


def retrain_due(now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic pass: retrain every organisation with new history since its active
    version (nightly), or with ``RETRAIN_AFTER_CORRECTIONS`` new corrections (sooner)."""
    now = now or timezone.now()
    counts = {"retrained": 0, "activated": 0}
    for organisation in Organisation.objects.all():
        current = RoutingModelVersion.objects.filter(organisation=organisation, active=True).first()
        corrections = corrections_since_active(organisation)
        stale = current is None or current.created_at <= now - dt.timedelta(days=1)
        if corrections >= RETRAIN_AFTER_CORRECTIONS or (stale and _has_news(organisation, current)):
            outcome = retrain(organisation)
            counts["retrained"] += outcome.version is not None
            counts["activated"] += outcome.activated
    return counts


def _has_news(organisation: Organisation, current: RoutingModelVersion | None) -> bool:
    items = examples(organisation)
    if current is None or current.data_until is None:
        return bool(items)
    return len(items) != current.trained_on or items[-1].at > current.data_until
