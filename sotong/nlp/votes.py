"""Votes written in comments: which option a citizen chose, or why no vote is counted
(no Django imports).

`parse(comment, options)` reads one comment against a poll's option names and returns a
`Vote`: the option (counted from 1) or ``None``, a stable machine ``reason`` and a Korean
``detail`` staff see beside an invalid ballot. A comment is read as a vote when it names
exactly one option, however it is written:

- a number: ``2번``, ``2번이요!!``, ``2 번째``, ``2안``, ``2호``, ``#2``, ``No.2``, ``기호 2``,
  ``２번`` (full-width), a bare ``2`` where nothing makes it a time, date, amount or count
  (reason ``number``); ``②``, ``❷``, ``⑵``, ``⒉`` (``circled``); ``2️⃣`` (``keycap``);
- Korean words: ``이번``, ``삼번이요``, ``두 번째``, ``세번째요``, ``첫 번째``, ``둘째 거``,
  ``마지막 거`` (``ordinal``);
- the option's name, whatever the spacing, punctuation, case and particles
  (``'꽃누리'가 좋겠어요``, ``순천 애 소식이요``), a Hanja name by its reading (순천人 →
  순천인, 순천사람), or one part of a name written in parts (``관광과`` for ``관광과 – 갈대 숏폼``)
  (``name``); a near spelling of the name (``near_name``): Hangul decomposed into jamo,
  and an edit distance allowed by the name's length (none up to two syllables, one in
  three, two in four or five …), counted only when every other option is at least
  `MARGIN` letters further away, so no spelling is ever read as two options (순천 소식 and
  순천 소식지 stay apart: 순천소싁지 is 소식지).

It is not counted (``option`` is ``None``) when it names two different options
(``several``; the same option twice is one vote), none (``none``, or ``empty``), a number
that is no option (``out_of_range``), a near spelling as close to two options
(``ambiguous``), or only options it rejects or asks about:

- ``negated``: ``2번은 별로``, ``2번 싫어요``, ``2번 안 찍어요``. An option rejected beside
  one chosen leaves the chosen one: ``2번 말고 3번`` and ``2번보다 3번이 좋아요`` are votes
  for 3 (the comment says which it wants); ``2번에서 3번으로 바꿀게요`` too (the last word
  counts when the citizen says they change it).
- ``question``: ``2번이 뭐예요?``, ``2번 어때요?``, ``2번인가요`` (a question under the post
  is for staff to answer, not a ballot). A rhetorical question that praises one option is a
  vote: ``2번이 낫지 않나요?``, ``2번이 제일 예쁘죠?``.

Numbers that are not choices are not read: times (3시에), dates (2026년, 11/25), amounts
(5,000원), counts (2명), phone numbers, bus and exit numbers (2번 버스), "N times" (3번이나).

Rules and two small tables, not a model: a ballot must be explainable to the citizen and
to staff, and the whole reading takes well under a millisecond. Kiwi is not used: the
particles and endings that matter here are few and listed below, and loading it would cost
a second and hundreds of MB for every process that reads a comment.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sotong.nlp.normalise import clean

# Reasons: a counted vote says how the option was written; the rest say why it is not one.
NUMBER = "number"
CIRCLED = "circled"
KEYCAP = "keycap"
ORDINAL = "ordinal"
NAME = "name"
NEAR_NAME = "near_name"
VALID_REASONS = (NUMBER, CIRCLED, KEYCAP, ORDINAL, NAME, NEAR_NAME)
EMPTY = "empty"
NONE = "none"
SEVERAL = "several"
OUT_OF_RANGE = "out_of_range"
NEGATED = "negated"
QUESTION = "question"
AMBIGUOUS = "ambiguous"
INVALID_REASONS = (EMPTY, NONE, SEVERAL, OUT_OF_RANGE, NEGATED, QUESTION, AMBIGUOUS)
REASONS = VALID_REASONS + INVALID_REASONS

MAX_OPTIONS = 99
# A near spelling names an option only when every other option is this many letters
# further from it.
MARGIN = 2


@dataclass(frozen=True)
class Vote:
    """How a comment was read: ``option`` counted from 1, or ``None`` when no vote counts;
    ``reason`` one of `REASONS`; ``detail`` a Korean sentence for staff."""

    option: int | None
    reason: str
    detail: str

    @property
    def counted(self) -> bool:
        return self.option is not None


class OptionsError(ValueError):
    """The option names cannot be told apart or read (blank, repeated, too many)."""


# --- Hangul as jamo -------------------------------------------------------------------------

_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINALS = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")


@lru_cache(maxsize=8192)
def jamo(text: str) -> str:
    """Hangul syllables split into their letters (꽃누리 → ㄲㅗㅊㄴㅜㄹㅣ); anything else as
    it is. A typo then costs one letter, not a whole syllable."""
    out = []
    for char in text:
        code = ord(char) - 0xAC00
        if 0 <= code < 11172:
            out.append(_INITIALS[code // 588] + _MEDIALS[code % 588 // 28] + _FINALS[code % 28])
        else:
            out.append(char)
    return "".join(out)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute: one each)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def jamo_distance(a: str, b: str) -> int:
    return edit_distance(jamo(a), jamo(b))


# --- the comment as the readers see it --------------------------------------------------------

# Enclosed numbers become private-use characters before NFKC (which would make ① a bare 1),
# so that "②" is read as a choice even where a bare 2 would not be.
_CIRCLED_BASE = 0xE000
_KEYCAP_BASE = 0xE100
_MASK = "\ue200"  # stands in for a mention when the words around it are read


def _enclosed_numbers() -> dict[str, int]:
    table = {"⓿": 0}
    for first, value, count in (
        (0x2460, 1, 20),  # ①-⑳
        (0x2474, 1, 20),  # ⑴-⒇
        (0x2488, 1, 20),  # ⒈-⒛
        (0x24EB, 11, 10),  # ⓫-⓴
        (0x24F5, 1, 10),  # ⓵-⓾
        (0x2776, 1, 10),  # ❶-❿
        (0x2780, 1, 10),  # ➀-➉
        (0x278A, 1, 10),  # ➊-➓
    ):
        for n in range(count):
            table[chr(first + n)] = value + n
    return table


_ENCLOSED = _enclosed_numbers()
_KEYCAP = re.compile("([0-9])\ufe0f?\u20e3|\U0001f51f")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_AT = re.compile(r"@\S+")


def _prepare(comment: str) -> str:
    text = unicodedata.normalize("NFC", comment)
    text = _KEYCAP.sub(lambda m: chr(_KEYCAP_BASE + (int(m.group(1)) if m.group(1) else 10)), text)
    text = "".join(chr(_CIRCLED_BASE + _ENCLOSED[c]) if c in _ENCLOSED else c for c in text)
    text = clean(text).lower()
    # A link or an @name carries digits and letters that are not a choice.
    text = _URL.sub(" ", text)
    return _AT.sub(" ", text)


# --- names ----------------------------------------------------------------------------------------

_HAS_HANJA = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Letters and digits that can spell a name; ㅋㅋ and ㅠㅠ stand apart as words do.
_WORD = re.compile(r"[0-9a-z\uac00-\ud7a3\u3400-\u4dbf\u4e00-\u9fff]+")
# Hanja seen in city names and slogans, with the readings citizens type instead.
_HANJA = {
    "愛": ("애", "사랑"),
    "人": ("인", "사람"),
    "美": ("미",),
    "樂": ("락", "낙"),
    "花": ("화", "꽃"),
    "心": ("심", "마음"),
    "水": ("수", "물"),
    "山": ("산",),
    "海": ("해", "바다"),
    "光": ("광", "빛"),
    "新": ("신",),
    "福": ("복",),
    "春": ("춘", "봄"),
    "天": ("천", "하늘"),
    "和": ("화",),
    "順": ("순",),
    "路": ("로", "길"),
    "夢": ("몽", "꿈"),
    "林": ("림", "숲"),
    "園": ("원",),
}
# A name written in parts ("관광과 – 순천만 갈대 숏폼"): each part names the option alone
# when no other option shares it. Words too common in this city's comments to name one.
_PART_SEPARATORS = re.compile(r"\s[-–—:|·/]\s|[()\[\]「」『』<>《》〈〉\"“”]|\s-|-\s|:\s")
_COMMON_PARTS = frozenset(
    {"순천", "순천시", "순천만", "시청", "영상", "사진", "이야기", "소식", "홍보", "게시물"}
)
# What may follow a name (or "2안") inside the same word: particles, copulas and the words
# of choosing or praising people glue on without a space (꽃누리최고, 1안화이팅).
_GLUED = (
    r"(?:이요|요|이에요|예요|입니다|임|이다|이지|이죠|죠|이야|야|이네|네|이래요|래요|이|가|을|를|은"
    r"|는|으로|로|에서|에|에게|께|도|만|의|이랑|랑|하고|과|와|이나|나|라는|이라는|라고|이라고|처럼"
    r"|같|좋|최고|짱|예쁘|예뻐|이쁘|이뻐|멋|괜찮|굿|화이팅|파이팅|추천|강추|찍|한표|선택|투표|가즈아"
    r"|응원|원픽|둘|보다|보단|말고|대신|빼고|아니|별로|싫|반대|비추|최악|어때|어떠|어떤|뭐|뭔|무슨|왜"
    r"|설명|중에|중|영상|사진|게시물|작품|디자인|이름|거|꺼|것|진짜|정말|너무|완전|제일|젤|더)"
)
# Words people glue in front of a name (저는꽃누리, 오꽃누리): a near spelling may start
# after them.
_LEADING = (
    "저는",
    "저도",
    "전",
    "난",
    "나는",
    "나도",
    "오",
    "와",
    "우와",
    "음",
    "역시",
    "무조건",
    "당연히",
    "그냥",
    "다들",
    "모두",
    "저희는",
)
_AFTER_NAME = re.compile(_GLUED)
_PARTICLES = (
    "이요",
    "으로",
    "이랑",
    "에서",
    "이",
    "가",
    "을",
    "를",
    "은",
    "는",
    "도",
    "에",
    "요",
    "의",
    "로",
    "랑",
    "와",
    "과",
)


def _compact(text: str) -> str:
    return "".join(_WORD.findall(clean(unicodedata.normalize("NFC", text)).lower()))


def _readings(compact: str) -> set[str]:
    """The name as written and with its Hanja read in Hangul (at most 16 spellings)."""
    variants = [""]
    for char in compact:
        choices = (char, *_HANJA.get(char, ()))
        variants = [v + c for v in variants for c in choices][:16]
    return set(variants)


def _threshold(key: str) -> int:
    """Typos allowed in a name by its length in jamo: none up to two syllables, one in a
    three-syllable name, two from about four syllables, three in long names."""
    length = len(jamo(key))
    if length <= 6:
        return 0
    if length <= 9:
        return 1
    if length <= 14:
        return 2
    return 3


@dataclass(frozen=True)
class _Key:
    option: int
    text: str  # compact: no spaces or punctuation, lowercase
    threshold: int  # 0: exact only
    part: bool  # one part of a name written in parts


@dataclass(frozen=True)
class _Mention:
    start: int  # in the prepared text
    end: int
    option: int  # from 1; may be out of range
    kind: str
    weak: bool = False  # "1표" / "N표": a vote count when something else names the option
    written: str = ""  # the near spelling, for the staff's detail
    also: tuple[int, ...] = ()  # other options a near spelling is as close to


class Options:
    """A poll's option names, prepared once for reading many comments."""

    def __init__(self, names: Sequence[str]) -> None:
        names = list(names)
        if not names:
            raise OptionsError("no options: give at least one option name")
        if len(names) > MAX_OPTIONS:
            raise OptionsError(f"{len(names)} options: at most {MAX_OPTIONS}")
        compacts: dict[str, int] = {}
        for number, name in enumerate(names, start=1):
            if not isinstance(name, str):
                raise OptionsError(f"option {number} is not text: {name!r}")
            compact = _compact(name)
            if not compact:
                raise OptionsError(f"option {number} has no letters or digits: {name!r}")
            if compact in compacts:
                raise OptionsError(
                    f"options {compacts[compact]} and {number} are the same name "
                    f"once spacing and punctuation are ignored: {name!r}"
                )
            compacts[compact] = number
        self.names = tuple(names)
        keys: list[tuple[int, str, bool]] = []
        for number, name in enumerate(names, start=1):
            for variant in _readings(_compact(name)):
                keys.append((number, variant, False))
        whole = {text for _, text, _ in keys}
        for number, name in enumerate(names, start=1):
            pieces = [p for p in _PART_SEPARATORS.split(name) if _compact(p)]
            if len(pieces) < 2:
                continue
            parts = [_compact(p) for p in pieces]
            # A part's first or last words, when long enough to stand for it (맨홀 뚜껑 for
            # 맨홀 뚜껑의 하루, 타워형 for 스마트 타워형).
            for piece in pieces:
                words = piece.split()
                for k in range(1, len(words)):
                    for phrase in (words[:k], words[k:]):
                        compact = _compact(" ".join(phrase))
                        # ... with its last particle or without (뚜껑의 → 뚜껑).
                        bare = next(
                            (compact[: -len(p)] for p in _PARTICLES if compact.endswith(p)),
                            compact,
                        )
                        parts.extend(p for p in {compact, bare} if len(p) >= 3)
            # A part inside another option's name does not name this one.
            others = [text for n, text, _ in keys if n != number]
            for part in parts:
                if (
                    len(part) >= 2
                    and not part.isdigit()
                    and part not in _COMMON_PARTS
                    and part not in whole
                    and not any(part in other for other in others)
                ):
                    keys.extend((number, variant, True) for variant in _readings(part))
        self.keys = tuple(
            # A part, and a spelling with Hanja, are matched as written (the readings of
            # the Hanja allow typos); whole names by their length.
            _Key(number, text, 0 if part or _HAS_HANJA.search(text) else _threshold(text), part)
            for number, text, part in keys
        )

    def rivals(self, written: str, option: int, distance: int) -> tuple[int, ...]:
        """Other options a near spelling is not clearly further from: it names ``option``
        only if every other name is at least `MARGIN` letters further away (so no spelling
        is ever read as two different options)."""
        return tuple(
            sorted(
                {
                    key.option
                    for key in self.keys
                    if key.option != option
                    and not key.part
                    and abs(len(jamo(written)) - len(jamo(key.text))) < distance + MARGIN
                    and jamo_distance(written, key.text) < distance + MARGIN
                }
            )
        )

    def __len__(self) -> int:
        return len(self.names)

    def parse(self, comment: str) -> Vote:
        return _read(self, comment)


# --- finding the options a comment names -------------------------------------------------------


@dataclass
class _Compact:
    """The comment's letters and digits without spaces or punctuation, each remembering
    where it stands in the prepared text and where its word ends."""

    chars: str
    positions: list[int]
    word_end: list[int]  # for each character, the index (in chars) just past its word
    word_starts: list[int]


def _compact_view(text: str) -> _Compact:
    chars: list[str] = []
    positions: list[int] = []
    word_end: list[int] = []
    starts: list[int] = []
    for match in _WORD.finditer(text):
        starts.append(len(chars))
        end = len(chars) + len(match.group())
        for offset, char in enumerate(match.group()):
            chars.append(char)
            positions.append(match.start() + offset)
            word_end.append(end)
    return _Compact("".join(chars), positions, word_end, starts)


def _end_ok(view: _Compact, end: int, length: int, before: frozenset[int] = frozenset()) -> bool:
    """A name ends at the end of a word, before a particle or a glued-on word, or right
    before a number read as an option (꽃누리넷째 거); an exact name of four syllables or
    more (``length``) before anything (no shorter word hides in 정원소식, unlike 순천인 in
    순천인구)."""
    if end >= len(view.chars) or view.word_end[end - 1] == end or length >= 4:
        return True
    if view.positions[end] in before:
        return True
    return _AFTER_NAME.match(view.chars, end, view.word_end[end - 1]) is not None


def _bounded(view: _Compact, key: str, start: int, end: int) -> bool:
    """Digits and Latin letters at a name's edges may not run on (1안 in 11안)."""
    before = view.chars[start - 1] if start > 0 and view.word_end[start - 1] > start else ""
    after = view.chars[end] if end < len(view.chars) and view.word_end[end - 1] > end else ""
    for edge, neighbour in ((key[0], before), (key[-1], after)):
        if neighbour and (
            (edge.isdigit() and neighbour.isdigit())
            or (edge.isascii() and edge.isalpha() and neighbour.isascii() and neighbour.isalpha())
        ):
            return False
    return True


def _particle_form_of_a_prefix(written: str, key: str) -> bool:
    """순천이 is 순천 + 이, not a typo of 순천인: a near spelling that is a shorter piece of
    the name, with or without a particle, is that piece."""
    if key.startswith(written):
        return True
    for particle in _PARTICLES:
        if written.endswith(particle) and len(written) > len(particle):
            stem = written[: -len(particle)]
            if key.startswith(stem) and stem != key:
                return True
    return False


def _near_ends(
    view: _Compact, key: _Key, start: int
) -> Iterable[tuple[int, int]]:  # (distance, end)
    """Distances from the name to the text from ``start`` to each later syllable end
    (jamo Levenshtein, one column per letter, stopped once nothing can come within the
    threshold)."""
    target = jamo(key.text)
    limit = key.threshold
    column = list(range(len(target) + 1))
    end = start
    letters = 0
    max_chars = len(key.text) + limit + 1
    while end < len(view.chars) and end - start < max_chars:
        for letter in jamo(view.chars[end]):
            letters += 1
            previous = column
            column = [letters]
            for i, t in enumerate(target, start=1):
                column.append(
                    min(previous[i] + 1, column[i - 1] + 1, previous[i - 1] + (letter != t))
                )
        end += 1
        if column[-1] <= limit:
            yield column[-1], end
        if min(column) > limit:
            return


@dataclass(frozen=True, order=True)
class _Found:
    """A name found in the comment; sorted best first (closest, then longest)."""

    distance: int
    negative_length: int
    start: int
    end: int
    option: int
    written: str


def _name_mentions(
    options: Options, text: str, numbers: frozenset[int] = frozenset()
) -> list[_Mention]:
    """The options named in ``text``; ``numbers``: where number mentions start."""
    view = _compact_view(text)
    if not view.chars:
        return []
    found: list[_Found] = []
    exact_starts: set[tuple[int, int]] = set()
    word_starts = set(view.word_starts)
    for key in options.keys:
        at = view.chars.find(key.text)
        while at != -1:
            end = at + len(key.text)
            # Inside a word only for names long enough not to be part of another word
            # ("정원" in 순천만정원 is not the option 정원; "순천愛소식" glued to 저는 is).
            # A name that starts with a digit may follow letters (오3안, 제2안).
            inside_ok = len(key.text) >= 3 or key.text[0].isdigit()
            # A short name is not put together across a space ("2 안 좋아요" is no 2안).
            across = view.word_end[at] < end
            if (
                (at in word_starts or inside_ok)
                and not (across and len(key.text) < 3)
                and _bounded(view, key.text, at, end)
                and _end_ok(view, end, len(key.text), numbers)
            ):
                found.append(_Found(0, at - end, at, end, key.option, key.text))
                exact_starts.add((key.option, at))
            at = view.chars.find(key.text, at + 1)
    starts = list(view.word_starts)
    for start in view.word_starts:
        word = view.chars[start : view.word_end[start]]
        starts.extend(
            start + len(lead)
            for lead in _LEADING
            if word.startswith(lead) and len(word) > len(lead) + 1
        )
    for key in options.keys:
        if key.threshold == 0:
            continue
        head = set(key.text[: key.threshold + 1])
        for start in starts:
            if (key.option, start) in exact_starts:
                continue
            # Cheap filter: with t typos, one of the name's first t+1 syllables survives.
            if not head & set(view.chars[start : start + key.threshold + 2]):
                continue
            best: tuple[int, int] | None = None
            for distance, end in _near_ends(view, key, start):
                written = view.chars[start:end]
                # A near spelling ends where a word or a particle does, whatever its length.
                if not _end_ok(view, end, 0, numbers) or not _bounded(view, key.text, start, end):
                    continue
                if distance and _particle_form_of_a_prefix(written, key.text):
                    continue
                if best is None or distance < best[0]:
                    best = (distance, end)
            if best is not None:
                distance, end = best
                written = view.chars[start:end]
                found.append(_Found(distance, start - end, start, end, key.option, written))
    # "꽃누리 서식" is a typo of the option 꽃누리 소식, not the option 꽃누리 and a word.
    nested = [
        f
        for f in found
        if f.distance
        and any(
            g.distance == 0 and g.start == f.start and g.end < f.end and g.option != f.option
            for g in found
        )
    ]
    for near in nested:
        if options.rivals(near.written, near.option, near.distance):
            continue
        names = [k.text for k in options.keys if k.option == near.option]
        found = [
            g
            for g in found
            if not (
                g.distance == 0
                and g.start == near.start
                and g.end < near.end
                and any(name.startswith(g.written) for name in names)
            )
        ]
    # Closest first, then longest: 순천소식지 is the option 순천 소식지, not 순천 소식 + 지.
    found.sort()
    mentions: list[_Mention] = []
    taken: list[tuple[int, int]] = []
    for candidate in found:
        start, end = candidate.start, candidate.end
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        # Rivals only for the spellings kept: each costs a distance to every name.
        rivals = (
            options.rivals(candidate.written, candidate.option, candidate.distance)
            if candidate.distance
            else ()
        )
        mentions.append(
            _Mention(
                view.positions[start],
                view.positions[end - 1] + 1,
                candidate.option,
                NAME if candidate.distance == 0 else NEAR_NAME,
                written=candidate.written,
                also=rivals,
            )
        )
    return mentions


# --- numbers -----------------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]+")
_NUMBER_PREFIX = re.compile(
    r"(?:(?<![a-z])(?:no|num|number|option|opt)|넘버|기호|선택지|옵션|후보|#)\s?\.?\s?$"
)
_NUMBER_SUFFIX = re.compile(r"\s?번\s?째|\s?번|\s?호|안|\s?표")
# After "N번": what makes it a bus, an exit, a lot number, or a count of times.
_NOT_A_CHOICE_AFTER_BEON = re.compile(
    r"\s?(?:지|길|버스|출구|국도|도로|지방도|창구|게이트|좌석|자리|트랙|채널|홈|씩|정도|쯤"
    # 3번이나 봤어요 (three times), but 1번이나 2번 (one or two).
    r"|이나\s?(?:봤|봐|보|갔|가|왔|와|했|해|하|읽|들었|찍었|눌렀|투표|고민|생각|바꿨|돌려)"
    r"|이상|넘게|만에|연속|밖에|째\s?댓글|째로\s?댓글)"
)
_NOT_A_CHOICE_AFTER_HO = re.compile(r"(?:선(?!택)|실|점|기|차|텀|수|쯤)")
# "2안" reads as "option 2" only before the end of the word or a particle (not 2안녕).
_AFTER_AN = re.compile(r"(?![가-힣])|" + _GLUED)
# A bare number is a choice only when followed by nothing that makes it a quantity:
# the end, a mark, a particle, or a word of choosing or praising.
_BARE_TAIL = re.compile(
    r"\s*(?:$|[^\w\s]|[ㅋㅎㅠㅜ]|\d{1,2}(?![\d.,:/-])|이요|요|이에요|예요|입니다|임(?![가-힣])"
    r"|(?:이|가|를|을)?\s?(?:좋|최고|제일|젤|짱|낫|나아|예쁘|예뻐|이쁘|이뻐|맘에|마음에|찍|선택"
    r"|추천|강추|투표|원픽)|으로|로(?![가-힣])|에\s?(?:한|1)\s?표|에\s?투표)"
)
_GLUED_DIGIT_TAIL = re.compile(r"(?:이요|요)?\s?(?:[^\w\s]|[ㅋㅎㅠㅜ]|$)")
_SINO = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "륙": 6, "칠": 7, "팔": 8, "구": 9}
# Glued to the word before it too (저는일번!): the tail below keeps it to choices.
_SINO_BEON = re.compile(r"(이십|십[일이삼사오육륙칠팔구]?|[일이삼사오육륙칠팔구])번(?!\s?째)")
# 이번 is also "this time" (이번에, 이번 투표): read as 2 only where nothing else fits.
_SINO_TAIL = re.compile(
    r"\s?(?:$|[^\w\s]|[ㅋㅎㅠㅜ]|이요|요|이에요|예요|입니다|임(?![가-힣])"
    r"|이\s?(?:좋|최고|제일|젤|짱|낫|나아|예쁘|예뻐|이쁘|이뻐|맘에|마음에|원픽)|찍|에\s?(?:한|1)\s?표"
    r"|최고|짱|강추|화이팅|파이팅)"
)
_NATIVE = {
    "첫": 1,
    "한": 1,
    "두": 2,
    "둘": 2,
    "세": 3,
    "셋": 3,
    "네": 4,
    "넷": 4,
    "다섯": 5,
    "여섯": 6,
    "일곱": 7,
    "여덟": 8,
    "아홉": 9,
    "열": 10,
    "스무": 20,
}
_NATIVE_ORDINAL = re.compile(
    # No word boundary needed before it: 번째 says it is an ordinal (다들네번째래요).
    r"(열\s?)?(첫|한|두|세|네|다섯|여섯|일곱|여덟|아홉|열|스무)\s?번\s?째"
    r"(?!\s?(?:로\s?)?(?:댓글|참여))"
)
_NATIVE_JJAE = re.compile(
    r"(첫|둘|셋|넷|다섯|여섯|일곱|여덟|아홉|열)\s?째"
    # Not 둘째가 (the second child): only "the second one".
    r"(?=\s?(?:거|꺼|것|안|이요|요(?![가-힣])|!|$))"
)
# "두 번" is also "twice": a choice only when it is all the sentence says (두번이요!!).
_NATIVE_BEON = re.compile(
    r"(?<![가-힣])(두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s?번"
    r"(?=\s?(?:이요|요|이에요|예요|입니다|임)?\s?(?:[!~.♡♥]|$))"
)
_NATIVE_ALONE = re.compile(
    r"(하나|둘|셋|넷|다섯|여섯|일곱|여덟|아홉|열)\s?(?:이요|요|이에요|예요|입니다|임)?"
)
_LAST = re.compile(
    r"(?:맨\s?)?(마지막)(?=\s?(?:번\s?째|꺼|거|것|안|번|선택지|후보|이요|요(?![가-힣])|!|$))"
)
_FIRST = re.compile(r"(?<![가-힣])(?:맨\s?)?(처음|맨\s?앞)(?=\s?(?:꺼|거|것|안))")


def _arabic_mentions(text: str) -> list[_Mention]:
    mentions = []
    for match in _DIGITS.finditer(text):
        start, end = match.span()
        digits = match.group()
        before = text[start - 1] if start else ""
        after = text[end : end + 2]
        # Part of a date, time, amount, decimal or phone number: 11/25, 3:00, 5,000, 010-.
        if (before in ".,:/-" and start >= 2 and text[start - 2].isdigit()) or (
            after[:1] in ".,:/-" and after[1:2].isdigit()
        ):
            continue
        if len(digits) > 3:
            continue
        prefix = _NUMBER_PREFIX.search(text, 0, start)
        suffix = _NUMBER_SUFFIX.match(text, end)
        weak = False
        if suffix is not None:
            marker = suffix.group().strip().replace(" ", "")
            rest = suffix.end()
            if marker == "번":
                if _NOT_A_CHOICE_AFTER_BEON.match(text, rest):
                    continue
            elif marker == "번째":
                if re.match(r"\s?(?:로\s?)?(?:댓글|참여)", text[rest:]):
                    continue
            elif marker == "호":
                if _NOT_A_CHOICE_AFTER_HO.match(text, rest) or re.search(r"동\s?$", text[:start]):
                    continue
            elif marker == "안":
                if not _AFTER_AN.match(text, rest):
                    suffix = None
            elif marker == "표":
                weak = True
        if suffix is None and prefix is None:
            # A bare number: short, not glued to a word, and followed by nothing that
            # makes it a quantity (3시, 2명, 20살).
            if len(digits) > 2 or before in ("-", "+"):
                continue
            if before.isalpha() and not "\u3131" <= before <= "\u318e":
                # Glued to a word (저도2!!, 와2요): one digit that ends the sentence.
                if len(digits) > 1 or not _GLUED_DIGIT_TAIL.match(text, end):
                    continue
            elif not _BARE_TAIL.match(text, end):
                continue
        mention_end = suffix.end() if suffix is not None else end
        mention_start = prefix.start() if prefix is not None else start
        mentions.append(_Mention(mention_start, mention_end, int(digits), NUMBER, weak=weak))
    return mentions


def _word_mentions(text: str, count: int) -> list[_Mention]:
    mentions = []
    for match in _NATIVE_ORDINAL.finditer(text):
        tens, unit = match.group(1), match.group(2)
        if tens and unit in ("첫", "열", "스무"):
            continue
        mentions.append(
            _Mention(match.start(), match.end(), (10 if tens else 0) + _NATIVE[unit], ORDINAL)
        )
    for pattern in (_NATIVE_JJAE, _NATIVE_BEON):
        for match in pattern.finditer(text):
            mentions.append(_Mention(match.start(), match.end(), _NATIVE[match.group(1)], ORDINAL))
    for match in _SINO_BEON.finditer(text):
        if not _SINO_TAIL.match(text, match.end()):
            continue
        word = match.group(1)
        if word.startswith("이십"):
            value = 20
        elif word.startswith("십"):
            value = 10 + (_SINO[word[1]] if len(word) > 1 else 0)
        else:
            value = _SINO[word]
        mentions.append(_Mention(match.start(), match.end(), value, ORDINAL))
    for match in _LAST.finditer(text):
        mentions.append(_Mention(match.start(), match.end(), count, ORDINAL))
    for match in _FIRST.finditer(text):
        mentions.append(_Mention(match.start(), match.end(), 1, ORDINAL))
    # 하나 / 둘 / 셋 alone, as the whole comment ("둘!!", "셋이요~").
    letters = re.sub(r"[^\w]|[ㅋㅎㅠㅜ_]", " ", text).strip()
    alone = _NATIVE_ALONE.fullmatch(letters)
    if alone:
        start = text.find(alone.group(1))
        mentions.append(
            _Mention(start, start + len(alone.group(1)), _NATIVE[alone.group(1)], ORDINAL)
        )
    return mentions


def _enclosed_mentions(text: str) -> list[_Mention]:
    mentions = []
    for index, char in enumerate(text):
        code = ord(char)
        if _CIRCLED_BASE <= code < _CIRCLED_BASE + 0x100:
            mentions.append(_Mention(index, index + 1, code - _CIRCLED_BASE, CIRCLED))
        elif _KEYCAP_BASE <= code < _KEYCAP_BASE + 0x100:
            mentions.append(_Mention(index, index + 1, code - _KEYCAP_BASE, KEYCAP))
    return mentions


# --- what the words around a mention say ---------------------------------------------------------

# One alternation, read leftmost-first after a mention: the first word of judgement decides
# whether the option is chosen or rejected. At one position the longer, negated forms come
# first (좋지 않 before 좋; 나쁘지 않 is praise before 나쁘 is not).
_JUDGEMENT = re.compile(
    r"(?P<pos_first>(?:나쁘|싫|별로이)지\s?(?:는|도)?\s?않)"
    r"|(?P<notnot>(?:좋|낫|예쁘|이쁘|괜찮|멋지|멋있)(?:지|진)\s?(?:는|도|가)?\s?않)"
    r"|(?P<neg>말고|말구|빼고|제외|대신|보다|보단|별로|별루|싫|안\s?(?:좋|찍|뽑|예쁘|이쁘|어울|돼|되|맞|할|함)"
    r"|않|아니(?!면)|아닌|아님|아냐|아닙|반대|비추|최악|구려|구리|구림|촌스|별루|노노|ㄴㄴ|그닥|그다지"
    r"|에바|애매|글쎄|못생|이상해|이상하|나쁘|노잼|좀\s?(?:그렇|그래|[.…]))"
    r"|(?P<pos>좋|최고|짱|낫|나아|나은|예쁘|예뻐|예쁜|이쁘|이뻐|이쁜|멋|훌륭|마음에|맘에|찍|투표|선택"
    r"|추천|강추|한\s?표|1\s?표|원픽|응원|찬성|괜찮|괜춘|대박|굿|good|best|👍|❤|♥|♡|💕|ㅇㅇ|ㄱㄱ"
    r"|가즈아|할게|할래)"
)
_INTERROGATIVE = re.compile(
    r"뭐|뭔|무엇|무슨|어떤|어느|어디|언제|왜|어떻게|어때|어떠|어떨|누가|누구|몇|맞나|되나|있나|인가요|는가요"
    # Asking about it is not choosing it: 2번 설명 좀요, 2번이 궁금해요.
    r"|설명|궁금|알려\s?주"
)
_QUESTION_ENDING = re.compile(r"(?:나요|까요|인가|는가|을까|일까|냐|니)\s*$")
_RHETORICAL_ENDING = re.compile(r"(?:죠|지요|잖아요|잖아|겠지)\s*$")
_CLAUSE_END = re.compile(r"[.?!\n;~…]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]+")
# Between two mentions of one group ("2번이랑 3번", "2번, 3번", "2번도 3번도"): the words
# after the last one speak for all.
_JOINED = re.compile(
    r"[\s,/&+·]*(?:이랑|랑|하고|과|와|및|또는|이나|나|아니면|or|vs|도|이나요)?[\s,/&+·]*"
)
_CHANGE = re.compile(
    # ... with a word between (③번으로, '교통과 영상'으로).
    r"[\s'\"’”」』)]*(?:[가-힣]{1,4}[\s'\"’”」』)]*)?(?:으로|로)\s?"
    r"(?:바꿀|바꿔|바꾸|바꿈|바꿨|변경|수정|갈아)"
)


@dataclass
class _Clause:
    start: int
    end: int
    question: bool


def _clauses(masked: str) -> list[_Clause]:
    clauses = []
    start = 0
    for match in _CLAUSE_END.finditer(masked):
        clauses.append(_Clause(start, match.end(), "?" in match.group()))
        start = match.end()
    if start < len(masked):
        clauses.append(_Clause(start, len(masked), False))
    return clauses


def _is_question(clause_text: str, ends_with_mark: bool) -> bool:
    """A question about the options, not a vote: a question word after the first option,
    or a question mark or ending, unless it is a rhetorical question praising it."""
    after = clause_text[clause_text.find(_MASK) :]
    if _INTERROGATIVE.search(after):
        return True
    words = after.rstrip("?!. ~")
    if not (ends_with_mark or _QUESTION_ENDING.search(words)):
        return False
    judgement = _JUDGEMENT.search(after)
    if judgement and judgement.lastgroup == "notnot":
        return False  # 2번이 낫지 않나요?
    praised = judgement is not None and judgement.lastgroup in ("pos", "pos_first")
    return not (praised and _RHETORICAL_ENDING.search(words))


def _judge(scope: str, question: bool) -> str:
    """ "pos", "neg" or "" for the words after a mention."""
    match = _JUDGEMENT.search(scope)
    if match is None:
        return ""
    kind = match.lastgroup or ""
    if kind == "pos_first":
        return "pos"
    if kind == "notnot":
        # 좋지 않나요? praises; 좋지 않아요 does not.
        return "pos" if question else "neg"
    return kind


# --- the reading ------------------------------------------------------------------------------------


def _read(options: Options, comment: str) -> Vote:
    text = _prepare(comment)
    if not re.search(r"\w", text) and not _enclosed_mentions(text):
        return Vote(None, EMPTY, "내용이 없거나 글자가 없는 댓글입니다")
    count = len(options)
    numbers = _arabic_mentions(text) + _word_mentions(text, count) + _enclosed_mentions(text)
    names = _name_mentions(options, text, frozenset(m.start for m in numbers))
    # A number inside a name ("1안" as a name) is the name.
    numbers = [m for m in numbers if not any(m.start < n.end and n.start < m.end for n in names)]
    # Two readings of the same characters (2번째 as 2번 + 째): keep the longest.
    numbers.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[_Mention] = []
    for mention in numbers:
        if kept and mention.start < kept[-1].end:
            continue
        kept.append(mention)
    mentions = sorted(names + kept, key=lambda m: m.start)
    if any(not m.weak for m in mentions):
        mentions = [m for m in mentions if not m.weak]
    if not mentions:
        return Vote(None, NONE, "선택지 번호나 이름을 찾지 못했습니다")
    # "2번에서 3번으로 바꿀게요": the option changed to is the one that counts.
    for index in range(len(mentions) - 1, -1, -1):
        if _CHANGE.match(text, mentions[index].end):
            mentions = mentions[index:]
            break

    masked = list(text)
    for mention in mentions:
        masked[mention.start : mention.end] = _MASK * (mention.end - mention.start)
    masked_text = "".join(masked)
    clauses = _clauses(masked_text)

    def clause_of(mention: _Mention) -> _Clause:
        return next(c for c in clauses if c.start <= mention.start < c.end)

    question_clauses = {
        (c.start, c.end)
        for c in clauses
        if _MASK in masked_text[c.start : c.end]
        and _is_question(masked_text[c.start : c.end], c.question)
    }
    chosen: list[_Mention] = []
    rejected: list[_Mention] = []
    asked: list[_Mention] = []
    index = 0
    while index < len(mentions):
        clause = clause_of(mentions[index])
        group = [mentions[index]]
        while (
            index + len(group) < len(mentions)
            and clause_of(mentions[index + len(group)]) is clause
            and _JOINED.fullmatch(text, group[-1].end, mentions[index + len(group)].start)
        ):
            group.append(mentions[index + len(group)])
        index += len(group)
        if (clause.start, clause.end) in question_clauses:
            asked.extend(group)
            continue
        following = mentions[index] if index < len(mentions) else None
        scope_end = (
            following.start
            if following is not None and clause_of(following) is clause
            else clause.end
        )
        clause_text = masked_text[clause.start : clause.end]
        asks = clause.question or bool(_QUESTION_ENDING.search(clause_text.rstrip("?!. ~")))
        if _judge(masked_text[group[-1].end : scope_end], question=asks) == "neg":
            rejected.extend(group)
        else:
            chosen.extend(group)
    return _decide(options, chosen, rejected, asked)


def _numbers(options: Iterable[int], object_particle: bool = False) -> str:
    """ "2번", "2번과 3번", "1번, 2번과 3번", or past six "1번, 2번, 3번, 4번, 5번 등 9개";
    with ``object_particle`` the 을/를 that follows."""
    listed = [f"{n}번" for n in sorted(set(options))]
    if len(listed) > 6:
        return ", ".join(listed[:5]) + f" 등 {len(listed)}개" + ("를" if object_particle else "")
    text = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + "과 " + listed[-1]
    return text + ("을" if object_particle else "")


def _decide(
    options: Options, chosen: list[_Mention], rejected: list[_Mention], asked: list[_Mention]
) -> Vote:
    count = len(options)
    in_range = [m for m in chosen if 1 <= m.option <= count and not m.also]
    unclear = [m for m in chosen if m.also]
    out = [m for m in chosen if not 1 <= m.option <= count]
    picked = {m.option for m in in_range}
    if len(picked) > 1:
        return Vote(None, SEVERAL, f"선택지 {_numbers(picked, True)} 함께 적었습니다")
    if out:
        return Vote(
            None,
            OUT_OF_RANGE,
            f"{out[0].option}번은 없는 선택지입니다 (선택지는 1번부터 {count}번까지)",
        )
    # A spelling as near to two options counts only beside a clear choice it may mean.
    doubtful = [m for m in unclear if not picked or not picked <= {m.option, *m.also}]
    if doubtful:
        mention = doubtful[0]
        return Vote(
            None,
            AMBIGUOUS,
            f"‘{mention.written}’: 선택지 {_numbers((mention.option, *mention.also))} 중 "
            "어느 쪽인지 알 수 없습니다",
        )
    if picked:
        number = picked.pop()
        first = next(m for m in in_range if m.option == number)
        name = options.names[number - 1]
        how = {
            NUMBER: "번호를 숫자로 적었습니다",
            CIRCLED: "번호를 동그라미 숫자로 적었습니다",
            KEYCAP: "번호를 숫자 이모지로 적었습니다",
            ORDINAL: "번호를 한글로 적었습니다",
            NAME: "선택지 이름을 적었습니다",
            NEAR_NAME: f"선택지 이름과 비슷하게 적었습니다 (‘{first.written}’)",
        }[first.kind]
        return Vote(number, first.kind, f"{number}번 ‘{name}’: {how}")
    if asked:
        return Vote(
            None,
            QUESTION,
            f"{_numbers(m.option for m in asked)}에 대한 질문으로 읽었습니다",
        )
    if rejected:
        return Vote(
            None,
            NEGATED,
            f"{_numbers((m.option for m in rejected), True)} 고르지 않는다는 뜻으로 읽었습니다",
        )
    return Vote(None, NONE, "선택지 번호나 이름을 찾지 못했습니다")


@lru_cache(maxsize=64)
def _options(names: tuple[str, ...]) -> Options:
    return Options(names)


def parse(comment: str, options: Sequence[str] | Options) -> Vote:
    """Read one comment as a vote among ``options`` (their names, in order)."""
    prepared = options if isinstance(options, Options) else _options(tuple(options))
    return _read(prepared, comment)


def parse_many(comments: Iterable[str], options: Sequence[str] | Options) -> list[Vote]:
    """`parse` for many comments under one poll (the options are prepared once)."""
    prepared = options if isinstance(options, Options) else Options(options)
    return [_read(prepared, comment) for comment in comments]
