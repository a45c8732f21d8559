"""Each organisation's routing model: learnt from its own corrections, not activated when
worse on held-out labels, the shipped model before any history, and every process notices
a new version."""

from __future__ import annotations

import pytest

from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry, Organisation
from sotong.inbox import actions, ingest, routing, routing_models, triage
from sotong.inbox.models import Case, Message, RoutingLabel, RoutingModelVersion
from sotong.nlp.routing import default_model

SEWER = ["하수구 냄새가 심해요", "맨홀 뚜껑이 흔들려요", "하수관 막힘 신고", "빗물받이가 막혔어요"]
ROADS = ["도로가 파였어요", "보도블록이 깨졌어요", "아스팔트 균열", "인도 턱이 높아요"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    routing_models.forget_models()
    yield
    routing_models.forget_models()


def _messages(comment, texts: list[str]) -> list[Message]:
    for n, text in enumerate(texts):
        comment(text, author=f"a{n}-{len(Message.objects.all())}")
    ingest.ingest_pending()
    triage.triage_pending()
    return list(Message.objects.order_by("-pk")[: len(texts)])[::-1]


def _label(city: Organisation, messages: list[Message], code: str) -> None:
    """Corrections as ``correct_routing`` stores them."""
    target = department(city, code)
    for message in messages:
        RoutingLabel.objects.create(
            organisation=city, message=message, department=target, unit=target.name
        )


def test_without_history_the_shipped_model_is_used(city) -> None:
    assert routing.model_for(city) is default_model()
    outcome = routing_models.retrain(city)
    assert outcome.version is None
    assert not outcome.activated
    assert routing.model_for(city) is default_model()


def test_a_correction_changes_the_organisations_suggestions_after_retraining(city, comment) -> None:
    # 교통과 for talk of manholes: a city's own way of working the shipped model cannot know.
    texts = [f"{t} {n}번지" for n in range(3) for t in SEWER]
    messages = _messages(comment, texts)
    assert routing.model_for(city).suggest("맨홀 뚜껑이 흔들려요")[0].unit != "교통과"
    _label(city, messages, "traffic")
    outcome = routing_models.retrain(city)
    assert outcome.activated
    version = RoutingModelVersion.objects.get(organisation=city, active=True)
    assert version.trained_on == len(texts)
    assert AuditEntry.objects.filter(action="routing_model.activate", organisation=city).exists()
    model = routing.model_for(city)
    assert model is not default_model()
    assert model.suggest("맨홀 뚜껑이 흔들려요")[0].unit == "교통과"


def test_a_worse_model_is_not_activated(city, comment) -> None:
    texts = [f"{t} {n}번지" for n in range(5) for t in SEWER + ROADS]
    messages = _messages(comment, texts)
    sewer = {m.pk for m in messages if any(w in m.masked_text for w in ("하수", "맨홀", "빗물"))}
    _label(city, [m for m in messages if m.pk in sewer], "sewer")
    _label(city, [m for m in messages if m.pk not in sewer], "roads")
    first = routing_models.retrain(city)
    assert first.activated
    assert first.version is not None
    assert first.version.figures["top1"] == 1.0
    # Someone then files every sewer message it was not held out under 도로과 (wrong).
    wrong = [m for m in messages if m.pk in sewer and not routing_models.is_held_out(m.pk)]
    _label(city, wrong, "roads")
    second = routing_models.retrain(city)
    assert not second.activated
    assert second.reason == "worse on held-out labels"
    assert RoutingModelVersion.objects.get(organisation=city, active=True) == first.version
    assert AuditEntry.objects.filter(action="routing_model.reject").count() == 1


def test_the_cache_notices_a_new_version(city, comment) -> None:
    messages = _messages(comment, [f"{t} {n}번지" for n in range(2) for t in SEWER])
    _label(city, messages, "traffic")
    routing_models.retrain(city)
    first = routing.model_for(city)
    assert routing.model_for(city) is first  # loaded once per version
    # Another process activates a newer version: this one notices on its next use.
    _label(city, messages, "roads")
    assert routing_models.retrain(city).activated
    second = routing.model_for(city)
    assert second is not first
    assert second.suggest("맨홀 뚜껑이 흔들려요")[0].unit == "도로과"


def test_answered_cases_teach_the_model(city, comment) -> None:
    _messages(comment, ["하수구 냄새 신고"])
    case = Case.objects.get()
    actions.assign(SYSTEM, case, department=department(city, "traffic"))
    actions.change_status(SYSTEM, case, "answered")
    found = routing_models.examples(city)
    assert [(e.unit, e.text) for e in found] == [("교통과", "하수구 냄새 신고")]


def test_aliases_map_old_names_to_todays(city) -> None:
    assert routing_models.aliases_for(city) == {"하수과": "하수도과"}


def test_the_settings_page_shows_versions_and_queues_a_retrain(
    city, make_staff, client, comment
) -> None:
    from django_tasks_db.models import DBTaskResult

    _label(city, _messages(comment, SEWER), "traffic")
    routing_models.retrain(city)
    editor = make_staff(city, "pr_editor", "pr")
    client.force_login(editor.user)
    page = client.get("/settings/routing-model/")
    assert page.status_code == 200
    assert page.context["active"].trained_on == len(SEWER)
    responder = make_staff(city, "department_responder", "sewer")
    client.force_login(responder.user)
    assert client.get("/settings/routing-model/").status_code == 403
    client.force_login(editor.user)
    before = DBTaskResult.objects.count()
    assert client.post("/settings/routing-model/retrain/").status_code == 302
    assert DBTaskResult.objects.count() == before + 1
