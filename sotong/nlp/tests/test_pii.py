import itertools
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sotong.nlp import pii

ROOT = Path(__file__).resolve().parents[3]
OFFICE = ("061-749-3114",)


def found(text, **kwargs):
    return [(s.kind, text[s.start : s.end]) for s in pii.find(text, **kwargs)]


def rrn_with_check_digit(head12):
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    check = (11 - sum(int(d) * w for d, w in zip(head12, weights, strict=True)) % 11) % 10
    return head12 + str(check)


VALID_RRN = rrn_with_check_digit("850315123456")  # 8503151234568? computed, not guessed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Resident and alien registration numbers.
        ("주민번호 850315-1234567 입니다", "850315-1234567"),
        ("주민번호 850315 1234567 입니다", "850315 1234567"),
        ("주민번호 850315 - 1234567", "850315 - 1234567"),
        ("주민번호 850315–1234567", "850315–1234567"),
        ("번호 ８５０３１５－１２３４５６７", "８５０３１５－１２３４５６７"),
        (f"번호{VALID_RRN}요", VALID_RRN),
        ("외국인등록번호 010203-5123456", "010203-5123456"),
        ("2020년생 아이 200101-3123456", "200101-3123456"),
    ],
)
def test_rrn_spellings(text, expected):
    assert found(text) == [("rrn", expected)]


def test_rrn_date_and_gender_digit_are_validated():
    assert found("850230-1234567") == []  # 30 February
    assert found("851315-1234567") == []  # month 13
    assert found("850315-9234567") == []  # no gender/century digit 9
    assert found("000229-3123456") == [("rrn", "000229-3123456")]  # 2000 was a leap year
    assert found("010229-3123456") == []  # 2001 was not


def test_rrn_check_digit_is_required_only_without_a_separator():
    wrong = VALID_RRN[:-1] + str((int(VALID_RRN[-1]) + 1) % 10)
    assert found(f"번호 {wrong}") == []
    assert found(f"번호 {VALID_RRN}") == [("rrn", VALID_RRN)]
    # Numbers issued since October 2020 fail the formula: written as RRNs they are found.
    assert found(f"번호 {wrong[:6]}-{wrong[6:]}") == [("rrn", f"{wrong[:6]}-{wrong[6:]}")]
    assert pii.rrn_checksum_ok(VALID_RRN)
    assert not pii.rrn_checksum_ok(wrong)


@pytest.mark.parametrize(
    "number",
    [
        "010-1234-5678",
        "010.1234.5678",
        "010 1234 5678",
        "01012345678",
        "010 - 1234 - 5678",
        "011-234-5678",
        "+82 10-1234-5678",
        "+821012345678",
        "82-10-1234-5678",
        "+82 (0)10 1234 5678",
        "02-123-4567",
        "02-1234-5678",
        "(02) 1234-5678",
        "02)123-4567",
        "031-123-4567",
        "(051)234-5678",
        "064.712.3456",
        "070-1234-5678",
        "0504-1234-5678",
        "０１０－１２３４－５６７８",
        "010\u200b-1234-\u200b5678",
    ],
)
def test_phone_spellings(number):
    text = f"연락처는 {number}입니다"
    assert found(text) == [("phone", number)]


def test_office_and_representative_numbers_are_not_personal():
    text = "시청 061-749-3114, (061)749-3114, 콜센터 120, 1588-3114, 080-123-4567"
    assert found(text, public_numbers=OFFICE) == []
    assert found("시청 061-749-2345", public_numbers=["061-749-*"]) == []
    assert found("시청 +82 61-749-3114", public_numbers=OFFICE) == []
    # Without the allow-list an office line reads as any other phone number.
    assert found("시청 061-749-3114") == [("phone", "061-749-3114")]
    # An allow-listed number is not taken for an account because a bank word is near.
    assert found("우리 시청 061-749-3114", public_numbers=OFFICE) == []


@pytest.mark.parametrize(
    "address",
    ["hong@naver.com", "kim.minji_2026@daum.net", "CITIZEN+gov@KOREA.KR", "a.b@snu.ac.kr"],
)
def test_email_spellings(address):
    assert found(f"메일 {address}로 보내주세요") == [("email", address)]


def test_email_with_spaced_or_spelled_at():
    assert found("메일 hong @ naver.com") == [("email", "hong @ naver.com")]
    assert found("메일 hong(at)naver.com") == [("email", "hong(at)naver.com")]


@pytest.mark.parametrize(
    "number",
    ["4111-1111-1111-1111", "4111 1111 1111 1111", "4111111111111111", "3782-822463-10005"],
)
def test_card_spellings(number):
    assert found(f"카드 {number} 결제 취소요") == [("card", number)]


def test_card_needs_luhn():
    assert found("카드 4111-1111-1111-1112 결제") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("신한 110-123-456789 로 환불", "110-123-456789"),
        ("국민은행 123456-12-123456", "123456-12-123456"),
        ("1002-123-456789 (우리은행)", "1002-123-456789"),
        ("농협 302-1234-5678-11", "302-1234-5678-11"),
        ("카카오뱅크 3333-01-1234567", "3333-01-1234567"),
        ("토스뱅크 1000-1234-5678", "1000-1234-5678"),
        ("계좌 110 123 456789", "110 123 456789"),
        ("우체국 123456-12-1234567", "123456-12-1234567"),
        ("환불 계좌 12345612123456", "12345612123456"),
        # No bank named, but the shape a bank prints (하나은행 3-6-5).
        ("여기로 보내주세요 123-123456-12345", "123-123456-12345"),
    ],
)
def test_account_spellings(text, expected):
    assert found(text) == [("account", expected)]


@pytest.mark.parametrize(
    "plate",
    ["12가3456", "123가4567", "123가 4567", "12 가 3456", "서울12가3456", "경기 34나 5678"],
)
def test_plate_spellings(plate):
    assert found(f"{plate} 차량 불법주차 신고합니다") == [("plate", plate)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("집 주소 순천시 중앙로 12 입니다", ["12"]),
        ("신포로27번길 7 앞이에요", ["7"]),
        ("신포로 27번길 7 앞이에요", ["7"]),
        ("세종대로 110-3 근처", ["110-3"]),
        ("중앙로 12, 302호", ["12, 302호"]),
        ("운남동 123-4번지 주택", ["123-4번지"]),
        ("운남동 산12-3번지", ["산12-3번지"]),
        ("해안동1가 3-2 부근", ["3-2"]),
        ("소통아파트 101동 1203호", ["101동 1203호"]),
        ("소통빌라 101-1203호", ["101-1203호"]),
        ("중앙로 12, 소통아파트 101동 1203호", ["12", "101동 1203호"]),
    ],
)
def test_address_spellings(text, expected):
    assert found(text) == [("address", e) for e in expected]


@pytest.mark.parametrize(
    "text",
    [
        "2026.11.25 오후 2시에 방문했어요",
        "2026-11-25까지 신청",
        "11/25에 갔는데요",
        "14:30쯤",
        "과태료 15,000원, 총 1,234,567원",
        "버스 720번이 안 와요, 좌석 9200번도",
        "우편번호 57922",
        "「민원 처리에 관한 법률」 제19조 제3항, 제24조의2 제1항",
        "민원번호 1AA-2011-0123456, 접수번호 202511250001234567",
        "사업자등록번호 123-45-67890",
        "2026년, 1998년생, 3명, 12개, 100대, 5가구, 3층, 1호선",
        "101동 앞 놀이터",
        "버스로 10분, 앞으로 3년, 바로 2시, 도로 2차선, 종로3가 역",
        "골목길 6 관련해서, 출근길 3 번",
        "대법원 97다1234 판결",
        "제12조 2024년 개정",
        "콜센터 120, 1588-3114",
    ],
)
def test_lookalikes_are_not_flagged(text):
    assert found(text, public_numbers=OFFICE) == []


def test_masking_follows_the_public_service_display_rules():
    text = (
        "주민 850315-1234567 폰 010-1234-5678 메일 abcdef@naver.com "
        "카드 4111-1111-1111-1111 신한 110-123-456789 차 12가3456 주소 중앙로 12, 101동 1203호"
    )
    result = pii.mask(text)
    assert result.masked == (
        "주민 850315-******* 폰 010-****-5678 메일 ab****@naver.com "
        "카드 ****-****-****-1111 신한 ***-***-**6789 차 12가**** 주소 중앙로 **, ***동 ****호"
    )
    assert [s.kind for s in result.spans] == [
        "rrn",
        "phone",
        "email",
        "card",
        "account",
        "plate",
        "address",
        "address",
    ]
    assert pii.mask("+82 10-1234-5678").masked == "+82 10-****-5678"
    assert pii.mask("(02) 1234-5678").masked == "(02) ****-5678"
    assert pii.mask("a@x.com").masked == "*@x.com"  # a one-letter name is hidden whole
    assert pii.mask("ab@x.com").masked == "a*@x.com"


def test_offsets_index_the_original_text_exactly():
    decomposed = unicodedata.normalize("NFD", "차량 12가3456 이요")
    text = f"전화\u200b ０１０－１２３４－５６７８ 그리고 {decomposed}"
    result = pii.mask(text)
    kinds = [s.kind for s in result.spans]
    assert kinds == ["phone", "plate"]
    phone, plate = result.spans
    assert text[phone.start : phone.end] == "０１０－１２３４－５６７８"
    assert unicodedata.normalize("NFC", text[plate.start : plate.end]) == "12가3456"
    assert len(result.masked) == len(text)
    # Re-assembled: the text between spans is untouched.
    rebuilt, position = "", 0
    for span in result.spans:
        rebuilt += text[position : span.start] + result.masked[span.start : span.end]
        position = span.end
    assert rebuilt + text[position:] == result.masked


def test_a_rejected_number_does_not_hide_the_next_one():
    # 850399 is no date: the card right after it is still found.
    assert found("850399-1234567 4111 1111 1111 1111") == [("card", "4111 1111 1111 1111")]


def test_empty_and_plain_text():
    assert pii.find("") == []
    assert pii.mask("가로등이 꺼졌어요 ㅠㅠ") == pii.Masked("가로등이 꺼졌어요 ㅠㅠ", [])


def test_the_generated_corpus_meets_the_targets():
    from eval.pii import evaluate
    from eval.pii_corpus import generate

    figures = evaluate(generate(seed=11, per_variant=8, negatives_per_item=3))
    assert figures["min_recall"] == 1.0, figures["missed"]
    assert figures["lookalike_fp_rate"] <= 0.02, figures["flagged_lookalikes"]


# --- properties -------------------------------------------------------------------------

PII_PIECES = st.sampled_from(
    [
        "850315-1234567",
        VALID_RRN,
        "010-1234-5678",
        "+82 10 9876 5432",
        "02)123-4567",
        "hong.gd@naver.com",
        "4111 1111 1111 1111",
        "신한 110-123-456789",
        "12가3456",
        "서울34나5678",
        "중앙로 15",
        "운남동 123-4번지",
        "101동 1203호",
        "０１０－２２２２－３３３３",
    ]
)
FILLER = st.text(alphabet="가나다라 도로변에 불법주차ㅋㅠ!?.,~ \n\u200bABCxyz", max_size=12)
TEXTS = st.lists(st.one_of(PII_PIECES, FILLER), max_size=8).map(" ".join)


def _digit_runs(text):
    return re.findall(r"[0-9]+", unicodedata.normalize("NFKC", text))


@settings(max_examples=200, deadline=None)
@given(st.one_of(TEXTS, st.text()))
def test_spans_are_sorted_disjoint_and_mask_only_changes_them(text):
    result = pii.mask(text, public_numbers=OFFICE)
    spans = result.spans
    assert spans == pii.find(text, public_numbers=OFFICE)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert len(result.masked) == len(text)
    inside = {i for s in spans for i in range(s.start, s.end)}
    assert all(result.masked[i] == text[i] for i in range(len(text)) if i not in inside)


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_masked_text_keeps_no_full_number_of_the_original(text):
    result = pii.mask(text)
    masked_runs = _digit_runs(result.masked)
    for span in result.spans:
        digits = "".join(_digit_runs(text[span.start : span.end]))
        if len(digits) >= 7:
            assert not any(digits in run for run in masked_runs)
        hidden = result.masked[span.start : span.end]
        if span.kind in (pii.CARD, pii.ACCOUNT):
            assert len("".join(_digit_runs(hidden))) == 4
        if span.kind == pii.ADDRESS:
            assert _digit_runs(hidden) == []


@settings(max_examples=200, deadline=None)
@given(st.one_of(TEXTS, st.text()))
# Once found by hypothesis: the masked phone's first digits read as a building number.
@example("다로 ０１０－２２２２－３３３３")
def test_masking_is_idempotent(text):
    once = pii.mask(text).masked
    assert pii.mask(once).masked == once


# --- the command ------------------------------------------------------------------------


def run_cli(data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "sotong", "pii", "mask", *args],
        input=data,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_cli_masks_each_line_with_offsets_into_it():
    lines = [
        "제 번호 010-1234-5678, 시청은 061-749-3114 ㅠㅠ",
        "",
        "주민번호 850315-1234567\r",
        "말\u2028줄 hong@naver.com",
    ]
    completed = run_cli("\n".join(lines).encode() + b"\n", "--public-number", "061-749-3114")
    assert completed.returncode == 0, completed.stderr.decode()
    outputs = [json.loads(line) for line in completed.stdout.decode().split("\n") if line]
    assert len(outputs) == 4
    assert outputs[0]["masked"] == "제 번호 010-****-5678, 시청은 061-749-3114 ㅠㅠ"
    assert outputs[1] == {"masked": "", "spans": []}
    for line, output in zip(lines, outputs, strict=True):
        line = line.removesuffix("\r")
        for span in output["spans"]:
            assert (
                pii.mask_span(span["kind"], line[span["start"] : span["end"]])
                == (output["masked"][span["start"] : span["end"]])
            )
    assert [(s["kind"], lines[0][s["start"] : s["end"]]) for s in outputs[0]["spans"]] == [
        ("phone", "010-1234-5678")
    ]
    assert outputs[3]["spans"] == [{"kind": "email", "start": 4, "end": 18}]
    # Korean is written as Korean, not \\u escapes.
    assert "번호" in completed.stdout.decode()


def test_cli_stops_at_a_line_that_is_not_utf8_and_keeps_the_lines_before():
    completed = run_cli(b"010-1234-5678\n\xff\xfe\nlater\n")
    assert completed.returncode == 2
    assert "line 2" in completed.stderr.decode()
    assert json.loads(completed.stdout.decode().splitlines()[0])["masked"] == "010-****-5678"
