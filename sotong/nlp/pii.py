"""Personal information in citizens' text: find it and mask it (no Django imports).

`find()` returns the spans of resident registration numbers, phone numbers, e-mail
addresses, card and bank-account numbers, vehicle plates and detailed addresses;
`mask()` replaces them with the display masking Korean public services use
(850315-*******, 010-****-5678, ab***@naver.com, card and account numbers down to the
last four digits, 12가****, an address cut to the road name or 동).

Offsets index the text exactly as given (Python characters), so a caller can keep the
original encrypted and show or export the masked form. To be robust to how citizens type,
the patterns run on a *view* of the text in which full-width digits and letters are ASCII,
every dash is "-", every space is " ", invisible characters (zero-width spaces, joiners,
bidirectional controls) are skipped and decomposed Hangul (a Mac's NFD) is composed; each
character of the view remembers where it came from, so a span found in the view maps back
to the original characters, invisible ones inside it included.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sotong.nlp.normalise import INVISIBLE

RRN = "rrn"
PHONE = "phone"
EMAIL = "email"
CARD = "card"
ACCOUNT = "account"
PLATE = "plate"
ADDRESS = "address"

# Overlapping candidates are settled in this order: the more specific reading wins (a
# checksummed 13-digit run is a resident number before it is a card; a bank word near a
# phone number does not make it an account).
KINDS = (EMAIL, RRN, CARD, PHONE, ACCOUNT, PLATE, ADDRESS)
_PUBLIC = "public"  # an allow-listed office number: found, never reported


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Masked:
    masked: str
    spans: list[Span]


# ---------------------------------------------------------------------------------------
# The view the patterns run on.

_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_NEEDS_FOLDING = re.compile(
    "[" + re.escape("".join(sorted(INVISIBLE | _DASHES))) + r"\u1100-\u11ff\uff01-\uff5e"
    r"\x00-\x09\x0b-\x1f\x7f-\x9f]|[^\S \n]|(?![0-9])\d"
)


class _View:
    """The text folded for matching; ``starts[i]``/``ends[i]`` are where view character
    ``i`` came from in the original."""

    __slots__ = ("ends", "starts", "text")

    starts: list[int] | None
    ends: list[int] | None

    def __init__(self, original: str) -> None:
        if not _NEEDS_FOLDING.search(original):
            # Most messages: nothing to fold, the view is the text itself.
            self.text = original
            self.starts = self.ends = None
            return
        chars: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        i, n = 0, len(original)
        while i < n:
            char = original[i]
            code = ord(char)
            width = 1
            if char in INVISIBLE or (unicodedata.category(char) == "Cc" and not char.isspace()):
                i += 1
                continue
            if 0x1100 <= code <= 0x1112 and i + 1 < n and 0x1161 <= ord(original[i + 1]) <= 0x1175:
                # A decomposed syllable (leading consonant, vowel, optional final): composed.
                syllable = 0xAC00 + (code - 0x1100) * 588 + (ord(original[i + 1]) - 0x1161) * 28
                width = 2
                if i + 2 < n and 0x11A8 <= ord(original[i + 2]) <= 0x11C2:
                    syllable += ord(original[i + 2]) - 0x11A7
                    width = 3
                char = chr(syllable)
            elif 0xFF01 <= code <= 0xFF5E:
                char = chr(code - 0xFEE0)
            elif char in _DASHES:
                char = "-"
            elif char.isspace() and char != "\n":
                char = " "
            elif code > 0x7F and char.isdecimal():
                # Other scripts' decimal digits (Arabic-Indic, Devanagari…) read as 0-9.
                char = str(unicodedata.decimal(char))
            chars.append(char)
            starts.append(i)
            ends.append(i + width)
            i += width
        self.text = "".join(chars)
        self.starts = starts
        self.ends = ends

    def original_span(self, kind: str, start: int, end: int) -> Span:
        if self.starts is None or self.ends is None:
            return Span(kind, start, end)
        return Span(kind, self.starts[start], self.ends[end - 1])

    def original_index(self, index: int) -> int:
        return index if self.starts is None else self.starts[index]


# ---------------------------------------------------------------------------------------
# Patterns. Every number pattern refuses to start or end inside a longer number
# (2026.11.25 holds no phone number; 1,234,567원 no account).

_NOT_AFTER_NUMBER = r"(?<![0-9])(?<![0-9][-.])"
_NOT_BEFORE_NUMBER = r"(?![0-9])(?![-.][0-9])"
_GAP = r"(?:[ ]?[-.][ ]?|[ ])"  # 010-1234, 010.1234, 010 1234, 010 - 1234

# Resident (and alien) registration number: YYMMDD, an optional separator, then the
# gender/century digit and six more.
_RRN = re.compile(
    _NOT_AFTER_NUMBER
    + r"(?P<birth>[0-9]{6})(?P<sep>[ ]?-[ ]?|[ ])?(?P<back>[1-8][0-9]{6})"
    + _NOT_BEFORE_NUMBER
)

# Phone numbers: mobiles 010/011/016-019, Seoul 02, area codes 031-064, internet phones
# 070 and the 050x "safe numbers" platforms give individuals. Representative numbers
# (1588-xxxx and the other 15xx/16xx/18xx) and 080 toll-free lines belong to businesses
# and offices, not people: they are not personal information and are left alone, as is
# 120 (the city call centres) and every number in ``public_numbers``.
_CODE = r"(?:1[016789]|2|[3-6][1-5]|70|50[2-8])"
_PHONE = re.compile(
    _NOT_AFTER_NUMBER
    + r"(?:(?P<intl>\+[ ]?82|82(?=[ .-]))[ .-]?(?:\(0\)[ ]?)?(?P<zero>0)?(?P<icode>"
    + _CODE
    + r")|\((?P<pcode>0"
    + _CODE
    + r")\)[ ]?|(?P<code>0"
    + _CODE
    + r"))(?:[ ]?[-.)][ ]?|[ ])?(?P<mid>[0-9]{3,4})"
    + _GAP
    + r"?(?P<last>[0-9]{4})"
    + _NOT_BEFORE_NUMBER
)

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])(?P<local>[A-Za-z0-9_][A-Za-z0-9._%+\-]*)"
    r"(?:[ ]?@[ ]?|[ ]?[(\[]at[)\]][ ]?)"
    r"(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,24})(?![A-Za-z0-9-])"
)

# Card numbers: 4-4-4-4 (Amex 4-6-5, Diners 4-6-4) with one kind of separator, or a bare
# run of 15-16 digits; Luhn-valid.
_CARD = re.compile(
    _NOT_AFTER_NUMBER
    + r"(?:[0-9]{4}(?P<sep>[ ]?-[ ]?|[ ]|\.)[0-9]{4}(?P=sep)[0-9]{4}(?P=sep)[0-9]{4}"
    + r"|[0-9]{4}(?P<sep2>[ ]?-[ ]?|[ ])[0-9]{6}(?P=sep2)[0-9]{4,5}"
    + r"|[0-9]{15,16})"
    + _NOT_BEFORE_NUMBER
)

# Bank-account numbers: hyphenated digit groups (or a bare run) of 10-16 digits. Taken
# as an account when a bank word is near, or, alone, when the groups have the shape one
# of the banks prints (국민 6-2-6, 신한 3-3-6, 우리 4-3-6, 하나 3-6-5, 농협 3-4-4-2,
# 기업 3-6-2-3, 카카오뱅크 4-2-7, 우체국 6-2-7, 새마을금고 4-4-4-1, 부산/대구 3-2-6-1 …).
_ACCOUNT = re.compile(
    _NOT_AFTER_NUMBER
    + r"(?:[0-9]{2,8}(?:[ ]?-[ ]?[0-9]{1,8}){1,4}|[0-9]{3,6}(?:[ ][0-9]{1,7}){2,3}|[0-9]{10,16})"
    + r"(?![0-9])(?![-.][0-9])(?![월일시분년원개명번층호차])"
)
_ACCOUNT_SHAPES = frozenset(
    {
        (6, 2, 6),
        (3, 2, 4, 3),
        (3, 3, 6),
        (3, 2, 6),
        (4, 3, 6),
        (3, 6, 5),
        (3, 4, 4, 2),
        (3, 4, 4, 1),
        (3, 6, 2, 3),
        (4, 2, 7),
        (6, 2, 7),
        (4, 4, 4, 1),
        (3, 2, 6, 1),
        (3, 6, 2, 1),
    }
)
_BANK_WORDS = re.compile(
    r"은행|계좌|뱅크|농협|신협|수협|새마을금고|우체국|예금주|입금|송금|이체|환불|환급|"
    r"국민|신한|우리|하나|기업|토스|카카오|씨티|SC|통장"
)
# Numbers the text itself calls something else.
_OTHER_NUMBER_WORDS = re.compile(r"민원|접수|신청|사업자|고유|문서|사건|등기|송장|운송장|주문")

# Vehicle plates: 12가3456, 123가 4567, 서울12가3456 (the older regional form). The
# letters are those issued to private, commercial, delivery and rental cars.
_PLATE_LETTERS = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호"
_REGIONS = "서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충북|충남|전북|전남|경북|경남|제주"
_PLATE = re.compile(
    r"(?:(?P<region>"
    + _REGIONS
    + r")[ ]?[0-9]{1,3}|(?<![0-9제])[0-9]{2,3})[ ]?["
    + _PLATE_LETTERS
    + r"][ ]?(?P<serial>[0-9]{4})(?![0-9])"
    # 97다1234 after 선고 or before 판결 is a court case number.
    + r"(?![ ]?판결)(?<!선고[ ][0-9][0-9][가-힣][0-9]{4})(?<!선고[ ][0-9][0-9][가-힣][ ][0-9]{4})"
)

# Detailed addresses. Only the part that points at a house is the span (the building
# number, the lot number, the apartment's 동/호), so masking it leaves the road name or
# the 동 a reader needs.
_UNITS = (
    r"분|시|초|번|명|개|원|대|월|일|년|세|살|차|킬로|km|m|미터|호선|회|건|%|위|등|배|점|도|kg|"
    r"톤|리터|가지|곳|군데|마리|권|장|잔|병|주|달|층|동|가구|세대|평|인|줄|칸|미|퍼|프로|길"
)
_ROAD = re.compile(
    r"(?<![가-힣])(?P<road>[가-힣]{1,20}(?:[0-9]{1,3}(?:번안|번|가|안)?)?(?:대로|로|길)"
    r"(?:[ ]?[0-9]{1,4}[ ]?(?:번안|번|가|안)?길)?)[ ]?"
    r"(?P<number>(?<![0-9])[0-9]{1,4}(?:-[0-9]{1,4})?(?:[ ]?,?[ ]?[0-9]{1,5}[ ]?호(?!선))?)"
    # A number running on into masked digits (010-****-…) is what masking left of a
    # phone or card number, not a building number.
    r"(?![0-9])(?![-.,:/][0-9])(?![-.,:/ ]?[*])(?![ ]?(?:" + _UNITS + r"))"
    # 종로5가: the fifth section of 종로, not building 5.
    r"(?!가)"
)
# Words ending in 로/길 that are not road names: particles (버스로, 앞으로), adverbs
# (바로, 서로) and road words (도로, 차로).
_NOT_ROAD_WORDS = (
    "도로 대로 경로 통로 선로 철로 진로 차로 항로 수로 활로 퇴로 미로 회로 산책로 등산로 "
    "자전거도로 별로 새로 서로 따로 주로 바로 실제로 정말로 진짜로 억지로 제대로 그대로 "
    "마음대로 멋대로 순서대로 뒤로 위로 아래로 이리로 저리로 그리로 혼자로 버스로 택시로 "
    "전화로 문자로 메일로 기차로 지하철로 자전거로 차량로 우편로 팩스로 카톡로 현금로 "
    "카드로 계좌로 번호로 그걸로 이걸로 저걸로 뭘로 날로 갈수록 길 큰길 골목길 지름길 "
    "뒷길 오솔길 산길 빗길 눈길 출근길 퇴근길 등굣길 하굣길 한길 외길 갈림길 찻길 "
    "귀갓길 밤길 빙판길 흙길 인도 가는길 오는길 가로 세로 사거리로 삼거리로 방향으로 "
    "배로 저로 나로 너로 뭐로 그로 비로 두배로 세배로 곧바로 제로 실로 홀로 절로 "
    "이대로 저대로 말대로 생각대로 법대로 규정대로"
)
_NOT_ROADS_EXACT = frozenset(_NOT_ROAD_WORDS.split())
# Endings that make any word a particle or a road word, not a road name (kept short:
# 봉선로 and 경인로 are roads, so 선로 and 인로 cannot be endings here).
_NOT_ROAD_ENDINGS = (
    "으로",
    "도로",
    "차로",
    "버스로",
    "택시로",
    "전화로",
    "문자로",
    "메일로",
    "카드로",
    "계좌로",
    "번호로",
    "걸로",
    "골목길",
    "출근길",
    "퇴근길",
)
_LOT = re.compile(
    r"(?<![0-9])(?P<lot>(?:산[ ]?)?[0-9]{1,5}(?:-[0-9]{1,4})?)(?P<beonji>[ ]?번지)"
    r"|(?P<dong>[가-힣]{1,10}(?:동|리)(?:[0-9]{1,2}가)?|[가-힣]{1,10}[0-9]{1,2}가)[ ]?"
    r"(?P<lot2>(?<![0-9])(?:산[ ]?)?[0-9]{1,5}-[0-9]{1,4})(?![0-9])(?![-.][0-9])"
    r"(?![ ]?(?:" + _UNITS + r"|반|로|으로|번|승|패|위))"
)
_APARTMENT = re.compile(
    r"(?:(?<![0-9])[0-9]{1,4}|(?<![A-Za-z])[A-Z])[ ]?동[ ]?[0-9]{1,5}[ ]?호(?!선)"
    r"|(?<![0-9])(?<![0-9][-.])[0-9]{2,4}-[0-9]{3,4}[ ]?호(?!선)"
)


# ---------------------------------------------------------------------------------------
# Validation.

_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def rrn_birth_date(digits: str) -> dt.date | None:
    """The birth date a 13-digit registration number encodes, or None when the date or the
    gender/century digit (1-8: 1, 2, 5, 6 for the 1900s, 3, 4, 7, 8 for the 2000s; 5-8
    are foreigners) is not possible."""
    if len(digits) != 13 or not digits.isdigit() or digits[6] not in "12345678":
        return None
    century = 1900 if digits[6] in "1256" else 2000
    try:
        return dt.date(century + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return None


def rrn_checksum_ok(digits: str) -> bool:
    """The check digit of numbers issued before October 2020 (the last digit is
    (11 - weighted sum mod 11) mod 10; alien registration numbers add 2)."""
    total = sum(int(d) * w for d, w in zip(digits[:12], _RRN_WEIGHTS, strict=True))
    check = (11 - total % 11) % 10
    last = int(digits[12])
    if digits[6] in "5678":
        return last in (check, (check + 2) % 10)
    return last == check


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(c for c in text if "0" <= c <= "9")


def _groups(text: str) -> tuple[int, ...]:
    return tuple(len(g) for g in re.findall(r"[0-9]+", text))


def national_number(number: str) -> str:
    """A phone number as its domestic digits: '+82 10-1234-5678' → '01012345678'."""
    digits = _digits(unicodedata.normalize("NFKC", number))
    if digits.startswith("82") and len(digits) >= 10:
        digits = digits[2:]
        if not digits.startswith("0"):
            digits = "0" + digits
    return digits


class PublicNumbers:
    """The organisation's own numbers, which are not personal and stay unmasked: exact
    numbers in any spelling ('061-749-3114') and whole exchanges written with a trailing
    '*' ('061-749-*' or '061-749-****')."""

    def __init__(self, numbers: Iterable[str] = ()) -> None:
        exact: set[str] = set()
        prefixes: list[str] = []
        for number in numbers:
            if "*" in number:
                prefix = national_number(number.split("*", 1)[0])
                if prefix:
                    prefixes.append(prefix)
            elif national := national_number(number):
                exact.add(national)
        self.exact = frozenset(exact)
        self.prefixes = tuple(prefixes)

    def __contains__(self, number: str) -> bool:
        national = national_number(number)
        return national in self.exact or national.startswith(self.prefixes)

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)


# ---------------------------------------------------------------------------------------
# Detection.

_Candidate = tuple[str, int, int]


def _scan(
    pattern: re.Pattern[str], view: str, accept: Callable[[re.Match[str]], bool]
) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` that ``accept`` keeps. A rejected match frees its text
    for a match starting one character later, where `finditer` would skip past it
    (a failed date in 850399-1234567 4111 1111 1111 1111 must not hide the card)."""
    position = 0
    while (match := pattern.search(view, position)) is not None:
        if accept(match):
            yield match
            position = max(match.end(), match.start() + 1)
        else:
            position = match.start() + 1


def _is_rrn(match: re.Match[str]) -> bool:
    digits = match["birth"] + match["back"]
    if rrn_birth_date(digits) is None:
        return False
    # Numbers issued since October 2020 carry a random last digit, so the check digit
    # cannot be required of a number written the way RRNs are written (YYMMDD-NNNNNNN):
    # a valid date and gender digit with a separator is enough. A bare 13-digit run is
    # more often something else (an account, a barcode), so there the pre-2020 check
    # digit is required: a post-2020 RRN typed without its hyphen is missed, a price
    # we accept to keep account and order numbers unmasked.
    return match["sep"] is not None or rrn_checksum_ok(digits)


def _rrns(view: str) -> Iterator[_Candidate]:
    for match in _scan(_RRN, view, _is_rrn):
        yield RRN, match.start(), match.end()


def _phones(view: str, public: PublicNumbers) -> Iterator[_Candidate]:
    for match in _PHONE.finditer(view):
        # A public number is claimed (and then dropped) so that no other kind takes it:
        # 032-760-7114 near "우리 구" is not an account.
        kind = _PUBLIC if public and match.group(0) in public else PHONE
        yield kind, match.start(), match.end()


def _emails(view: str) -> Iterator[_Candidate]:
    for match in _EMAIL.finditer(view):
        yield EMAIL, match.start(), match.end()


def _cards(view: str) -> Iterator[_Candidate]:
    def is_card(match: re.Match[str]) -> bool:
        text = match.group(0)
        digits = _digits(text)
        if not luhn_ok(digits) or len(set(digits)) == 1:
            return False
        if _OTHER_NUMBER_WORDS.search(view[max(0, match.start() - 10) : match.start()]):
            return False
        if text.isdigit():
            # A bare run: 15 (Amex) or 16 digits starting with 2-6 (Visa, Mastercard,
            # Amex, JCB) or 9 (Korean domestic BC cards). (Complaint receipt numbers are
            # 18 digits, and one in ten passes Luhn.)
            if digits[0] not in "234569":
                return False
            # A bare run after a bank's name is its account (우체국 accounts are 15
            # digits), unless the text says card (국민카드, 신한카드).
            before = view[max(0, match.start() - 20) : match.start()]
            if _BANK_WORDS.search(before) and "카드" not in before:
                return False
        return True

    for match in _scan(_CARD, view, is_card):
        yield CARD, match.start(), match.end()


def _accounts(view: str) -> Iterator[_Candidate]:
    def is_account(match: re.Match[str]) -> bool:
        text = match.group(0)
        digits = _digits(text)
        if not 10 <= len(digits) <= 16 or len(set(digits)) == 1:
            return False
        if _OTHER_NUMBER_WORDS.search(view[max(0, match.start() - 10) : match.start()]):
            return False
        before = view[max(0, match.start() - 20) : match.start()]
        after = view[match.end() : match.end() + 12]
        if _BANK_WORDS.search(before) or _BANK_WORDS.search(after):
            return True
        return _groups(text) in _ACCOUNT_SHAPES

    for match in _scan(_ACCOUNT, view, is_account):
        yield ACCOUNT, match.start(), match.end()


def _plates(view: str) -> Iterator[_Candidate]:
    for match in _PLATE.finditer(view):
        yield PLATE, match.start(), match.end()


def _is_road(match: re.Match[str]) -> bool:
    road = match["road"]
    name = _ROAD_NUMBER.sub("", road)
    if road in _NOT_ROADS_EXACT or name in _NOT_ROADS_EXACT:
        return False
    return not name.endswith(_NOT_ROAD_ENDINGS)


_ROAD_NUMBER = re.compile(r"[ ]?[0-9].*$")


def _addresses(view: str) -> Iterator[_Candidate]:
    for match in _scan(_ROAD, view, _is_road):
        yield ADDRESS, match.start("number"), match.end("number")
    for match in _LOT.finditer(view):
        if match["lot"] is not None:
            yield ADDRESS, match.start("lot"), match.end("beonji")
        else:
            yield ADDRESS, match.start("lot2"), match.end("lot2")
    for match in _APARTMENT.finditer(view):
        yield ADDRESS, match.start(), match.end()


_DETECTORS: dict[str, Callable[[str], Iterator[_Candidate]]] = {
    EMAIL: _emails,
    RRN: _rrns,
    CARD: _cards,
    ACCOUNT: _accounts,
    PLATE: _plates,
    ADDRESS: _addresses,
}


def _select(candidates: Iterable[_Candidate]) -> list[_Candidate]:
    """Non-overlapping candidates: by kind priority, then the longer one."""
    rank = {kind: i for i, kind in enumerate(KINDS)}
    rank[_PUBLIC] = rank[PHONE]
    chosen: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (rank[c[0]], c[1] - c[2], c[1])):
        _, start, end = candidate
        if all(end <= s or start >= e for _, s, e in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda c: c[1])


def find(text: str, *, public_numbers: Iterable[str] | PublicNumbers = ()) -> list[Span]:
    """The personal information in ``text``: non-overlapping spans sorted by start, with
    offsets into ``text`` itself. Numbers in ``public_numbers`` (the city's own office
    lines, in any spelling; a trailing '*' covers an exchange) are not reported."""
    if not text:
        return []
    if isinstance(public_numbers, PublicNumbers):
        public = public_numbers
    else:
        public = PublicNumbers(public_numbers)
    view = _View(text)
    candidates: list[_Candidate] = list(_phones(view.text, public))
    for detect in _DETECTORS.values():
        candidates.extend(detect(view.text))
    return [
        view.original_span(kind, start, end)
        for kind, start, end in _select(candidates)
        if kind != _PUBLIC
    ]


# ---------------------------------------------------------------------------------------
# Masking.


def _is_digit(char: str) -> bool:
    return unicodedata.decimal(char, -1) >= 0


def _mask_digits(text: str, keep_first: int = 0, keep_last: int = 0) -> str:
    """Every digit becomes '*' except the first ``keep_first`` and last ``keep_last``."""
    positions = [i for i, c in enumerate(text) if _is_digit(c)]
    hidden = set(positions[keep_first : max(len(positions) - keep_last, 0)])
    return "".join("*" if i in hidden else c for i, c in enumerate(text))


def _phone_prefix_digits(original: str) -> int:
    """How many leading digits of a phone number are its country and area code."""
    view = _View(original).text
    match = _PHONE.search(view)
    if match is None:  # pragma: no cover - only called on spans _PHONE found
        return 3
    if match["intl"]:
        # +82 10, 82-10, +82 (0)10: every digit up to the end of the area code.
        return len(_digits(view[: match.end("icode")]))
    return len(match["pcode"] or match["code"])


def _mask_email(original: str) -> str:
    view = _View(original)
    match = _EMAIL.search(view.text)
    if match is None:  # pragma: no cover - only called on spans _EMAIL found
        return original
    start = view.original_index(match.start("local"))
    end = view.original_index(match.end("local"))
    # ab***@domain: two characters stay, or one of a two-character name, none of one.
    keep = start + min(2, max(match.end("local") - match.start("local") - 1, 0))
    return "".join("*" if keep <= i < end else c for i, c in enumerate(original))


def mask_span(kind: str, original: str) -> str:
    """The display form of one piece of personal information (the same length)."""
    if kind == RRN:
        return _mask_digits(original, keep_first=6)
    if kind == PHONE:
        # Country and area code and the last four digits stay: 010-****-5678.
        return _mask_digits(original, keep_first=_phone_prefix_digits(original), keep_last=4)
    if kind == EMAIL:
        return _mask_email(original)
    if kind in (CARD, ACCOUNT):
        return _mask_digits(original, keep_last=4)
    if kind == PLATE:
        # The region, the type number and the letter stay: 12가****.
        return _mask_digits(original, keep_first=sum(map(_is_digit, original)) - 4)
    return _mask_digits(original)


def mask(text: str, *, public_numbers: Iterable[str] | PublicNumbers = ()) -> Masked:
    """``text`` with its personal information masked, and the spans (offsets into
    ``text``; each masked piece keeps its length, so they index the masked text too)."""
    spans = find(text, public_numbers=public_numbers)
    pieces: list[str] = []
    position = 0
    for span in spans:
        pieces.append(text[position : span.start])
        pieces.append(mask_span(span.kind, text[span.start : span.end]))
        position = span.end
    pieces.append(text[position:])
    return Masked("".join(pieces), spans)
