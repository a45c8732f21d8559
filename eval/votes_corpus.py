"""A labelled corpus of comments under poll posts, generated from a seed.

Five option sets the city runs (new city-hall designs 1안/2안/3안, the same with their
descriptions, names for the city newsletter, names that are close to each other, the
department SNS contest entries), and for each: votes written every way citizens write an
option (numbers with 번/번째/호/안/표, full-width digits, ①❷⑶, 2️⃣, #2, No.2, 이번, 두 번째,
마지막 거, the name with its particles and spacing, its Hanja read in Hangul, one part of a
long entry name, a one-letter typo) inside real-style sentences (ㅋㅋ, ~~, !!, emoji,
honorifics, @replies, missing spaces, a Mac's decomposed Hangul); and comments that must
not count: two different options, questions about an option, rejections, numbers no option
has, and comments with numbers that are not choices (times, dates, amounts, phone and bus
numbers, counts).

Each comment carries the option a careful reader would count (or ``None``) and the reason
code `sotong.nlp.votes` should give, as its module docstring defines them.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from sotong.nlp import votes

POLLS: dict[str, tuple[str, ...]] = {
    "city_hall": ("1안", "2안", "3안"),
    "city_hall_described": ("1안 – 정원형 청사", "2안 – 열린 광장형", "3안 – 스마트 타워형"),
    "newsletter": ("순천愛소식", "꽃누리", "순천人", "정원소식", "갈대 편지"),
    "newsletter_close": ("순천 소식", "순천 소식지", "꽃누리", "꽃누리 소식"),
    "sns_contest": (
        "관광과 – 순천만 갈대 숏폼",
        "하수도과 – 맨홀 뚜껑의 하루",
        "교통과 – 버스 타는 법",
        "환경과 – 분리배출 챌린지",
        "복지정책과 – 어르신 스마트폰 교실",
        "문화예술과 – 낙안읍성 브이로그",
    ),
}

# How citizens refer to an option by name, beyond the name itself.
NAME_FORMS: dict[str, dict[int, tuple[str, ...]]] = {
    "city_hall_described": {
        1: ("정원형", "정원형 청사", "1안 정원형"),
        2: ("열린 광장형", "광장형", "2안 광장형"),
        3: ("스마트 타워형", "타워형", "3안 타워형"),
    },
    "newsletter": {
        1: ("순천愛소식", "순천애소식", "순천 애 소식", "순천사랑소식"),
        3: ("순천人", "순천인", "순천 人", "순천사람"),
    },
    "sns_contest": {
        1: ("관광과", "관광과 숏폼", "순천만 갈대 숏폼", "순천만 갈대"),
        2: ("하수도과", "맨홀 뚜껑", "맨홀 뚜껑의 하루", "하수도과 영상"),
        3: ("교통과", "버스 타는 법", "교통과 영상"),
        4: ("환경과", "분리배출 챌린지", "환경과 챌린지"),
        5: ("복지정책과", "어르신 스마트폰 교실", "스마트폰 교실"),
        6: ("문화예술과", "낙안읍성 브이로그", "낙안읍성 영상"),
    },
}


@dataclass(frozen=True)
class Example:
    text: str
    poll: str
    expected: int | None  # the option counted, from 1; None when no vote counts
    reason: str  # the reason code expected
    group: str  # the template family


@dataclass(frozen=True)
class Ref:
    """One way of writing an option inside a comment."""

    text: str
    option: int
    reason: str
    sound: str  # what the last character sounds like, for the particle after it
    free: bool = True  # False: only where the sentence ends or a choosing word follows


# --- particles ------------------------------------------------------------------------------

_DIGIT_SOUNDS = "영일이삼사오육칠팔구"
_HANJA_SOUNDS = {"愛": "애", "人": "인"}


def _last_sound(text: str) -> str:
    for char in reversed(text):
        if "가" <= char <= "힣":
            return char
        if char.isdigit():
            return _DIGIT_SOUNDS[int(char)]
        if char in _HANJA_SOUNDS:
            return _HANJA_SOUNDS[char]
        if char.isalpha():
            return "아"  # Latin letters: read as ending in a vowel
    return "아"


def _final(syllable: str) -> int:
    code = ord(syllable) - 0xAC00
    return code % 28 if 0 <= code < 11172 else 0


def josa(sound: str, with_final: str, without: str) -> str:
    final = _final(sound)
    if with_final == "으로":
        return "로" if final in (0, 8) else "으로"  # ㄹ takes 로
    return with_final if final else without


def fill(frame: str, **refs: Ref) -> str:
    """The frame with each {name} replaced by its ref, and each "(X/Y)" right after one by
    the particle its last sound takes."""
    out = frame
    for name, ref in refs.items():
        token = "{" + name + "}"
        while token in out:
            at = out.index(token)
            after = out[at + len(token) :]
            replacement = ref.text
            if after.startswith("(") and "/" in after[: after.find(")")]:
                close = after.index(")")
                with_final, without = after[1:close].split("/")
                replacement += josa(ref.sound, with_final, without)
                after = after[close + 1 :]
            out = out[:at] + replacement + after
    return out


# --- ways of writing an option ------------------------------------------------------------------

_CIRCLES = ("①②③④⑤⑥⑦⑧⑨⑩", "❶❷❸❹❺❻❼❽❾❿", "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽", "➀➁➂➃➄➅➆➇➈➉")
_SINO = ("", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구", "십")
_NATIVE_ORDINAL = ("", "첫", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉", "열")
_NATIVE_JJAE = ("", "첫", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉", "열")


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def number_ref(rng: random.Random, k: int) -> Ref:
    forms = [
        (f"{k}번", True),
        (f"{k}번", True),
        (f"{k}번", True),
        (f"{k} 번", True),
        (f"{_fullwidth(str(k))}번", True),
        (f"{k}번째", True),
        (f"{k}번째 거", True),
        (f"기호 {k}번", True),
        (f"#{k}", False),
        (f"No.{k}", False),
        (f"no {k}", False),
        (f"{k}", False),
        (f"{k}호", True),
    ]
    text, free = rng.choice(forms)
    return Ref(text, k, votes.NUMBER, _last_sound(text), free)


def circled_ref(rng: random.Random, k: int) -> Ref:
    circle = rng.choice(_CIRCLES)[k - 1]
    text = rng.choice([circle, circle, f"{circle}번"])
    sound = "번" if text.endswith("번") else _last_sound(str(k))
    return Ref(text, k, votes.CIRCLED, sound, text.endswith("번"))


def keycap_ref(rng: random.Random, k: int) -> Ref:
    cap = "🔟" if k == 10 else f"{k}\ufe0f\u20e3"
    text = rng.choice([cap, cap, f"{cap}번"])
    sound = "번" if text.endswith("번") else _last_sound(str(k))
    return Ref(text, k, votes.KEYCAP, sound, text.endswith("번"))


def ordinal_ref(rng: random.Random, k: int, count: int) -> Ref:
    forms: list[tuple[str, bool]] = [
        (f"{_NATIVE_ORDINAL[k]} 번째", True),
        (f"{_NATIVE_ORDINAL[k]}번째", True),
        (f"{_NATIVE_ORDINAL[k]}번째 거", True),
        (f"{_SINO[k]}번", False),
        (f"{_NATIVE_JJAE[k]}째 거", True),
    ]
    if k == count:
        forms += [("마지막 거", True), ("맨 마지막 거", True)]
    text, free = rng.choice(forms)
    return Ref(text, k, votes.ORDINAL, _last_sound(text), free)


def name_ref(rng: random.Random, poll: str, k: int) -> Ref:
    name = POLLS[poll][k - 1]
    forms = list(NAME_FORMS.get(poll, {}).get(k, ()))
    if not forms:
        forms = [name, name, name.replace(" ", "")]
        syllables = name.replace(" ", "")
        if len(syllables) >= 3:
            # A space where none belongs (꽃 누리).
            cut = rng.randint(1, len(syllables) - 1)
            forms.append(syllables[:cut] + " " + syllables[cut:])
    text = rng.choice(forms)
    quoted = rng.random()
    if quoted < 0.1:
        text = f"'{text}'"
    elif quoted < 0.15:
        text = f"「{text}」"
    elif quoted < 0.2 and " " not in text:
        text = f"#{text}"
    return Ref(text, k, votes.NAME, _last_sound(text))


# Confusions typed on a phone: neighbouring vowels and finals, a lost double consonant.
_VOWEL_SWAPS = {
    "ㅐ": "ㅔ", "ㅔ": "ㅐ", "ㅗ": "ㅓ", "ㅓ": "ㅗ", "ㅜ": "ㅡ", "ㅡ": "ㅜ", "ㅕ": "ㅓ",
    "ㅚ": "ㅙ", "ㅙ": "ㅚ", "ㅢ": "ㅣ", "ㅏ": "ㅑ",
}  # fmt: skip
_INITIAL_SWAPS = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ"}
_FINAL_SWAPS = {"ㅊ": "ㅅ", "ㅅ": "ㄷ", "ㄷ": "ㅅ", "ㅇ": "ㄴ", "ㄴ": "ㅇ", "ㄹ": ""}
_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINALS = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")


def _typo_syllable(rng: random.Random, syllable: str) -> str | None:
    code = ord(syllable) - 0xAC00
    initial, medial, final = _INITIALS[code // 588], _MEDIALS[code % 588 // 28], code % 28
    final_letter = _FINALS[final]
    choices = []
    if medial in _VOWEL_SWAPS:
        choices.append((initial, _VOWEL_SWAPS[medial], final_letter))
    if initial in _INITIAL_SWAPS:
        choices.append((_INITIAL_SWAPS[initial], medial, final_letter))
    if final_letter in _FINAL_SWAPS:
        choices.append((initial, medial, _FINAL_SWAPS[final_letter]))
    if not choices:
        return None
    i, m, f = rng.choice(choices)
    return chr(0xAC00 + _INITIALS.index(i) * 588 + _MEDIALS.index(m) * 28 + _FINALS.index(f))


def near_ref(rng: random.Random, poll: str, k: int) -> Ref | None:
    """The name with one letter mistyped, when a reader would still know it: a name of
    three syllables or more, and no other option within three letters of the typo."""
    name = POLLS[poll][k - 1]
    if any("\u4e00" <= c <= "\u9fff" for c in name) or "–" in name:
        return None
    positions = [i for i, c in enumerate(name) if "가" <= c <= "힣"]
    if len(positions) < 3:
        return None
    for _ in range(10):
        at = rng.choice(positions)
        changed = _typo_syllable(rng, name[at])
        if changed is None:
            continue
        typo = name[:at] + changed + name[at + 1 :]
        compact = typo.replace(" ", "")
        others = [o.replace(" ", "") for n, o in enumerate(POLLS[poll], start=1) if n != k]
        if all(votes.jamo_distance(compact, o) >= 3 for o in others):
            return Ref(typo, k, votes.NEAR_NAME, _last_sound(typo))
    return None


# --- sentences ---------------------------------------------------------------------------------

# Anything may go around a free reference; a reference that is only a number (2, #2, 이번,
# ②) is written where the sentence ends or a word of choosing follows, as people do.
VOTE_FRAMES_SHORT = [
    "{r}",
    "{r}!!",
    "{r}(이요/요)",
    "{r}(이요/요)!!",
    "{r}(이요/요)~~",
    "저는 {r}!",
    "저는 {r}(이요/요)",
    "{r} 찍어요",
    "{r} 찍었어요 ㅎㅎ",
    "{r}에 한 표",
    "{r}에 한표요!",
    "{r}(이/가) 제일 좋아요",
    "@김순천 저도 {r}(이요/요)",
    "전 {r}(이요/요) ㅋㅋㅋ",
]
VOTE_FRAMES = [
    *VOTE_FRAMES_SHORT,
    "{r}에 1표",
    "{r} 강추합니다",
    "{r}(이/가) 제일 좋네요",
    "{r}(이/가) 젤 이뻐요",
    "{r} 투표합니다",
    "{r}(으로/로) 할게요",
    "무조건 {r}",
    "{r} 가즈아!!",
    "당연히 {r}(이죠/죠)",
    "{r} 응원합니다!",
    "저희 가족은 모두 {r}(이에요/예요)",
    "{r}(이/가) 마음에 들어요",
    "{r} 선택합니다",
    "{r}(이/가) 제일 낫네요 ㅋㅋ",
    "고민하다가 {r}(으로/로) 결정했어요",
    "{r}(이/가) 좋겠어요",
    "{r} 👍👍",
    "{r} 최고❤️",
    "개인적으로 {r}(이/가) 제일 괜찮은 것 같아요",
    "{r}(이/가) 낫지 않나요?",
    "{r}(이/가) 제일 예쁘죠?",
    "{r} 좋아요 다들 투표하세요~",
    "ㅋㅋㅋ {r}",
    "순천 시민으로서 {r}(을/를) 추천합니다",
    "어제 3시에 보고 왔는데 {r}(이/가) 좋네요",
    "아이 2명이랑 봤는데 다들 {r}(이래요/래요)",
    "10분 고민했는데 {r}(이요/요)",
    "2026년 새 이름은 {r}(으로/로)!",
    "{r}(이/가) 제일 멋있어요 👏",
    "우와 {r} 진짜 좋다",
    "{r}!! 다른 것도 좋지만 이게 최고",
]
SEVERAL_FRAMES = [
    "{a} {b}",
    "{a}(이랑/랑) {b}",
    "{a}, {b} 둘 다 좋아요",
    "{a}(도/도) 좋고 {b}(도/도) 좋아요",
    "{a}(이나/나) {b}",
    "{a}(과/와) {b} 중에 고민되네요",
    "{a}! 근데 {b}(도/도) 예뻐요",
    "{a}(이/가) 좋은데 {b}(도/도) 괜찮네요",
    "{a} {b} 둘 다요",
    "{a}(이랑/랑) {b}에 한 표씩",
    "저는 {a}, 남편은 {b}(이요/요) ㅋㅋ",
]
SWITCH_FRAMES = [  # the first option rejected, the second chosen: counts for the second
    "{a} 말고 {b}",
    "{a} 말고 {b}(이요/요)!!",
    "{a}보다 {b}(이/가) 좋아요",
    "{b}(이/가) {a}보다 나아요",
    "{a}(은/는) 별로고 {b}(이/가) 좋아요",
    "{a}에서 {b}(으로/로) 바꿀게요",
    "{a} 아니고 {b}(이요/요)",
    "{a} 대신 {b}",
    "{a}(은/는) 싫고 {b}(이요/요)",
]
SAME_FRAMES = [  # one option named twice is one vote
    "{a}! {a2}!!",
    "{a} {a2}(이요/요)",
    "{a}, 그러니까 {a2}(이요/요)",
    "{a} 찍었어요 {a2} 최고",
]
NEGATED_FRAMES = [
    "{a}(은/는) 별로",
    "{a}(은/는) 별로예요",
    "{a} 싫어요",
    "{a}(은/는) 안 찍어요",
    "{a}(은/는) 좀...",
    "{a}(은/는) 아닌 것 같아요",
    "{a} 반대합니다",
    "{a}(은/는) 촌스러워요",
    "{a}(이/가) 제일 별로네요 ㅠㅠ",
    "{a}(은/는) 좋지 않아요",
]
QUESTION_FRAMES = [
    "{a}(이/가) 뭐예요?",
    "{a} 어때요?",
    "{a}(은/는) 무슨 뜻이에요?",
    "{a}(은/는) 어떤 건가요?",
    "{a}(이랑/랑) {b} 중에 뭐가 나아요?",
    "{a} 설명 좀 해주실 수 있나요?",
    "{a}(은/는) 누가 만들었어요?",
    "{a}(이요/요)?",
    "{a}(은/는) 왜 후보예요?",
]
NONE_TEXTS = [
    "다 좋아요~",
    "둘 다 좋네요 ㅎㅎ",
    "좋은 행사네요",
    "ㅋㅋㅋㅋ",
    "시장님 화이팅",
    "수고 많으셨습니다!",
    "투표 언제까지 해요?",
    "결과는 언제 나와요?",
    "어제 3시에 갔는데 사람 많았어요",
    "2026년에 완공되나요?",
    "010-2345-6789로 연락주세요",
    "5,000원 상품권 주나요?",
    "2번 버스 타고 갔어요",
    "아이 2명이랑 다녀왔어요",
    "3월 2일에 오픈한대요",
    "11/25 행사 맞죠?",
    "10분 기다렸어요 ㅠㅠ",
    "3층 민원실 어디예요",
    "20살 대학생입니다",
    "1등 상품이 뭔가요",
    "3번이나 봤어요 ㅋㅋ",
    "이번에도 참여합니다!",
    "이번 투표 재밌네요",
    "한번 더 생각해볼게요",
    "두 번 투표해도 되나요?",
    "몇 번이 인기 많아요?",
    "순천 최고!",
    "순천만 가고 싶다",
    "우리 둘째가 좋아해요",
    "첫 번째 댓글 ㅎㅎ",
    "061-749-3114 여기로 문의하면 되나요",
    "2시간 줄 섰어요",
    "4살 아이랑 같이 봤어요",
    "1.5배 더 큰 건물이래요",
    "선택지가 다 비슷해요",
    "저는 아직 못 정했어요",
    "https://www.suncheon.go.kr/2 여기 보세요",
    "좋은 소식이네요",
]
EMPTY_TEXTS = ["", "   ", "!!!", "👍👍", "❤️❤️❤️", "...", "😊"]

_PREFIXES = ["", "", "", "", "ㅋㅋㅋ ", "와 ", "음.. ", "@이순천 ", "오 "]
_SUFFIXES = ["", "", "", "", " ㅎㅎ", "!!", "~", " 👍", " 화이팅!", "ㅋㅋㅋ", " 😊"]


def _noise(rng: random.Random, text: str) -> str:
    text = rng.choice(_PREFIXES) + text + rng.choice(_SUFFIXES)
    if " " in text.strip() and rng.random() < 0.15:
        # A space left out, as on a phone keyboard.
        # (Not the one after an @name: that would make the name longer.)
        first = text.find(" ") if text.startswith("@") else -1
        spaces = [
            i for i, c in enumerate(text) if c == " " and 0 < i < len(text) - 1 and i != first
        ]
        if spaces:
            at = rng.choice(spaces)
            text = text[:at] + text[at + 1 :]
    if rng.random() < 0.05:
        text = unicodedata.normalize("NFD", text)  # typed on a Mac
    return text


def _ref(rng: random.Random, poll: str, k: int, style: str) -> Ref | None:
    count = len(POLLS[poll])
    makers: dict[str, Callable[[], Ref | None]] = {
        "number": lambda: number_ref(rng, k),
        "circled": lambda: circled_ref(rng, k),
        "keycap": lambda: keycap_ref(rng, k),
        "ordinal": lambda: ordinal_ref(rng, k, count),
        "name": lambda: name_ref(rng, poll, k),
        "near_name": lambda: near_ref(rng, poll, k),
    }
    return makers[style]()


# How often each way of writing a vote appears (per poll).
VALID_STYLES = {
    "number": 50,
    "circled": 14,
    "keycap": 10,
    "ordinal": 24,
    "name": 46,
    "near_name": 16,
}
_ANY_STYLE = ("number", "number", "circled", "ordinal", "name", "name")


def _free_ref(rng: random.Random, poll: str, k: int) -> Ref:
    """A reference that can stand anywhere in a sentence (for mixed comments)."""
    while True:
        ref = _ref(rng, poll, k, rng.choice(_ANY_STYLE))
        if ref is not None and ref.free:
            return ref


def _two(rng: random.Random, count: int) -> tuple[int, int]:
    a, b = rng.sample(range(1, count + 1), 2)
    return a, b


def generate(seed: int = 2026, scale: int = 1) -> list[Example]:
    """The corpus from ``seed``: about 360 comments per option set (five sets), ``scale``
    times over."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    examples: list[Example] = []

    def add(text: str, poll: str, expected: int | None, reason: str, group: str) -> None:
        examples.append(Example(_noise(rng, text), poll, expected, reason, group))

    for _ in range(scale):
        for poll, names in POLLS.items():
            count = len(names)
            for style, times in VALID_STYLES.items():
                made = 0
                attempts = 0
                while made < times and attempts < times * 20:
                    attempts += 1
                    k = rng.randint(1, count)
                    ref = _ref(rng, poll, k, style)
                    if ref is None:
                        continue
                    frame = rng.choice(VOTE_FRAMES if ref.free else VOTE_FRAMES_SHORT)
                    add(fill(frame, r=ref), poll, k, ref.reason, f"vote:{style}")
                    made += 1
            for _ in range(20):
                a, b = _two(rng, count)
                ref_b = _free_ref(rng, poll, b)
                text = fill(rng.choice(SWITCH_FRAMES), a=_free_ref(rng, poll, a), b=ref_b)
                add(text, poll, b, ref_b.reason, "vote:switch")
            for _ in range(10):
                k = rng.randint(1, count)
                ref = _free_ref(rng, poll, k)
                text = fill(rng.choice(SAME_FRAMES), a=ref, a2=_free_ref(rng, poll, k))
                add(text, poll, k, ref.reason, "vote:same_twice")
            for _ in range(40):
                a, b = _two(rng, count)
                text = fill(
                    rng.choice(SEVERAL_FRAMES),
                    a=_free_ref(rng, poll, a),
                    b=_free_ref(rng, poll, b),
                )
                add(text, poll, None, votes.SEVERAL, "invalid:several")
            for _ in range(25):
                a = rng.randint(1, count)
                text = fill(rng.choice(NEGATED_FRAMES), a=_free_ref(rng, poll, a))
                add(text, poll, None, votes.NEGATED, "invalid:negated")
            for _ in range(25):
                a, b = _two(rng, count)
                text = fill(
                    rng.choice(QUESTION_FRAMES),
                    a=_free_ref(rng, poll, a),
                    b=_free_ref(rng, poll, b),
                )
                add(text, poll, None, votes.QUESTION, "invalid:question")
            for _ in range(15):
                k = rng.randint(count + 1, 10)
                style = rng.choice(("number", "number", "circled", "keycap", "ordinal"))
                ref = _ref(rng, poll, k, style)
                if ref is None:  # only names have no other way to be written
                    continue
                frame = rng.choice(VOTE_FRAMES_SHORT)
                add(fill(frame, r=ref), poll, None, votes.OUT_OF_RANGE, "invalid:out_of_range")
            for text in rng.sample(NONE_TEXTS, 30):
                add(text, poll, None, votes.NONE, "invalid:none")
            for text in rng.sample(EMPTY_TEXTS, 5):
                examples.append(Example(text, poll, None, votes.EMPTY, "invalid:empty"))
    return examples
