"""Satisfaction (만족도): after a case is answered, the citizen is asked for a score of 1–5
and a comment, once per case.

- On a private conversation (a channel that sends private messages), a short message
  asks for a number; what the citizen writes back within 7 days is recognised by
  ``take_score`` ("5", "5점", "⑤", "5 친절했어요", "매우 만족") and recorded, and the
  case is not reopened by it (ingest calls ``take_score`` first).
- Everywhere, including channels that only answer in public comments, the organisation
  can have replies carry the link of a public survey page: a signed token (no login),
  answered once, for 14 days after the link went out.

The options are the organisation's inbox settings. Scores are recorded through
``actions.record_satisfaction``, the one place a case's satisfaction changes.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sotong.core import audit
from sotong.core.audit import Actor
from sotong.core.models import Organisation, Staff
from sotong.core.permissions import Performer, actor_of
from sotong.core.roles import Capability
from sotong.inbox.models import (
    Case,
    CaseEventKind,
    InboxSettings,
    Message,
    MessageKind,
    Reply,
    ReplyPurpose,
    SatisfactionSurvey,
    SurveyAnswerSource,
)

# The survey page answers this long after the link went out.
SURVEY_VALID = dt.timedelta(days=14)
# A number written back counts as the answer this long after the question went out.
SCORE_WITHIN = dt.timedelta(days=7)
# Platforms stamp the citizen's reply with their own clock: a little before ours is fine.
CLOCK_SKEW = dt.timedelta(minutes=2)
SALT = "sotong.inbox.survey"
MAX_COMMENT = 2000
CITIZEN = Actor.system("citizen")

logger = logging.getLogger(__name__)


# -- the organisation's options -------------------------------------------------------------


def options(organisation_id: int) -> InboxSettings:
    """The organisation's inbox settings (the defaults when it never changed them)."""
    found = InboxSettings.objects.filter(organisation_id=organisation_id).first()
    return found or InboxSettings(organisation_id=organisation_id)


def may_change_options(by: Performer) -> bool:
    return isinstance(by, Actor) or any(
        by.can(capability)
        for capability in (Capability.ASSIGN_CASES, Capability.MANAGE_ORGANISATION)
    )


@transaction.atomic
def update_options(
    by: Performer,
    organisation: Organisation,
    *,
    ask_satisfaction_by_message: bool,
    survey_link_in_replies: bool,
) -> InboxSettings:
    """Change the organisation's satisfaction options (the PR office, administrators)."""
    if isinstance(by, Staff) and (
        by.organisation_id != organisation.pk or not may_change_options(by)
    ):
        raise PermissionDenied("not allowed to change inbox settings")
    found, _created = InboxSettings.objects.select_for_update().get_or_create(
        organisation=organisation
    )
    fields = ("ask_satisfaction_by_message", "survey_link_in_replies")
    before = audit.snapshot(found, fields)
    found.ask_satisfaction_by_message = ask_satisfaction_by_message
    found.survey_link_in_replies = survey_link_in_replies
    after = audit.snapshot(found, fields)
    if before == after:
        return found
    found.updated_by = by if isinstance(by, Staff) else None
    found.save()
    audit.record(
        actor_of(by), "inbox.settings", found, organisation=organisation, before=before, after=after
    )
    return found


# -- the survey and its link -----------------------------------------------------------------


def survey_for(case: Case) -> SatisfactionSurvey:
    """The case's survey, made on first need."""
    survey, _created = SatisfactionSurvey.objects.get_or_create(
        case=case,
        defaults={
            "organisation_id": case.organisation_id,
            "expires_at": timezone.now() + SURVEY_VALID,
        },
    )
    return survey


def token_for(survey: SatisfactionSurvey) -> str:
    """The survey page's token: signed with the server's secret, so it cannot be guessed
    or altered (a case number alone would let anyone answer for anyone)."""
    # Deterministic (no timestamp; the expiry is the survey's): the same survey always has
    # the same link, so a reply can be checked for it.
    return signing.Signer(salt=SALT).sign_object({"s": survey.pk})


def survey_from_token(token: str) -> SatisfactionSurvey | None:
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):  # ValueError: not even the token's shape
        return None
    survey_id = payload.get("s") if isinstance(payload, dict) else None
    if not isinstance(survey_id, int):
        return None
    return (
        SatisfactionSurvey.objects.select_related("case__organisation", "case__channel")
        .filter(pk=survey_id)
        .first()
    )


def survey_url(survey: SatisfactionSurvey) -> str:
    path = reverse("inbox:survey", args=[token_for(survey)])
    return settings.SOTONG_PUBLIC_URL.rstrip("/") + path


def _citizen_words(text: str, **params: object) -> str:
    """Words for the citizen: in the city's language, whatever the staff page is in."""
    with translation.override(settings.LANGUAGE_CODE):
        return _(text) % params


def _fits(message: Message, text: str) -> bool:
    from sotong.publishing.adapt import platform_length

    limit = message.channel.connector_class.limits.max_length
    return limit is None or platform_length(message.channel.kind, text) <= limit


def with_survey_link(case: Case, message: Message, text: str) -> str:
    """``text`` with the survey link added when the organisation wants it, the case has
    not been rated yet, and the link still fits the platform's length. Off by default:
    in a public reply anyone reading the thread can open the link (the only way to ask
    on a channel without private messages), and staff can correct a score they doubt."""
    if not options(case.organisation_id).survey_link_in_replies or case.satisfaction:
        return text
    survey = survey_for(case)
    if survey.answered_at is not None:
        return text
    url = survey_url(survey)
    if url in text:
        return text  # resubmitted with the link kept
    combined = text + "\n\n" + _citizen_words(SURVEY_LINE, url=url)
    return combined if _fits(message, combined) else text


SURVEY_LINE = gettext_noop("How satisfied are you with this answer? Tell us here: %(url)s")
QUESTION = gettext_noop(
    "%(city)s: did our answer help you? Please reply with a number from 1 (very "
    "dissatisfied) to 5 (very satisfied); a few words on why are welcome."
)


def reply_sent(answer: Reply, case: Case) -> None:
    """A reply went out (``actions._sent``, in its transaction, with the case locked):
    the question was asked, or the link sent; after an answer on a private conversation,
    ask the satisfaction question there. Never fails the caller: undoing the record of a
    reply the platform took would send it twice."""
    try:
        with transaction.atomic():
            _reply_sent(answer, case)
    except Exception as error:  # noqa: BLE001 - the reply stays recorded as sent
        logger.warning("reply %s: satisfaction not asked (%s)", answer.pk, type(error).__name__)


def _reply_sent(answer: Reply, case: Case) -> None:
    now = answer.sent_at or timezone.now()
    survey = SatisfactionSurvey.objects.filter(case=case).first()
    if answer.purpose == ReplyPurpose.SURVEY:
        if survey is not None and survey.asked_at is None:
            survey.asked_at = now
            survey.save(update_fields=["asked_at"])
        return
    if survey is not None and survey.answered_at is None and survey_url(survey) in answer.text:
        # The page answers for 14 days from when the citizen got the link.
        survey.link_sent_at = now
        survey.expires_at = now + SURVEY_VALID
        survey.save(update_fields=["link_sent_at", "expires_at"])
    _ask_by_message(answer, case)


def _ask_by_message(answer: Reply, case: Case) -> Reply | None:
    from sotong.inbox import actions

    message = answer.message
    if message.kind != MessageKind.MESSAGE or "private" not in actions.reply_modes(message):
        return None
    settings_ = options(case.organisation_id)
    if not settings_.ask_satisfaction_by_message or case.satisfaction:
        return None
    if Reply.objects.filter(case=case, purpose=ReplyPurpose.SURVEY).exists():
        return None  # asked once per case
    survey = survey_for(case)
    if survey.answered_at is not None:
        return None
    text = _citizen_words(QUESTION, city=case.organisation.name)
    if settings_.survey_link_in_replies:
        with_link = text + "\n" + _citizen_words(SURVEY_LINE, url=survey_url(survey))
        text = with_link if _fits(message, with_link) else text
    question = Reply.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        message=message,
        text=text,
        public=False,
        purpose=ReplyPurpose.SURVEY,
        # Held like the answer where KakaoTalk cannot reach the citizen now.
        state=actions.ready_state(message),
    )
    actions._event(
        actions.SYSTEM, case, CaseEventKind.SATISFACTION_ASKED, data={"reply": question.pk}
    )
    actions._audit(
        actions.SYSTEM,
        "satisfaction.ask",
        question,
        case,
        after={"case": case.pk, "survey": survey.pk, "state": question.state},
    )
    actions._release(question)
    return question


# -- answers ---------------------------------------------------------------------------------


class SurveyClosed(Exception):
    """The survey page no longer takes answers (expired)."""


def is_open(survey: SatisfactionSurvey, now: dt.datetime | None = None) -> bool:
    return (now or timezone.now()) < survey.expires_at


@transaction.atomic
def answer_survey(survey: SatisfactionSurvey, score: int, comment: str = "") -> Case:
    """The citizen's answer on the survey page: once, and before it expires."""
    from sotong.inbox import actions

    survey = SatisfactionSurvey.objects.select_for_update().select_related("case").get(pk=survey.pk)
    if not is_open(survey):
        raise SurveyClosed
    return actions.record_satisfaction(
        CITIZEN, survey.case, score, comment, source=SurveyAnswerSource.PAGE
    )


_FILLER = re.compile(
    r"^(?:(?:네|넵|넹|예|음+|저는|제\s*점수는|점수는|만족도는?|평가는?|별점은?)\s*[,.:!~]*\s*)+"
)
_OUT_OF = re.compile(r"^(5|10|100)\s*점?\s*만점에\s*(\d{1,3})\s*점?")
_NUMBER = re.compile(r"^([1-5])(?:\s*(점)|\s*/\s*5\s*점?)?")
_STARS = re.compile(r"^[★⭐☆]{1,5}")
# The words of the scale, the longest first (매우 불만족 before 불만족 before 만족).
_WORDS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern), score)
    for pattern, score in (
        (r"^(?:매우|아주|너무|정말|진짜|완전)\s*불만족?", 1),
        (r"^전혀\s*만족", 1),
        (r"^최악", 1),
        (r"^불만족?", 2),
        (r"^별로", 2),
        (r"^보통", 3),
        (r"^그저\s*그래", 3),
        (r"^(?:매우|아주|너무|정말|진짜|완전)\s*만족", 5),
        (r"^대만족", 5),
        (r"^최고", 5),
        (r"^만족", 4),
    )
)
# "만족 못해요", "만족스럽지 않아요": the word negated a little after it.
_NEGATED = re.compile(r"^[가-힣]*\s*(?:못|않|안\s|안(?:해|했|돼|됐|되))")
# What completes "5점" in speech and is not a comment: 5점이요, 5점 드려요, 5점입니다.
_COMPLETION = re.compile(
    r"^(?:이요|요|입니다|이에요|예요|이예요|드려요|드립니다|드릴게요|줄게요|줄께요|주고\s*싶어요|"
    r"만점|짜리)?[\s.,!~^)ㅎㅋ]*"
)


# After a bare number, a counter word makes it a count: 1 주일, 2 번째, 3 시, 10 분.
_COUNTED = re.compile(
    r"^\s*(?:주일|주|번째|번|시간|시|분|일|개월|달|년|층|명|개|차|회|동|호|살|세|km|m)"
)
# What makes a follow-up a new request, not a comment on the answer: a question, or
# the matter still not settled. Such a message reopens the case even after a score.
_REQUEST = re.compile(
    r"\?|나요|까요|는지|[인은던]가요|언제|며칠|왜|어떻게|문의|아직|그대로|다시|또\s|여전히|"
    r"안\s*돼|안\s*됐|안\s*되|안\s*고|못\s*하|처리가|주세요|주시기|바랍니다|부탁"
)


def looks_like_a_request(text: str) -> bool:
    """Whether a citizen's words ask for something or say the matter is not settled."""
    return bool(_REQUEST.search(text))


def _comment(rest: str) -> str:
    rest = _COMPLETION.sub("", rest.strip(), count=1)
    return rest.strip(" \t\n.,!~")


def parse_score(text: str) -> tuple[int, str] | None:
    """A satisfaction score at the start of what a citizen wrote, and the rest as the
    comment; None when the text does not start with one. Conservative: a follow-up that
    is a new question ("3번 출구가 막혔어요", "10시에 갔는데요") is not a score."""
    # NFKC: ⑤ and a full-width ５ are 5; the keycap emoji 5️⃣ loses its marks.
    plain = unicodedata.normalize("NFKC", text).replace("\ufe0f", "").replace("\u20e3", "")
    plain = _FILLER.sub("", plain.strip())
    if not plain:
        return None
    out_of = _OUT_OF.match(plain)
    if out_of:
        scale, given = int(out_of.group(1)), int(out_of.group(2))
        if not 1 <= given <= scale:
            return None
        return max(1, min(5, round(given / scale * 5))), _comment(plain[out_of.end() :])
    stars = _STARS.match(plain)
    if stars:
        filled = sum(1 for char in stars.group(0) if char != "☆")
        return (filled, _comment(plain[stars.end() :])) if filled else None
    number = _NUMBER.match(plain)
    if number:
        rest = plain[number.end() :]
        # 5점 is a score whatever follows; a bare 5 only before a space, punctuation or
        # the end (not 5시, 3번, 1층, 2.5, 45).
        if number.group(2) or not rest or re.match(r"[\s.,!~)^ㅎㅋ]", rest):
            if re.match(r"\.\d", rest):
                return None
            if not number.group(2) and _COUNTED.match(rest):
                return None  # "1 주일째", "2 번째", "3 시에": a count, not a score
            return int(number.group(1)), _comment(rest)
        return None
    for pattern, score in _WORDS:
        word = pattern.match(plain)
        if word is None:
            continue
        rest = plain[word.end() :]
        negated = _NEGATED.match(rest)
        if negated:
            rest = rest[negated.end() :]
            score = 2 if score >= 4 else score
        # The rest of the word's own phrase (합니다, 해요, 스러워요) is not the comment.
        return score, _comment(re.sub(r"^[가-힣]*", "", rest))
    return None


def take_score(case: Case, text: str, at: dt.datetime) -> bool:
    """What a citizen wrote on ``case`` at ``at``: if it answers the satisfaction question
    asked within the last 7 days ("5", "5점", "⑤", "5 친절했어요", "매우 만족"), record it
    and return True, so the caller does not reopen the case with it. False otherwise
    (no question asked, too late, answered already, or not a score)."""
    from sotong.inbox import actions

    survey = SatisfactionSurvey.objects.filter(case_id=case.pk).first()
    if survey is None or survey.asked_at is None or survey.answered_at is not None:
        return False
    if not survey.asked_at - CLOCK_SKEW <= at <= survey.asked_at + SCORE_WITHIN:
        return False
    found = parse_score(text)
    if found is None:
        return False
    score, comment = found
    if looks_like_a_request(comment):
        # "1점이요, 아직 안 고쳐졌어요": a complaint that the case must answer, not only
        # a score; recorded as a message, and it reopens the case.
        return False
    try:
        actions.record_satisfaction(
            CITIZEN, case, score, comment[:MAX_COMMENT], source=SurveyAnswerSource.MESSAGE
        )
    except ValidationError:
        return False  # answered meanwhile (on the page): this is an ordinary message then
    return True


# -- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Average:
    score: float | None
    answers: int

    @property
    def display(self) -> str:
        return "" if self.score is None else f"{self.score:.1f}"


def average(cases: QuerySet[Case]) -> Average:
    """The average satisfaction of the rated ``cases`` and how many were rated."""
    rated = Case.objects.filter(pk__in=cases.values("pk"), satisfaction__isnull=False)
    figures = rated.aggregate(score=Avg("satisfaction"), answers=Count("pk"))
    score = figures["score"]
    return Average(float(score) if score is not None else None, int(figures["answers"] or 0))
