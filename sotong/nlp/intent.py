"""Intent and urgency of a citizen's message: transparent rules over Kiwi morphemes.

No labelled intent data exists, so the classifier is a lexicon of cues, each with a weight;
the intent with the highest score wins (ties: the order of ``INTENTS``, spam first), and
``reasons`` lists every cue that matched, for the staff to see why.

- spam: links with advertising words, profanity or abuse;
- complaint: 불편, 왜, 아직도, 민원, 불만, 짜증, 엉망 …; and everyday reports of something
  broken or out of order, told by a problem-state predicate (넘치다, 고장나다, 꺼지다,
  막히다, 깨지다, 파이다, 쌓이다, 새다, 부서지다, 열려 있다 …): "가로등이 꺼졌어요" asks for
  action as much as "불편해요" does;
- question: a question ending (…나요, …까요, …는지, …ㅂ니까) or a question mark, 언제/어디/어떻게;
- suggestion: 제안, 건의, …면 좋겠다, …해 주세요 (a request), 설치, 개선;
- praise: 감사, 고맙, 최고, 칭찬, 수고;
- opinion: what is left (a statement about the city).

Urgency: safety words (사고, 위험, 화재, 붕괴, 침수, 가스, 누수, 싱크홀, 정전, 폭발, 쓰러지다,
다치다, 응급, 구조 …) make a message ``high``; two or more, or one with an immediacy word
(지금, 당장, 긴급, 빨리, 119), make it ``urgent``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sotong.nlp import tokenise

INTENTS = ("spam", "complaint", "question", "suggestion", "praise", "opinion")

# Morpheme lexicons: (form, weight). Forms are Kiwi's (stems without 다).
COMPLAINT = {
    "불편": 2, "불만": 2, "민원": 1, "아직": 1, "아직도": 2, "왜": 1, "짜증": 2, "엉망": 2,
    "방치": 2, "시끄럽": 2, "소음": 1, "악취": 2, "냄새": 1, "쓰레기": 1, "불법": 1,
    "항의": 2, "답답": 2, "어이없": 2, "황당": 2, "피해": 1, "고장": 1, "안되": 1,
    "무단": 1, "주차": 1, "매번": 1, "계속": 1, "불친절": 2, "화나": 2, "심하": 1,
}  # fmt: skip
# Problem states: verb stems (VV) that report something broken, blocked or out of order.
# Each is a complaint on its own (weight 2); a question about one still reads as a question.
PROBLEM_STATES = {
    "넘치": "넘치다", "꺼지": "꺼지다", "막히": "막히다", "깨지": "깨지다", "파이": "파이다",
    "패이": "패이다", "쌓이": "쌓이다", "새": "새다", "부서지": "부서지다", "망가지": "망가지다",
    "끊기": "끊기다", "끊어지": "끊어지다", "터지": "터지다", "고이": "고이다", "기울": "기울다",
    "꺾이": "꺾이다", "뽑히": "뽑히다", "벗겨지": "벗겨지다", "들뜨": "들뜨다", "썩": "썩다",
    "흔들리": "흔들리다", "넘어지": "넘어지다", "얼": "얼다", "녹슬": "녹슬다",
}  # fmt: skip
# Nouns that state a fault (파손된, 고장 난, 훼손 …).
PROBLEM_NOUNS = {
    "고장": "고장나다",
    "파손": "파손",
    "훼손": "훼손",
    "포트홀": "포트홀",
    "역류": "역류",
}
# 안 + what should work: 불이 안 들어와요, 물이 안 나와요, 문이 안 열려요.
NOT_WORKING = {"켜지", "들어오", "나오", "열리", "내려가", "잠기", "닫히"}
# "열려 있다" is a fault only for what should be shut (a manhole cover, not a library).
OPEN_HAZARDS = {"뚜껑", "맨홀", "덮개", "하수구", "배수구", "빗물받이", "소화전", "밸브", "철문"}
QUESTION = {
    "언제": 1,
    "어디": 1,
    "어떻게": 1,
    "무엇": 1,
    "뭐": 1,
    "궁금": 2,
    "궁금하": 2,
    "문의": 2,
    "가능": 1,
}
SUGGESTION = {
    "제안": 3, "건의": 3, "개선": 1, "설치": 1, "바라": 2, "요청": 2, "부탁": 1,
    "늘리": 1, "만들": 1, "검토": 1,
}  # fmt: skip
PRAISE = {
    "감사": 3, "고맙": 3, "최고": 2, "칭찬": 3, "수고": 2, "친절": 2, "좋": 1, "멋지": 2,
    "훌륭": 2, "응원": 2,
}  # fmt: skip
SPAM_WORDS = {
    "대출", "카지노", "도박", "토토", "바카라", "수익", "부업", "광고", "홍보", "할인",
    "무료", "이벤트", "클릭", "가입", "코인", "투자", "성인", "만남", "재택",
}  # fmt: skip
PROFANITY = ("시발", "씨발", "ㅅㅂ", "병신", "ㅂㅅ", "개새", "좆", "지랄", "미친놈", "닥쳐")
# 꺼져 as abuse ("꺼져라"), not as a light that is off (꺼져 있어요, 꺼져서, 꺼져요).
_GET_LOST = re.compile(r"꺼져(?!있|서|버|요|도|가|야|나|\?|？)")

SAFETY = {
    "사고", "위험", "화재", "불나", "붕괴", "무너지", "침수", "가스", "누수", "싱크홀",
    "정전", "폭발", "쓰러지", "다치", "응급", "구조", "부상", "연기", "감전", "추락",
    "대피", "범람", "산사태", "균열", "누전", "익사", "실종", "폭행", "구급", "물바다",
}  # fmt: skip
SAFETY_TEXT = ("싱크홀", "불이 났", "불났", "불이났", "쓰러", "다쳤", "무너")
IMMEDIATE = {"지금", "당장", "긴급", "빨리", "급하", "급히", "119", "방금"}

# Kiwi's question endings (EF), with the jamo it splits off (ᆫ가요, ᆯ까요, ᆸ니까).
QUESTION_ENDINGS = {
    "나요", "ᆫ가요", "은가요", "는가요", "가요", "ᆯ까요", "을까요", "까요", "ᆸ니까",
    "습니까", "니", "냐", "나", "ᆯ까", "을까", "는지요", "ᆫ지요", "은지요", "지요", "는지",
}  # fmt: skip
_URL = re.compile(r"https?://|www\.|\.(com|net|kr|xyz|shop)\b", re.IGNORECASE)
_WISH = re.compile(r"(면|으면)\s*좋겠|했으면|주(세요|시기|셨으면|십시오)|바랍니다")


def _problem_states(morphs: list[tuple[str, str]], forms: set[str]) -> list[str]:
    """The problem-state predicates in ``morphs``, as dictionary forms (넘치다, 고장나다)."""
    found = {
        PROBLEM_STATES[form]
        for i, (form, tag) in enumerate(morphs)
        if tag == "VV" and form in PROBLEM_STATES and not _hypothetical(morphs, i)
    }
    # 고장(이) 나다, 파손되다: the fault is the noun.
    found |= {PROBLEM_NOUNS[f] for f, tag in morphs if tag == "NNG" and f in PROBLEM_NOUNS}
    for i, (form, tag) in enumerate(morphs[:-1]):
        following = morphs[i + 1]
        if (form, tag) == ("안", "MAG") and following[1] == "VV" and following[0] in NOT_WORKING:
            found.add(f"안 {following[0]}다")
    # 열리 + 어 + 있 (열려 있다), about something that should be shut.
    if forms & OPEN_HAZARDS:
        for i in range(len(morphs) - 2):
            (stem, tag), (ending, _tag), aux = morphs[i : i + 3]
            if (stem, tag) == ("열리", "VV") and ending == "어" and aux == ("있", "VX"):
                found.add("열려 있다")
    return sorted(found)


def _hypothetical(morphs: list[tuple[str, str]], i: int) -> bool:
    """Whether the predicate at ``i`` is a supposition (물이 새면 …), not a report."""
    following = [form for form, tag in morphs[i + 1 : i + 3] if tag in ("EC", "EP")]
    return any(form in _IF for form in following)


_IF = {"면", "으면", "을까", "ᆯ까", "다면", "ᆫ다면", "는다면"}


@dataclass(frozen=True)
class Triage:
    intent: str
    urgency: str
    reasons: list[str] = field(default_factory=list)


def classify(text: str) -> Triage:
    """Intent (question, complaint, suggestion, opinion, praise, spam) and urgency (normal,
    high, urgent) of ``text``, with the cues that decided them."""
    return classify_morphemes(text, tokenise.morphemes(text))


def classify_many(texts: list[str]) -> list[Triage]:
    """``classify`` of each text, Kiwi analysing them in one batch."""
    return [
        classify_morphemes(text, morphs)
        for text, morphs in zip(texts, tokenise.morphemes_many(texts), strict=True)
    ]


def classify_morphemes(text: str, morphs: list[tuple[str, str]]) -> Triage:
    """``classify`` with ``text``'s morphemes already analysed (``tokenise.morphemes``)."""
    compact = text.replace(" ", "")
    forms = {form for form, _ in morphs}
    scores = dict.fromkeys(INTENTS, 0.0)
    reasons: list[str] = []

    def cue(intent: str, weight: float, why: str) -> None:
        scores[intent] += weight
        reasons.append(f"{intent}: {why}")

    # Spam and abuse first: a link with advertising words, or profanity.
    links = bool(_URL.search(text)) or any(tag == "W_URL" for _, tag in morphs)
    ads = sorted(SPAM_WORDS & forms)
    if links and ads:
        cue("spam", 5 + len(ads), f"링크 + 광고어({', '.join(ads)})")
    elif len(ads) >= 3:
        cue("spam", 3, f"광고어({', '.join(ads)})")
    swear = [w for w in PROFANITY if w in compact] + _GET_LOST.findall(compact)
    if swear:
        cue("spam", 6, "욕설")

    for lexicon, intent in ((COMPLAINT, "complaint"), (SUGGESTION, "suggestion"), (PRAISE, "praise"), (QUESTION, "question")):  # fmt: skip
        for form in sorted(forms & lexicon.keys()):
            cue(intent, lexicon[form], form)
    problems = _problem_states(morphs, forms)
    if problems:
        cue("complaint", 2, f"문제 상태({', '.join(problems)})")
    if "?" in text or "？" in text:
        cue("question", 2, "물음표")
    # Sentence endings: a final ending (EF) of the question kind, or 는지/ㄴ지 (…인지 궁금).
    endings = sorted({f for f, tag in morphs if tag in ("EF", "EC") and f in QUESTION_ENDINGS})
    if endings:
        cue("question", 2, f"의문형 어미({', '.join(endings)})")
    if _WISH.search(text):
        cue("suggestion", 2, "요청·바람 표현")
    # 왜 … 안 하나요 is a complaint dressed as a question.
    if scores["complaint"] >= 2 and scores["question"] > 0:
        scores["question"] -= 1
    # So is a fault reported with a question (꺼진 지 일주일인데 언제 고치나요?): it needs action.
    if problems:
        scores["question"] = min(scores["question"], scores["complaint"] - 1)
    hits = sorted(set(sorted(SAFETY & forms) + [w for w in SAFETY_TEXT if w in compact]))
    if hits:  # A danger reported is a complaint to act on, whatever its wording.
        scores["complaint"] += 3
    best = max(INTENTS, key=lambda intent: (scores[intent], -INTENTS.index(intent)))
    intent = best if scores[best] >= 2 else "opinion"

    now = sorted(w for w in IMMEDIATE if w in compact)
    if hits:
        reasons.append(f"안전: {', '.join(hits)}")
        if now:
            reasons.append(f"즉시: {', '.join(now)}")
    if not hits:
        urgency = "normal"
    elif len(hits) >= 2 or now:
        urgency = "urgent"
    else:
        urgency = "high"
    return Triage(intent, urgency, reasons)
