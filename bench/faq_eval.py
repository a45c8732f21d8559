"""FAQ retrieval quality and speed: the demo city's FAQ (sotong/faq/fixtures) against
held-out paraphrases nobody wrote into it (other words, spacing, particles, endings) and
questions the FAQ does not answer, which must not be answered automatically.

Figures: top-1 and top-3 accuracy on the paraphrases; at the threshold ``CONFIDENT``, the
auto-answer precision (answered automatically and right / answered automatically, over all
questions, unrelated ones included), coverage (paraphrases answered automatically and right
/ paraphrases) and the share of unrelated questions answered (must be 0); a sweep of
thresholds to show why ``CONFIDENT`` is where it is; search latency per question.
"""

from __future__ import annotations

import json
import statistics
import time
from importlib import resources
from typing import Any

from bench.common import write_result
from sotong.nlp import faq

# (question as a citizen might write it, the FAQ entry that answers it)
PARAPHRASES: list[tuple[str, str]] = [
    ("쓰레기 버리는 요일 좀 알려주세요", "waste-days"),
    ("음식물 쓰레기는 언제 내놔요?", "waste-days"),
    ("금요일에도 쓰레기 배출 되나요", "waste-days"),
    ("침대 매트리스 버리려면 어떻게 신고해요?", "bulky-waste"),
    ("대형 폐기물 스티커 어디서 사나요", "bulky-waste"),
    ("안 쓰는 세탁기 수거해 가나요?", "bulky-waste"),
    ("여권 발급은 몇시까지 하나요", "passport-hours"),
    ("여권신청하면 며칠 뒤에 나와요?", "passport-hours"),
    ("국가정원 입장료 얼마에요", "garden-fees"),
    ("순천 시민은 정원 입장 무료인가요?", "garden-fees"),
    ("순천만 국가정원 관람료 할인 받을 수 있나요", "garden-fees"),
    ("국가정원 몇시에 열어요?", "garden-hours"),
    ("정원 운영 시간 알려주세요", "garden-hours"),
    ("시청에 차 세우면 주차비 내야 하나요", "parking"),
    ("공영 주차장 요금 궁금해요", "parking"),
    ("하수구 막힘 신고합니다", "sewer-blocked"),
    ("집 앞 빗물받이에서 물이 역류해요", "sewer-blocked"),
    ("불법 주차 차량 신고하고 싶어요", "illegal-parking"),
    ("인도 위에 주차한 차 신고 어떻게 해요", "illegal-parking"),
    ("등본 떼려면 어디로 가야 하나요", "documents"),
    ("무인 민원 발급기 어디 있어요?", "documents"),
    ("국가정원 가는 버스 번호 알려주세요", "bus-routes"),
    ("버스 노선도 어디서 봐요", "bus-routes"),
    ("갈대축제 일정이 언제인가요", "festivals"),
    ("순천 축제 언제 열려요?", "festivals"),
    ("도로에 구멍이 패였어요 포트홀 신고", "pothole"),
    ("도로가 파손돼서 신고하려고요", "pothole"),
    ("우리 동네 가로등이 안켜져요", "streetlight"),
    ("기초 연금 신청하려면 어디로 가요", "basic-pension"),
    ("기초연금 받을 수 있는 자격", "basic-pension"),
    ("시티투어 예약 어떻게 하나요", "tourist-info"),
    ("관광 안내소 위치 알려주세요", "tourist-info"),
]

# Questions the demo FAQ does not answer: answering them automatically would be wrong.
UNRELATED: list[str] = [
    "아파트 층간소음 때문에 못 살겠어요",
    "시장님 면담 신청하고 싶습니다",
    "공무원 채용 시험 일정이 궁금합니다",
    "우리 집 수도 요금이 너무 많이 나왔어요",
    "개 물림 사고가 났어요 어떻게 하죠",
    "건축 허가 신청 서류가 뭐예요",
    "코로나 예방접종 어디서 맞나요",
    "어린이집 입소 대기 신청 방법",
    "태풍 피해 복구 지원금 신청",
    "유기견 보호소 입양 문의",
    "청년 월세 지원 받을 수 있나요",
    "전입신고 온라인으로 가능한가요",
    "길고양이 급식소 설치 민원",
    "택시 승차 거부 신고하려고 합니다",
    "오늘 날씨 어때요",
    "ㅋㅋㅋㅋ 좋아요",
]

SWEEP = [0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8]


def demo_entries() -> list[tuple[object, list[str], str]]:
    text = resources.files("sotong.faq").joinpath("fixtures/suncheon-faq.json").read_text("utf-8")
    return [(row["key"], row["questions"], row["answer"]) for row in json.loads(text)]


def _at(threshold: float, results: list[tuple[str | None, faq.Match | None]]) -> dict[str, Any]:
    answered = [(want, top) for want, top in results if top and top.confidence >= threshold]
    right = sum(1 for want, top in answered if top is not None and top.entry_id == want)
    paraphrases = sum(1 for want, _ in results if want is not None)
    unrelated = len(results) - paraphrases
    wrongly = sum(1 for want, _ in answered if want is None)
    return {
        "threshold": threshold,
        "precision": round(right / len(answered), 4) if answered else 1.0,
        "coverage": round(right / paraphrases, 4),
        "unrelated_answered": round(wrongly / unrelated, 4),
    }


def run() -> dict[str, Any]:
    index = faq.FaqIndex(demo_entries())
    index.search("워밍업")  # Kiwi loads on first use; not part of the latency.
    results: list[tuple[str | None, faq.Match | None]] = []
    top1 = top3 = 0
    latencies: list[float] = []
    questions: list[tuple[str, str | None]] = [*PARAPHRASES, *((q, None) for q in UNRELATED)]
    for question, want in questions:
        started = time.perf_counter()
        matches = index.search(question, k=3)
        latencies.append((time.perf_counter() - started) * 1000)
        results.append((want, matches[0] if matches else None))
        if want is not None:
            top1 += bool(matches) and matches[0].entry_id == want
            top3 += any(match.entry_id == want for match in matches)
    latencies.sort()
    chosen = _at(faq.CONFIDENT, results)
    figures = {
        "entries": len(index),
        "paraphrases": len(PARAPHRASES),
        "unrelated": len(UNRELATED),
        "top1": round(top1 / len(PARAPHRASES), 4),
        "top3": round(top3 / len(PARAPHRASES), 4),
        "threshold": faq.CONFIDENT,
        "auto_precision": chosen["precision"],
        "auto_coverage": chosen["coverage"],
        "unrelated_answered": chosen["unrelated_answered"],
        "latency_median_ms": round(statistics.median(latencies), 3),
        "latency_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
        "sweep": [_at(threshold, results) for threshold in SWEEP],
    }
    write_result("faq_eval", figures, {"index": "demo FAQ (suncheon-faq.json)", "k": 3})
    return figures


def misses() -> list[tuple[str, str | None, faq.Match | None]]:
    """For tuning by hand: the questions whose top match is wrong or unconfident."""
    index = faq.FaqIndex(demo_entries())
    out = []
    for question, want in [*PARAPHRASES, *((q, None) for q in UNRELATED)]:
        matches = index.search(question, k=1)
        top = matches[0] if matches else None
        if (want is None and faq.is_confident(top)) or (
            want is not None and (top is None or top.entry_id != want or not faq.is_confident(top))
        ):
            out.append((question, want, top))
    return out


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
