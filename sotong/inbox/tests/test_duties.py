"""Routing by duties (사무분장): a department whose duty keyword the message names comes
first, the routing model's suggestions follow. Real Kiwi, real database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sotong.conftest import SYSTEM, department
from sotong.core import actions
from sotong.core.demo import load_department_specs
from sotong.core.models import Organisation
from sotong.inbox import duties, triage
from sotong.nlp import tokenise


@pytest.fixture
def with_duties(city) -> Organisation:
    actions.set_department_duties(
        SYSTEM, department(city, "sewer"), "하수, 하수구, 하수도, 맨홀, 악취, 침수, 넘치다"
    )
    actions.set_department_duties(SYSTEM, department(city, "roads"), "도로, 보도블록, 가로등")
    actions.set_department_duties(SYSTEM, department(city, "traffic"), "신호등, 버스, 차")
    return city


def matched(organisation: Organisation, text: str) -> list[tuple[str, tuple[str, ...]]]:
    table = duties.table_for(organisation)
    return [(m.name, m.keywords) for m in table.match(text, tokenise.tokens(text))]


def test_a_compound_matches_inside_the_text(with_duties) -> None:
    assert matched(with_duties, "조례동 하수구냄새가 심해요") == [("하수도과", ("하수구",))]


def test_the_longest_keyword_claims_the_letters(with_duties) -> None:
    # 하수도 takes 하수도로's letters: 도로 inside it is not the 도로과's 도로.
    assert matched(with_duties, "하수도로 물이 흘러요") == [("하수도과", ("하수도",))]


def test_a_verb_keyword_matches_its_inflections_through_kiwi(with_duties) -> None:
    assert matched(with_duties, "골목에 물이 넘쳐요") == [("하수도과", ("넘치다",))]


def test_a_one_letter_keyword_matches_only_as_a_word(with_duties) -> None:
    assert matched(with_duties, "차가 인도를 막고 있어요") == [("교통과", ("차",))]
    assert matched(with_duties, "차량 소리가 시끄러워요") == []  # 차량 is not 차


def test_more_and_longer_hits_come_first(with_duties) -> None:
    found = matched(with_duties, "도로 옆 하수구 맨홀에서 악취가 나요")
    assert found == [("하수도과", ("하수구", "맨홀", "악취")), ("도로과", ("도로",))]


def test_duty_match_comes_first_then_the_model_without_repeats(with_duties) -> None:
    sewer = department(with_duties, "sewer")
    found = triage.analyse(with_duties, "조례동 하수구 냄새가 심해요 010-1234-5678")
    first, *rest = found.suggestions
    assert first["department_id"] == sewer.pk
    assert first["name"] == "하수도과"
    assert first["source"] == "duties"
    assert first["keywords"] == ["하수구"]
    assert first["confidence"] == pytest.approx(0.86)
    assert len(found.suggestions) == triage.SUGGESTIONS
    assert all(s["source"] == "model" for s in rest)
    ids = [s["department_id"] for s in found.suggestions if s["department_id"] is not None]
    assert len(ids) == len(set(ids))
    # The backward-compatible keys every reader uses are all there.
    for suggestion in found.suggestions:
        assert {"unit", "department_id", "name", "confidence"} <= suggestion.keys()
        assert 0.0 <= float(suggestion["confidence"]) <= 1.0  # type: ignore[arg-type]


def test_no_duty_match_leaves_the_model_alone(with_duties, city) -> None:
    found = triage.analyse(with_duties, "여권 발급은 어디서 하나요")
    assert found.suggestions
    assert all(s["source"] == "model" for s in found.suggestions)


def test_an_inactive_department_is_not_suggested_for_its_duties(with_duties) -> None:
    sewer = department(with_duties, "sewer")
    actions.merge_departments(SYSTEM, sewer, department(with_duties, "roads"))
    assert [name for name, _ in matched(with_duties, "하수구가 막혔어요")] == []


def test_the_duty_table_is_read_once_per_batch(with_duties) -> None:
    texts = ["하수구가 막혔어요", "가로등이 꺼졌어요", "신호등이 고장났어요", "버스가 안 와요"] * 25
    with CaptureQueriesContext(connection) as many:
        found = triage.analyse_many(with_duties, texts)
    duty_reads = [q for q in many.captured_queries if 'NOT ("core_department"."duties"' in q["sql"]]
    assert len(duty_reads) == 1
    assert [f.suggestions[0]["name"] for f in found[:4]] == [
        "하수도과",
        "도로과",
        "교통과",
        "교통과",
    ]


def test_combine_keeps_top_k_and_drops_model_repeats() -> None:
    match = duties.DutyMatch(7, "하수도과", ("하수구",))
    model = [
        {"unit": "건설과", "department_id": 7, "name": "하수도과", "confidence": 0.5},
        {"unit": "도로과", "department_id": 8, "name": "도로과", "confidence": 0.3},
        {"unit": "건설과", "department_id": 8, "name": "도로과", "confidence": 0.2},
        {"unit": "기반시설과", "department_id": None, "name": "기반시설과", "confidence": 0.1},
        {"unit": "세무과", "department_id": None, "name": "세무과", "confidence": 0.05},
    ]
    out = duties.combine([match], model, 3)
    assert [(s["name"], s.get("source")) for s in out] == [
        ("하수도과", "duties"),
        ("도로과", None),
        ("기반시설과", None),
    ]


def test_equal_duty_matches_follow_the_models_order() -> None:
    a = duties.DutyMatch(1, "가과", ("도로",))
    b = duties.DutyMatch(2, "나과", ("도로",))
    model = [{"department_id": 2, "name": "나과", "confidence": 0.4}]
    assert [s["name"] for s in duties.combine([a, b], model, 3)] == ["나과", "가과"]


def test_the_demo_citys_sewer_complaint_goes_to_the_sewer_department(db) -> None:
    suncheon = actions.create_organisation(
        SYSTEM, slug="demo-suncheon", name="순천시", departments=load_department_specs()
    )
    sewer = department(suncheon, "sewerage")
    found = triage.analyse(suncheon, "조례동 하수구 냄새가 심해요")
    assert found.suggestions[0]["department_id"] == sewer.pk
    assert found.suggestions[0]["source"] == "duties"
    assert found.intent == "complaint"
    streetlight = triage.analyse(suncheon, "가로등이 꺼졌어요")
    assert streetlight.suggestions[0]["name"] == "도로과"
    assert streetlight.intent == "complaint"
