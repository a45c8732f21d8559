"""FAQ retrieval: paraphrases with other spacing, particles and endings find their entry;
questions the FAQ does not answer are never confident; confidence stays meaningful when the
index grows; similar past cases come from the real dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from sotong.nlp import faq
from sotong.nlp.datasets import complaints_csv

ENTRIES = [
    (
        "waste",
        ["생활쓰레기 배출 요일이 언제인가요?", "음식물쓰레기 버리는 날 알려주세요"],
        "일~목 저녁",
    ),
    (
        "passport",
        ["여권 발급 시간이 어떻게 되나요?", "여권 신청은 몇 시까지 가능한가요?"],
        "평일 9~18시",
    ),
    (
        "garden",
        ["순천만국가정원 입장료가 얼마예요?", "정원 입장권 가격이 궁금합니다"],
        "어른 10,000원",
    ),
    ("sewer", ["하수구가 막혔어요 어디에 신고하나요?", "하수도 역류 신고"], "하수도과로"),
    (
        "parking",
        ["불법주정차 신고는 어떻게 하나요?", "인도에 차가 불법 주차되어 있어요"],
        "안전신문고",
    ),
]

DATASET = complaints_csv() or Path("/nonexistent")


@pytest.fixture(scope="module")
def index() -> faq.FaqIndex:
    return faq.FaqIndex(ENTRIES)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("쓰레기버리는요일 알려줘요", "waste"),  # no spaces at all
        ("음식물 쓰레기는 언제 버려요?", "waste"),  # spaced compound, other ending
        ("여권발급은 몇시까지예요", "passport"),
        ("국가정원 입장료 얼마에요", "garden"),  # 순천만국가정원 written in part, with a space
        ("순천만 국가정원 입장료가 얼마인지요", "garden"),
        ("하수구 막힘 신고합니다", "sewer"),
        ("불법 주정차 신고하려고요", "parking"),
    ],
)
def test_paraphrases_find_their_entry_confidently(index, question, expected) -> None:
    matches = index.search(question)
    assert matches[0].entry_id == expected
    assert faq.is_confident(matches[0]), matches[0]
    assert index.best(question) == matches[0]
    # Scores and confidences are ordered and bounded.
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert all(0.0 <= m.confidence <= 1.0 for m in matches)


@pytest.mark.parametrize(
    "question",
    [
        "아파트 층간소음 때문에 못 살겠어요",
        "전입신고 온라인으로 가능한가요",  # shares 신고 with two entries
        "우리 집 수도 요금이 너무 많이 나왔어요",
        "시장님 면담 신청하고 싶습니다",
        "ㅋㅋㅋㅋ",
        "",
    ],
)
def test_unrelated_questions_are_not_confident(index, question) -> None:
    matches = index.search(question)
    assert not matches or not faq.is_confident(matches[0])
    assert index.best(question) is None


def test_only_the_top_match_can_be_confident(index) -> None:
    matches = index.search("여권 발급 시간이 어떻게 되나요?", k=3)
    assert matches[0].entry_id == "passport"
    assert matches[0].confidence > 0.9
    assert all(not faq.is_confident(match) for match in matches[1:])


def test_a_question_two_entries_answer_equally_is_not_confident() -> None:
    index = faq.FaqIndex(
        [("a", ["여권 발급 시간"], "가"), ("b", ["여권 발급 시간"], "나"), *ENTRIES[2:]]
    )
    first, second = index.search("여권 발급 시간")[:2]
    assert {first.entry_id, second.entry_id} == {"a", "b"}
    assert first.score == second.score
    # Fully explained (coverage 1) but a tie: 0.4, below the threshold.
    assert first.confidence == pytest.approx(0.4)
    assert not faq.is_confident(first)


def test_confidence_holds_when_the_index_grows(index) -> None:
    """The same question gets about the same confidence among 5 or among 205 entries:
    the figure does not drift with the index size as raw BM25 scores do."""
    filler = [
        (f"filler-{n}", [f"{word} 관련 문의 {n}번"], "답")
        for n, word in enumerate(["도서관", "체육관", "보건소", "주민센터", "공원"] * 40)
    ]
    large = faq.FaqIndex([*ENTRIES, *filler])
    for question in ("하수구 막힘 신고합니다", "국가정원 입장료 얼마에요"):
        small_top, large_top = index.search(question)[0], large.search(question)[0]
        assert small_top.entry_id == large_top.entry_id
        assert abs(small_top.confidence - large_top.confidence) < 0.1
        assert small_top.score != pytest.approx(large_top.score, abs=0.05)


def test_an_empty_index_answers_nothing() -> None:
    empty = faq.FaqIndex([])
    assert len(empty) == 0
    assert empty.search("여권 발급") == []
    assert empty.best("여권 발급") is None


@pytest.mark.skipif(not DATASET.is_file(), reason="the shared dataset is not on this machine")
def test_similar_cases_from_the_real_dataset() -> None:
    cases = faq.load_past_cases(DATASET)
    # Rows without an answer are left out; all of this dataset's were answered.
    assert 1200 <= len(cases) <= 1227
    assert all(case.answer for case in cases)
    index = faq.SimilarCases(cases)
    found = index.search("불법 주차 차량 단속해 주세요", k=3)
    assert len(found) == 3
    assert found[0].score >= found[1].score >= found[2].score > 0
    # Parking complaints are answered by the traffic units (교통…과) in this dataset.
    assert sum("교통" in hit.case.department for hit in found) >= 2
