"""A labelled corpus for personal-information detection, generated from a seed.

Every kind `sotong.nlp.pii` finds is written in the spellings citizens use (hyphens,
dots, spaces, parentheses, +82, full-width digits, a zero-width space pasted from a
messenger, a Mac's decomposed Hangul) inside complaint and SNS sentences, with the exact
gold spans; beside them, look-alikes that are not personal information (dates, times,
amounts, bus numbers, the city's own office numbers, postal codes, law articles,
complaint and order numbers, counts) that must not be flagged.

All values are synthetic: the numbers are random, the names invented.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from sotong.nlp import pii

# The city's own numbers, passed to the detector as `public_numbers` in the evaluation.
PUBLIC_NUMBERS = ("061-749-3114", "061-749-*", "1588-3114")

Segment = tuple[str, str | None]  # text, and the kind when it is personal information


@dataclass(frozen=True)
class Example:
    text: str
    spans: tuple[pii.Span, ...]
    group: str  # the kind for positives, "lookalike:<what>" for negatives
    variant: str = ""


@dataclass
class _Builder:
    rng: random.Random
    examples: list[Example] = field(default_factory=list)

    def add(self, segments: list[Segment], group: str, variant: str) -> None:
        text = ""
        spans = []
        for piece, kind in segments:
            if kind is not None:
                spans.append(pii.Span(kind, len(text), len(text) + len(piece)))
            text += piece
        self.examples.append(Example(text, tuple(spans), group, variant))


# --- sentences ------------------------------------------------------------------------

POSITIVE_FRAMES = {
    pii.RRN: [
        "주민번호 {} 입니다. 등본 발급 부탁드려요",
        "신청서에 주민등록번호 {} 적었는데 맞나요??",
        "외국인등록번호는 {}입니다 ㅠㅠ 체류 연장 문의드려요",
        "제 번호 {} 로 조회가 안 돼요ㅠㅠㅠ",
        "어머니 주민번호({}) 대신 신청 가능한가요?",
    ],
    pii.PHONE: [
        "연락 주세요 {} 입니다",
        "가로등 고장 신고합니다. 제 번호는 {}이에요",
        "답변은 문자로 {} 로 부탁드려요~~",
        "11/25에 통화했던 사람인데요 {} 로 다시 전화주세요!!",
        "담당자분 {} 으로 연락 부탁드립니다 (15,000원 환불 건)",
        "폰번호 {} ㅋㅋ 빨리 좀요",
    ],
    pii.EMAIL: [
        "자료는 {} 로 보내주세요",
        "메일주소: {}",
        "회신 이메일 {}입니다!",
        "{} 여기로 결과 부탁드려요 ㅎㅎ",
    ],
    pii.CARD: [
        "카드번호 {} 로 결제됐는데 취소가 안돼요",
        "주차요금 두 번 결제됐어요ㅠ 카드 {}",
        "{} 카드로 낸 과태료 환불 요청합니다",
    ],
    pii.ACCOUNT: [
        "환불은 {} 로 부탁드립니다",
        "보상금 입금 계좌 {} 입니다",
        "{} 으로 송금해주시면 됩니다",
        "계좌번호 {} (예금주 김소통)",
    ],
    pii.PLATE: [
        "{} 차량이 매일 인도에 불법주차해요",
        "2026.11.25 오후 3시쯤 {} 차가 신호위반했습니다",
        "우리 골목에 {} 차량 장기방치 중입니다 ㅠㅠ",
        "차량번호 {}, 견인 부탁드립니다",
    ],
    pii.ADDRESS: [
        "저희 집 주소는 {} 입니다",
        "{} 앞 하수구가 막혔어요ㅠㅠ",
        "택배 받을 곳: {}",
        "{} 근처 가로등이 꺼져 있어요!!!",
        "이사 왔어요 {}에 사는데 쓰레기 수거일이 언제인가요?",
    ],
}

NEGATIVE_FRAMES = [
    "{} 관련해서 문의드립니다",
    "어제 {} 에 갔는데 너무 불편했어요 ㅠㅠ",
    "공지에 {} 라고 나와 있던데 맞나요?",
    "{} 이거 언제 바뀌나요ㅋㅋㅋ",
    "시청 답변 기다립니다. {}",
]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" or c == "-" else c for c in text)


# --- personal information, in its spellings ----------------------------------------------


def rrn(rng: random.Random, variant: str) -> list[Segment]:
    foreign = variant == "foreigner"
    year = rng.randint(1940, 2019)
    birth = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
    if year < 2000:
        gender = rng.choice("56" if foreign else "12")
    else:
        gender = rng.choice("78" if foreign else "34")
    head = birth.strftime("%y%m%d") + gender + _digits(rng, 5)
    if variant in ("bare", "foreigner"):
        weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
        check = (11 - sum(int(d) * w for d, w in zip(head, weights, strict=True)) % 11) % 10
        number = head + str(check)
        if variant == "foreigner":
            number = number[:6] + "-" + number[6:]
    else:
        # Written with a separator: the check digit need not hold (numbers issued since
        # October 2020 do not satisfy it).
        number = head + _digits(rng, 1)
        sep = {"hyphen": "-", "space": " ", "spaced_hyphen": " - ", "dash": "–"}.get(variant)
        if variant == "fullwidth":
            return [(_fullwidth(number[:6] + "-" + number[6:]), pii.RRN)]
        number = number[:6] + (sep or "-") + number[6:]
    return [(number, pii.RRN)]


RRN_VARIANTS = ("hyphen", "space", "spaced_hyphen", "dash", "bare", "foreigner", "fullwidth")


def phone(rng: random.Random, variant: str) -> list[Segment]:
    mobile = rng.choice(["010", "010", "010", "011", "016", "017", "019"])
    mid4, last = _digits(rng, 4), _digits(rng, 4)
    mid4 = str(rng.randint(2, 9)) + mid4[1:]
    area = rng.choice(
        [
            "031",
            "032",
            "033",
            "041",
            "042",
            "043",
            "051",
            "052",
            "053",
            "054",
            "055",
            "061",
            "062",
            "063",
            "064",
        ]
    )
    mid3 = str(rng.randint(2, 9)) + _digits(rng, 2)
    spellings: dict[str, Callable[[], str]] = {
        "hyphen": lambda: f"{mobile}-{mid4}-{last}",
        "dots": lambda: f"{mobile}.{mid4}.{last}",
        "spaces": lambda: f"{mobile} {mid4} {last}",
        "bare": lambda: f"{mobile}{mid4}{last}",
        "plus82": lambda: f"+82 10-{mid4}-{last}",
        "plus82_bare": lambda: f"+8210{mid4}{last}",
        "82_hyphen": lambda: f"82-10-{mid4}-{last}",
        "plus82_zero": lambda: f"+82 (0)10 {mid4} {last}",
        "seoul": lambda: f"02-{mid3}-{last}",
        "seoul4": lambda: f"02-{mid4}-{last}",
        "seoul_paren": lambda: f"(02) {mid4}-{last}",
        "seoul_halfparen": lambda: f"02){mid3}-{last}",
        "area": lambda: f"{area}-{mid3}-{last}",
        "area_dots": lambda: f"{area}.{mid4}.{last}",
        "area_paren": lambda: f"({area}){mid3}-{last}",
        "internet": lambda: f"070-{mid4}-{last}",
        "safe_number": lambda: f"0504-{mid4}-{last}",
        "fullwidth": lambda: _fullwidth(f"{mobile}-{mid4}-{last}"),
        "zero_width": lambda: f"{mobile}\u200b-{mid4}-\u200b{last}",
        "spaced_hyphen": lambda: f"{mobile} - {mid4} - {last}",
    }
    return [(spellings[variant](), pii.PHONE)]


PHONE_VARIANTS = (
    "hyphen", "dots", "spaces", "bare", "plus82", "plus82_bare", "82_hyphen", "plus82_zero",
    "seoul", "seoul4", "seoul_paren", "seoul_halfparen", "area", "area_dots", "area_paren",
    "internet", "safe_number", "fullwidth", "zero_width", "spaced_hyphen",
)  # fmt: skip


def email(rng: random.Random, variant: str) -> list[Segment]:
    names = ["hong", "kim.minji", "sotong_love", "park-js", "lee2026", "citizen+gov", "Jung.Ho"]
    domains = [
        "naver.com",
        "daum.net",
        "gmail.com",
        "hanmail.net",
        "kakao.com",
        "korea.kr",
        "snu.ac.kr",
    ]
    local = rng.choice(names) + (str(rng.randint(1, 99)) if rng.random() < 0.5 else "")
    domain = rng.choice(domains)
    spelled = {
        "plain": f"{local}@{domain}",
        "upper": f"{local.upper()}@{domain.upper()}",
        "spaced_at": f"{local} @ {domain}",
        "paren_at": f"{local}(at){domain}",
        "fullwidth_at": f"{local}＠{domain}",
    }[variant]
    return [(spelled, pii.EMAIL)]


EMAIL_VARIANTS = ("plain", "upper", "spaced_at", "paren_at", "fullwidth_at")


def _luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + _digits(rng, length - len(prefix) - 1)
    for check in "0123456789":
        if pii.luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


def card(rng: random.Random, variant: str) -> list[Segment]:
    if variant in ("amex", "amex_bare"):
        number = _luhn_complete(rng, rng.choice(["34", "37"]), 15)
        text = number if variant == "amex_bare" else f"{number[:4]}-{number[4:10]}-{number[10:]}"
        return [(text, pii.CARD)]
    number = _luhn_complete(rng, rng.choice(["4", "5", "9410", "3560"]), 16)
    groups = [number[i : i + 4] for i in range(0, 16, 4)]
    text = {
        "hyphen": "-".join(groups),
        "spaces": " ".join(groups),
        "bare": number,
        "spaced_hyphen": " - ".join(groups),
        "fullwidth": _fullwidth("-".join(groups)),
    }[variant]
    return [(text, pii.CARD)]


CARD_VARIANTS = ("hyphen", "spaces", "bare", "spaced_hyphen", "fullwidth", "amex", "amex_bare")

# Bank, and the shape its account numbers are printed in.
BANK_FORMATS = {
    "국민은행": (6, 2, 6),
    "신한은행": (3, 3, 6),
    "신한": (3, 3, 6),
    "우리은행": (4, 3, 6),
    "하나은행": (3, 6, 5),
    "농협": (3, 4, 4, 2),
    "IBK기업은행": (3, 6, 2, 3),
    "카카오뱅크": (4, 2, 7),
    "토스뱅크": (4, 4, 4),
    "케이뱅크": (3, 3, 6),
    "우체국": (6, 2, 7),
    "새마을금고": (4, 4, 4, 1),
    "부산은행": (3, 2, 6, 1),
    "SC제일은행": (3, 2, 6),
}


def account(rng: random.Random, variant: str) -> list[Segment]:
    bank = rng.choice(sorted(BANK_FORMATS))
    shape = BANK_FORMATS[bank]
    groups = [str(rng.randint(1, 9)) + _digits(rng, n - 1) for n in shape]
    if variant == "bank_before":
        return [(f"{bank} ", None), ("-".join(groups), pii.ACCOUNT)]
    if variant == "bank_after":
        return [("-".join(groups), pii.ACCOUNT), (f" {bank}", None)]
    if variant == "bare_with_bank":
        return [(f"{bank} ", None), ("".join(groups), pii.ACCOUNT)]
    if variant == "spaces_with_bank":
        return [(f"{bank} ", None), (" ".join(groups), pii.ACCOUNT)]
    # "shape_only": no bank named; the printed shape of a bank's numbers is enough.
    shape = rng.choice([(6, 2, 6), (4, 3, 6), (3, 6, 5), (3, 4, 4, 2), (3, 6, 2, 3), (4, 2, 7)])
    groups = [str(rng.randint(1, 9)) + _digits(rng, n - 1) for n in shape]
    return [("-".join(groups), pii.ACCOUNT)]


ACCOUNT_VARIANTS = ("bank_before", "bank_after", "bare_with_bank", "spaces_with_bank", "shape_only")

PLATE_LETTERS = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호"


def plate(rng: random.Random, variant: str) -> list[Segment]:
    letter = rng.choice(PLATE_LETTERS)
    serial = str(rng.randint(1, 9)) + _digits(rng, 3)
    two, three = str(rng.randint(10, 99)), str(rng.randint(100, 699))
    region = rng.choice(["서울", "경기", "인천", "부산", "전남", "경북"])
    text = {
        "two": f"{two}{letter}{serial}",
        "three": f"{three}{letter}{serial}",
        "spaced": f"{three}{letter} {serial}",
        "spaced_both": f"{two} {letter} {serial}",
        "region": f"{region}{two}{letter}{serial}",
        "region_spaced": f"{region} {two}{letter} {serial}",
    }[variant]
    return [(text, pii.PLATE)]


PLATE_VARIANTS = ("two", "three", "spaced", "spaced_both", "region", "region_spaced")

ROADS = [
    "중앙로",
    "신포로",
    "우현로",
    "제물량로",
    "서해대로",
    "참외전로",
    "월미로",
    "개항로",
    "인중로",
    "송월로",
    "연남로",
    "충장로",
    "봉선로",
    "남부순환로",
    "세종대로",
    "종로",
]
DONGS = [
    "신포동",
    "운남동",
    "율목동",
    "중산동",
    "도원동",
    "송월동",
    "조례동",
    "연향동",
    "덕암동",
    "해안동1가",
    "북성동2가",
    "관동3가",
]
PLACES = ["전라남도 순천시", "인천 중구", "순천시", "광주광역시 동구", ""]


def address(rng: random.Random, variant: str) -> list[Segment]:
    road = rng.choice(ROADS)
    place = rng.choice(PLACES)
    lead = f"{place} " if place else ""
    number = str(rng.randint(1, 300))
    sub = str(rng.randint(1, 40))
    apt = f"{rng.randint(101, 125)}동 {rng.randint(1, 25)}{rng.randint(1, 4):02d}호"
    if variant == "road":
        return [(f"{lead}{road} ", None), (number, pii.ADDRESS)]
    if variant == "road_sub":
        return [(f"{lead}{road} ", None), (f"{number}-{sub}", pii.ADDRESS)]
    if variant == "beon_gil":
        return [(f"{lead}{road}{rng.randint(1, 80)}번길 ", None), (sub, pii.ADDRESS)]
    if variant == "beon_gil_spaced":
        return [(f"{lead}{road} {rng.randint(1, 80)}번길 ", None), (sub, pii.ADDRESS)]
    if variant == "road_apartment":
        return [
            (f"{lead}{road} ", None),
            (number, pii.ADDRESS),
            (", 소통아파트 ", None),
            (apt, pii.ADDRESS),
        ]
    if variant == "road_room":
        return [(f"{lead}{road} ", None), (f"{number}, {rng.randint(101, 905)}호", pii.ADDRESS)]
    dong = rng.choice(DONGS)
    if variant == "lot_beonji":
        return [(f"{lead}{dong} ", None), (f"{number}-{sub}번지", pii.ADDRESS)]
    if variant == "lot_plain_beonji":
        return [(f"{lead}{dong} ", None), (f"{number}번지", pii.ADDRESS)]
    if variant == "lot_hyphen":
        return [(f"{lead}{dong} ", None), (f"{number}-{sub}", pii.ADDRESS)]
    if variant == "lot_mountain":
        return [(f"{lead}{dong} ", None), (f"산{number}-{sub}번지", pii.ADDRESS)]
    if variant == "apartment":
        return [("소통아파트 ", None), (apt, pii.ADDRESS)]
    # "apartment_short": 101-1203호
    return [
        ("소통빌라 ", None),
        (
            f"{rng.randint(1, 12)}0{rng.randint(1, 5)}-{rng.randint(1, 9)}0{rng.randint(1, 4)}호",
            pii.ADDRESS,
        ),
    ]


ADDRESS_VARIANTS = (
    "road", "road_sub", "beon_gil", "beon_gil_spaced", "road_apartment", "road_room",
    "lot_beonji", "lot_plain_beonji", "lot_hyphen", "lot_mountain", "apartment", "apartment_short",
)  # fmt: skip

GENERATORS: dict[str, tuple[Callable[[random.Random, str], list[Segment]], tuple[str, ...]]] = {
    pii.RRN: (rrn, RRN_VARIANTS),
    pii.PHONE: (phone, PHONE_VARIANTS),
    pii.EMAIL: (email, EMAIL_VARIANTS),
    pii.CARD: (card, CARD_VARIANTS),
    pii.ACCOUNT: (account, ACCOUNT_VARIANTS),
    pii.PLATE: (plate, PLATE_VARIANTS),
    pii.ADDRESS: (address, ADDRESS_VARIANTS),
}


# --- look-alikes ------------------------------------------------------------------------


def lookalikes(rng: random.Random) -> dict[str, list[str]]:
    """Strings that look like personal information and are not, by what they are."""
    y, m, d = rng.randint(2012, 2030), rng.randint(1, 12), rng.randint(1, 28)
    hh, mm = rng.randint(0, 23), rng.choice([0, 10, 15, 30, 45])
    won = rng.randint(1, 9_999) * 100
    return {
        "date": [
            f"{y}.{m:02d}.{d:02d}",
            f"{y}-{m:02d}-{d:02d}",
            f"{m}/{d}",
            f"{y}년 {m}월 {d}일",
            f"'{y % 100:02d}.{m}.{d}",
            f"{y}.{m}.{d}.",
            f"{y}{m:02d}{d:02d}",
            f"{y % 100:02d}{m:02d}{d:02d}",
            f"{y}. {m}. {d}.",
            f"{m:02d}-{d:02d}",
        ],
        "time": [
            f"{hh:02d}:{mm:02d}",
            f"오후 {rng.randint(1, 11)}시 {mm}분",
            f"{hh}시~{(hh + 2) % 24}시",
            f"{y}.{m:02d}.{d:02d} {hh:02d}:{mm:02d}",
        ],
        "amount": [
            f"{won:,}원",
            f"{rng.randint(1, 9)},{rng.randint(100, 999)},{rng.randint(100, 999)}원",
            f"{won}원",
            f"{rng.randint(1, 99)}만원",
            f"₩{won:,}",
            f"{rng.randint(1, 999)},000,000원",
        ],
        "bus": [
            f"버스 {rng.randint(1, 999)}번",
            f"좌석 {rng.randint(1000, 9999)}",
            f"{rng.randint(1, 99)}-{rng.randint(1, 9)}번 마을버스",
            f"M{rng.randint(1000, 9999)}번 광역버스",
            f"{rng.randint(100, 999)}번 버스 {rng.randint(10, 40)}분 간격",
        ],
        "office_number": [
            "061-749-3114",
            f"061-749-{rng.randint(2000, 9999)}",
            "(061)749-3114",
            "061.749.3114",
            "120 콜센터",
            "1588-3114",
            f"1577-{_digits(rng, 4)}",
            f"1644-{_digits(rng, 4)}",
            f"080-{rng.randint(200, 999)}-{_digits(rng, 4)}",
            "+82 61-749-3114",
        ],
        "postal_code": [
            f"{rng.randint(10000, 63999)}",
            f"우편번호 {rng.randint(10000, 63999)}",
            f"({rng.randint(10000, 63999)})",
        ],
        "law_article": [
            f"제{rng.randint(1, 99)}조의{rng.randint(2, 5)} 제{rng.randint(1, 9)}항",
            f"「민원 처리에 관한 법률」 제{rng.randint(1, 50)}조 제{rng.randint(1, 5)}항",
            f"시행령 제{rng.randint(1, 40)}조 제{rng.randint(1, 9)}호",
            f"제{rng.randint(10, 99)}조 {rng.randint(1000, 2025)}",
            f"대법원 {rng.randint(90, 99)}다{rng.randint(1000, 9999)} 판결",
            f"{rng.randint(2010, 2024)}다{rng.randint(10000, 99999)}",
        ],
        "complaint_number": [
            f"민원번호 {rng.randint(1, 9)}AA-{rng.randint(2011, 2026)}-{_digits(rng, 7)}",
            f"접수번호 {y}{_digits(rng, 14)}",
            f"민원번호 {y}-{_digits(rng, 7)}",
            f"새올전자민원-{y}{_digits(rng, 14)}호",
            f"주문번호 {y}{m:02d}{d:02d}-{_digits(rng, 7)}",
            f"사업자등록번호 {rng.randint(100, 999)}-{rng.randint(10, 99)}-{_digits(rng, 5)}",
            f"송장번호 {_digits(rng, 4)}-{_digits(rng, 4)}-{_digits(rng, 4)}",
        ],
        "count": [
            f"{rng.randint(2, 99)}명",
            f"{rng.randint(2, 999)}개",
            f"{rng.randint(2, 500)}대",
            f"{rng.randint(2, 60)}가구",
            f"{rng.randint(1, 30)}층",
            f"{rng.randint(1, 9)}호선",
            f"{rng.randint(101, 130)}동 앞 놀이터",
            f"{rng.randint(100, 999)}m",
            f"{rng.randint(1, 99)}.{rng.randint(1, 9)}km",
            f"{rng.randint(1, 100)}%",
        ],
        "year": [f"{y}년", f"{rng.randint(1950, 2010)}년생", f"{y}~{y + 1}년", f"{y}-{y + 4}"],
        "road_words": [
            f"버스로 {rng.randint(2, 59)}분",
            f"앞으로 {rng.randint(2, 9)}년",
            f"바로 {rng.randint(1, 12)}시",
            f"도로 {rng.randint(2, 8)}차선",
            f"중앙로에서 {rng.randint(2, 30)}분",
            f"신포로 일대 {rng.randint(2, 20)}곳",
            f"골목길 {rng.randint(2, 9)}",
            f"차로 {rng.randint(5, 50)}분",
            f"서로 {rng.randint(2, 9)}번씩",
            f"종로{rng.randint(1, 6)}가 역",
        ],
        "other_ids": [
            f"SM-G{rng.randint(100, 999)}N",
            f"제{rng.randint(1, 30)}회 축제",
            f"{rng.randint(1, 9)}단지 {rng.randint(1, 9)}블록",
            f"ver {rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
            f"#{rng.randint(1, 999)}",
            f"{rng.randint(1, 3)}차 접종",
        ],
    }


def generate(seed: int = 2026, per_variant: int = 12, negatives_per_item: int = 4) -> list[Example]:
    """The corpus: ``per_variant`` sentences for every spelling of every kind (a quarter
    of them also with decomposed Hangul), and every look-alike in ``negatives_per_item``
    sentences, from ``seed``."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    builder = _Builder(rng)
    for kind, (generator, variants) in GENERATORS.items():
        for variant in variants:
            for i in range(per_variant):
                frame = rng.choice(POSITIVE_FRAMES[kind])
                before, after = frame.split("{}")
                segments = [(before, None), *generator(rng, variant), (after, None)]
                if i % 4 == 3:
                    # A Mac's decomposed Hangul: every piece decomposed, spans follow.
                    segments = [(unicodedata.normalize("NFD", t), k) for t, k in segments]
                    builder.add(segments, kind, variant + "+nfd")
                else:
                    builder.add(segments, kind, variant)
    for _ in range(negatives_per_item):
        for what, items in lookalikes(rng).items():
            for item in items:
                before, after = rng.choice(NEGATIVE_FRAMES).split("{}")
                builder.add(
                    [(before, None), (item, None), (after, None)], f"lookalike:{what}", item
                )
    return builder.examples
