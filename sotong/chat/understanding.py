"""What the chatbot reads in a citizen's words and what it can show: FAQ matches and whether
the text reports a problem (one Kiwi pass over the masked text, as triage does), FAQ
questions to browse, and the city's recent posts on a topic or campaign."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sotong.core.models import Organisation
from sotong.faq import answers

BROWSE_SHOWN = 5
POSTS_SHOWN = 5
POSTS_LOOKED_AT = 200
COMPLAINT_INTENTS = frozenset({"complaint"})


@dataclass(frozen=True)
class Match:
    """An FAQ entry that fits the citizen's words, read from the index (no database)."""

    entry_id: int
    question: str
    answer: str
    confidence: float
    confident: bool


@dataclass(frozen=True)
class Understood:
    matches: list[Match]
    # The text reports a problem (a complaint by intent), and no FAQ entry answers it.
    complaint: bool


def understand(organisation: Organisation, text: str) -> Understood:
    """FAQ matches for ``text`` (best first) and whether it reports a problem. The index
    holds today's valid entries with their answers, so a turn needs no entry rows."""
    from sotong.nlp import faq as retrieval
    from sotong.nlp import tokenise
    from sotong.nlp.intent import classify_morphemes
    from sotong.nlp.pii import mask

    masked = mask(text).masked
    morphs = tokenise.morphemes(masked)
    index = answers.index_for(organisation)
    matches = [
        Match(
            entry_id=cast(int, found.entry_id),
            question=found.question,
            answer=index.answers[found.entry_id],
            confidence=found.confidence,
            confident=retrieval.is_confident(found),
        )
        for found in index.search_tokens(tokenise.content_of(morphs), k=3)
    ]
    if matches and matches[0].confident:
        return Understood(matches, complaint=False)
    intent = classify_morphemes(masked, morphs).intent
    return Understood(matches, complaint=str(intent) in COMPLAINT_INTENTS)


def browse(organisation: Organisation, words: str) -> list[str]:
    """Questions to offer under a menu item: the best FAQ entries for ``words``, or the
    latest updated entries when the item names none."""
    from sotong.faq import selectors

    if words.strip():
        found = answers.index_for(organisation).search(words, k=BROWSE_SHOWN)
        # The index is built with FaqEntry primary keys as its entry ids.
        ids = cast("list[int]", [match.entry_id for match in found])
        by_id = dict(
            selectors.valid_entries(organisation, selectors.today(organisation))
            .filter(pk__in=ids)
            .values_list("pk", "questions")
        )
        questions = [by_id[pk] for pk in ids if pk in by_id]
    else:
        questions = list(
            selectors.valid_entries(organisation, selectors.today(organisation))
            .order_by("-updated_at", "-pk")
            .values_list("questions", flat=True)[:BROWSE_SHOWN]
        )
    return [question.splitlines()[0].strip() for question in questions if question.strip()]


@dataclass(frozen=True)
class PostLink:
    title: str
    description: str
    url: str


def recent_posts(organisation_id: int, name: str) -> list[PostLink]:
    """The latest published posts with the topic or campaign ``name``, each with the address
    of one place it was published (a JSON list field: filtered here, as SQLite cannot)."""
    from django.utils import timezone
    from django.utils.formats import date_format

    from sotong.publishing.models import Publication, PublicationState

    wanted = name.strip()
    rows = (
        Publication.objects.for_organisation(organisation_id)
        .filter(state=PublicationState.PUBLISHED)
        .exclude(url="")
        .select_related("variant__post__campaign")
        .order_by("-published_at", "-pk")[:POSTS_LOOKED_AT]
    )
    found: list[PostLink] = []
    seen: set[int] = set()
    for publication in rows:
        post = publication.variant.post
        if post.pk in seen:
            continue
        campaign = post.campaign.name if post.campaign else ""
        if wanted and wanted not in (post.topics or []) and wanted != campaign:
            continue
        seen.add(post.pk)
        when = publication.published_at or publication.due_at
        found.append(
            PostLink(
                title=post.title,
                description=date_format(timezone.localtime(when), "SHORT_DATE_FORMAT"),
                url=publication.url,
            )
        )
        if len(found) >= POSTS_SHOWN:
            break
    return found
