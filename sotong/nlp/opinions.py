"""Consultation opinions: free-text views on one topic grouped by theme, each read for a
stance (no Django imports).

`group_opinions(texts)` masks personal information (`sotong.nlp.pii.mask`), reads each
opinion once with Kiwi, weighs its content morphemes with TF-IDF and clusters them with
k-means (fixed seed, k chosen by silhouette), so the same opinions always give the same
themes. A `Theme` names itself by the 3–5 morphemes that weigh most in its centre, lists
its members, the 2–3 members closest to the centre as quotes staff can show, and how many
of its members are for, against or neither.

`stance(text)` reads whether an opinion is for or against the proposal from a short,
visible list of cue words (찬성, 좋다, 필요하다, 환영 / 반대, 낭비, 걱정, 아니다, 굳이) and
their negations (필요 없다, 안 좋다, 좋지 않다, 반대하지 않다, 낭비가 아니다), and says
which cue decided it: a count shown to the council must be explainable opinion by opinion,
which a trained model is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from sotong.nlp import pii
from sotong.nlp.tokenise import NUMBER, URL, content_of, morphemes_many, tokens

Label = Literal["for", "against", "neutral"]
FOR: Final = "for"
AGAINST: Final = "against"
NEUTRAL: Final = "neutral"

# ---------------------------------------------------------------------------------------
# Stance.

# Cue morphemes: (form, tag kinds) → (label, strength, how it is shown). A strong cue says
# the stance outright (찬성합니다); a weak one leans (좋네요, 걱정돼요). The strongest cue in
# an opinion decides it; between equals the last one does, since Korean puts the
# conclusion last ("디자인은 좋지만 비용이 걱정돼서 반대합니다").
_STRONG = 2
_WEAK = 1
_NOUNS = frozenset({"NNG", "NNP", "XR"})
_CUES: dict[tuple[str, str], tuple[Label, int, str]] = {}
_NOUN_CUES: tuple[tuple[str, Label, int, str], ...] = (
    ("찬성", FOR, _STRONG, "찬성"),
    ("환영", FOR, _STRONG, "환영"),
    ("지지", FOR, _STRONG, "지지"),
    ("동의", FOR, _STRONG, "동의"),
    ("필요", FOR, _WEAK, "필요하다"),
    ("반대", AGAINST, _STRONG, "반대"),
    ("낭비", AGAINST, _WEAK, "낭비"),
    ("걱정", AGAINST, _WEAK, "걱정"),
    ("우려", AGAINST, _WEAK, "우려"),
)
for _form, _label, _strength, _shown in _NOUN_CUES:
    for _tag in _NOUNS:
        _CUES[(_form, _tag)] = (_label, _strength, _shown)
_CUES[("좋", "VA")] = (FOR, _WEAK, "좋다")
_CUES[("싫", "VA")] = (AGAINST, _WEAK, "싫다")
_CUES[("아깝", "VA")] = (AGAINST, _WEAK, "아깝다")
_CUES[("굳이", "MAG")] = (AGAINST, _WEAK, "굳이")

# Negators after a cue, within its clause: 필요(가) 없다, 좋지 않다, 낭비가 아니다.
_NEGATORS_AFTER = {("없", "VA"): "없다", ("않", "VX"): "않다", ("아니", "VCN"): "아니다"}
# Negators before a cue: 안 좋다, 못 찬성하다.
_NEGATORS_BEFORE = frozenset({("안", "MAG"), ("못", "MAG")})
# What may stand between a cue and its negator: particles, the 하/되 that make a noun a
# verb, the connective 지 (좋지 않다) and 는/도 (필요는 없다, 반대하지도 않는다).
_BETWEEN = frozenset({"JKS", "JKC", "JKO", "JX", "XSV", "XSA", "EC"})
# Endings that close the cue's clause: after them a negator belongs to something else.
# Nouns shown with 하 before 지 않다 (반대하지 않다).
_NEGATABLE_NOUNS = frozenset({"찬성", "환영", "지지", "동의", "반대"})
_QUESTION = ("나요", "나", "니", "까요", "까", "습니까", "ᆸ니까", "는지")
_CLAUSE_ENDINGS = frozenset({"고", "어서", "아서", "어", "아", "니까", "으니까", "지만", "는데"})


@dataclass(frozen=True)
class Stance:
    """An opinion's stance and the cue that decided it, as staff would read it (``"필요
    없다"``, ``"반대"``), or ``None`` when no cue is found."""

    label: Label
    cue: str | None = None


def _negated_after(morphs: Sequence[tuple[str, str]], at: int) -> str | None:
    """The negator that follows the cue at ``at`` in the same clause, if any."""
    for form, tag in morphs[at + 1 : at + 6]:
        if (form, tag) in _NEGATORS_AFTER:
            return _NEGATORS_AFTER[(form, tag)]
        if tag == "EC" and form in _CLAUSE_ENDINGS:
            return None
        if tag not in _BETWEEN:
            return None
    return None


def _asks_if_there_is(morphs: Sequence[tuple[str, str]], at: int) -> bool:
    """Whether the cue at ``at`` is followed by 있 and a question ending (있나요, 있을까요)."""
    rest = morphs[at + 1 : at + 5]
    for i, (form, tag) in enumerate(rest):
        if form == "있" and tag in {"VA", "VV"}:
            ending = rest[i + 1] if i + 1 < len(rest) else None
            return ending is not None and ending[1] == "EF" and ending[0].endswith(_QUESTION)
        if tag not in _BETWEEN:
            return False
    return False


def _cue_at(morphs: Sequence[tuple[str, str]], at: int) -> tuple[Label, int, str] | None:
    form, tag = morphs[at]
    cue = _CUES.get((form, tag))
    if cue is None:
        return None
    label, strength, shown = cue
    before = morphs[at - 1] if at > 0 else None
    # "…하면 좋겠다" is a suggestion about how to build, not a view on whether to.
    if form == "좋" and before is not None and before[1] == "EC" and before[0].endswith("면"):
        return None
    flipped: Label = FOR if label == AGAINST else AGAINST
    if before is not None and before in _NEGATORS_BEFORE:
        return flipped, strength, f"{before[0]} {shown}"
    if form == "필요" and _asks_if_there_is(morphs, at):
        # "굳이 지을 필요가 있나요?" asks only to say there is none.
        return AGAINST, strength, "필요가 있나"
    negator = _negated_after(morphs, at)
    if negator is not None:
        stem = shown.removesuffix("다")
        if negator == "않다":
            return flipped, strength, f"{stem}{'하' if form in _NEGATABLE_NOUNS else ''}지 않다"
        return flipped, strength, f"{stem.removesuffix('하')} {negator}"
    return cue


def stance_of_morphemes(morphs: Sequence[tuple[str, str]]) -> Stance:
    """``stance`` of morphemes Kiwi has already produced (no second analysis)."""
    # Irregular conjugations are tagged VA-I, VV-R…: the cue is the same word.
    morphs = [(form, tag.split("-")[0]) for form, tag in morphs]
    best: tuple[Label, int, str] | None = None
    used_as_negator: set[int] = set()
    for at in range(len(morphs)):
        cue = _cue_at(morphs, at)
        if cue is not None:
            if _negated_after(morphs, at) is not None:
                # The negator is part of this cue, not a cue of its own (낭비가 아니다).
                for later in range(at + 1, min(at + 6, len(morphs))):
                    if morphs[later] in _NEGATORS_AFTER:
                        used_as_negator.add(later)
                        break
            if best is None or cue[1] >= best[1]:
                best = cue
            continue
        form, tag = morphs[at]
        # 아니다 on its own rejects: "이건 아닌 것 같아요", "아니요". Not "A가 아니라 B"
        # (a contrast), nor the 아니 of a cue already read as its negation.
        if at in used_as_negator:
            continue
        is_no = (form == "아니" and tag == "VCN") or (form in {"아니", "아니요"} and tag == "IC")
        if is_no:
            following = morphs[at + 1] if at + 1 < len(morphs) else None
            if following is not None and following[1] == "EC" and following[0].startswith("라"):
                continue
            if best is None or best[1] <= _WEAK:
                best = (AGAINST, _WEAK, "아니다")
    if best is None:
        return Stance(NEUTRAL)
    return Stance(best[0], best[2])


def stance(text: str) -> Stance:
    """Whether ``text`` is for or against the proposal, and the cue that says so."""
    return stance_of_morphemes(next(iter(morphemes_many([text]))))


# ---------------------------------------------------------------------------------------
# Themes.

# Words every opinion on a proposal uses whatever its theme, or that carry its stance
# rather than its subject: left out so themes form around what the opinions are about.
_NOT_THEMES = frozenset(
    {
        "하", "되", "있", "없", "같", "보", "생각", "들", "싶", "말", "알", "나",
        "찬성", "반대", "환영", "지지", "동의", "좋", "싫", "필요", "걱정", "우려", "의견",
        "굳이", "정말", "진짜", "꼭", "제발", "시민", "우리", "위하", NUMBER, URL,
    }
)  # fmt: skip
_TAG_OF_VERB = frozenset({"VV", "VA"})


@dataclass
class Theme:
    """One group of opinions. ``members`` and ``quotes`` index the texts given; an empty
    ``keywords`` marks the opinions with no words to group by (only 찬성합니다, or
    emoji)."""

    keywords: list[str]
    members: list[int]
    quotes: list[int]
    for_count: int = 0
    against_count: int = 0
    neutral_count: int = 0


def _choose_k(matrix: object, n_distinct: int, max_themes: int) -> tuple[int, np.ndarray]:
    """The number of clusters with the best silhouette (cosine) from 2 to the cap, and
    its labels; a single cluster when there are too few distinct opinions to split."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    # At most one theme per five opinions on average (and never as many as there are
    # distinct opinions): smaller groups are not themes, and silhouette favours many.
    top = min(max_themes, n_distinct - 1, max(2, matrix.shape[0] // 5))  # type: ignore[attr-defined]
    if top < 2:
        return 1, np.zeros(matrix.shape[0], dtype=int)  # type: ignore[attr-defined]
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(2, top + 1):
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(matrix)
        if len(set(labels.tolist())) < 2:
            continue
        score = float(silhouette_score(matrix, labels, metric="cosine"))
        # Strictly better only: ties keep the smaller k (fewer, larger themes).
        if best is None or score > best[0] + 1e-9:
            best = (score, k, labels)
    if best is None:
        return 1, np.zeros(matrix.shape[0], dtype=int)  # type: ignore[attr-defined]
    return best[1], best[2]


def _shown_words(analysed: list[list[tuple[str, str]]], words: set[str]) -> dict[str, str]:
    """How each word is shown as a keyword: a verb or adjective stem in its dictionary
    form (넓 → 넓다), anything Kiwi also read as a noun as it is."""
    verbs = {form for morphs in analysed for form, tag in morphs if tag in _TAG_OF_VERB}
    nouns = {form for morphs in analysed for form, tag in morphs if tag not in _TAG_OF_VERB}
    return {word: f"{word}다" if word in verbs and word not in nouns else word for word in words}


def _features(words: list[str]) -> list[str]:
    """The words an opinion is grouped by: its content morphemes, plus the first two
    syllables of each three-syllable noun, so compounds meet their stem (주차장 and 주차,
    역사관 and 역사, 건축물 and 건축가) as Kiwi keeps a compound as one word."""
    return words + [word[:2] for word in words if len(word) == 3 and word.isalpha()]


def group_opinions(texts: Sequence[str], *, max_themes: int = 8, topic: str = "") -> list[Theme]:
    """``texts`` grouped into at most ``max_themes`` themes, largest first (ties: the one
    whose first member comes first); opinions with nothing to group by come last.

    The words of ``topic`` (the consultation's title, e.g. "시청사 건립") are left out of
    the grouping: every opinion is about them, so they name no theme."""
    if max_themes < 1:
        raise ValueError("max_themes must be at least 1")
    if not texts:
        return []
    masked = [pii.mask(text).masked for text in texts]
    analysed = list(morphemes_many(masked))
    stances = [stance_of_morphemes(morphs) for morphs in analysed]
    left_out = _NOT_THEMES | set(tokens(topic))
    words = [[t for t in content_of(morphs) if t not in left_out] for morphs in analysed]
    # Only words the citizens wrote name a theme, not the syllables `_features` adds.
    shown = _shown_words(analysed, {word for ws in words for word in ws})
    documents = [_features(ws) for ws in words]

    grouped = [i for i, doc in enumerate(documents) if doc]
    unthemed = [i for i, doc in enumerate(documents) if not doc]
    themes: list[Theme] = []
    if grouped:
        themes = _cluster(grouped, [documents[i] for i in grouped], stances, shown, max_themes)
    if unthemed:
        themes.append(_theme([], unthemed, unthemed[:3], stances))
    return themes


def _cluster(
    indexes: list[int],
    documents: list[list[str]],
    stances: list[Stance],
    shown: dict[str, str],
    max_themes: int,
) -> list[Theme]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Words used by most opinions (시청사, 건립) name the topic, not a theme; with few
    # opinions every word is rare and nothing is left out.
    max_df = 0.5 if len(documents) >= 10 else 1.0
    vectoriser = TfidfVectorizer(
        analyzer=lambda doc: doc, max_df=max_df, sublinear_tf=True, norm="l2"
    )
    try:
        matrix = vectoriser.fit_transform(documents)
    except ValueError:  # every word was in more than half the opinions
        vectoriser = TfidfVectorizer(analyzer=lambda doc: doc, sublinear_tf=True)
        matrix = vectoriser.fit_transform(documents)
    vocabulary = vectoriser.get_feature_names_out()
    rows = matrix.toarray()
    nonzero = rows.any(axis=1)
    n_distinct = len({row.tobytes() for row in rows[nonzero]})
    if nonzero.all():
        _, labels = _choose_k(matrix, n_distinct, max_themes)
    else:
        # Opinions whose only words were dropped as too common join one cluster of their own.
        labels = np.full(len(documents), -1, dtype=int)
        if nonzero.any():
            _, sub = _choose_k(matrix[nonzero], n_distinct, max(1, max_themes - 1))
            labels[nonzero] = sub

    themes = []
    for label in sorted(set(labels.tolist())):
        local = [i for i in range(len(documents)) if labels[i] == label]
        centre = rows[local].mean(axis=0)
        order = sorted(range(len(vocabulary)), key=lambda j: (-centre[j], vocabulary[j]))
        named = [str(vocabulary[j]) for j in order if centre[j] > 0 and vocabulary[j] in shown]
        keywords = [shown[word] for word in named[:5]]
        norm = float(np.linalg.norm(centre)) or 1.0
        closeness = [float(rows[i] @ centre) / norm for i in local]
        ranked = sorted(range(len(local)), key=lambda m: (-closeness[m], local[m]))
        quotes = [indexes[local[m]] for m in ranked[:3]]
        themes.append(_theme(keywords, [indexes[i] for i in local], quotes, stances))
    themes.sort(key=lambda theme: (-len(theme.members), theme.members[0]))
    return themes


def _theme(
    keywords: list[str], members: list[int], quotes: list[int], stances: list[Stance]
) -> Theme:
    mine = [stances[i] for i in members]
    return Theme(
        keywords=keywords,
        members=members,
        quotes=quotes,
        for_count=sum(s.label == FOR for s in mine),
        against_count=sum(s.label == AGAINST for s in mine),
        neutral_count=sum(s.label == NEUTRAL for s in mine),
    )
