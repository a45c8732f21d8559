"""One turn of the KakaoTalk conversation: what the bot answers to what the citizen said,
given where the conversation stands. Pure decisions on a session object (changed in place)
with reads only; ``actions.converse`` stores the session, the transcript and what goes to the
inbox, and fills in the receipt once the case exists.

The steps: the menu; an FAQ answer and "도움이 되었나요?"; the complaint intake (what →
where → when → photo → consent → confirm); the status of the citizen's own cases; the
hand-off to staff. Words for citizens are in the city's language (settings.LANGUAGE_CODE),
whatever language the staff pages are in.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from sotong.channels.models import Channel
from sotong.chat import sessions
from sotong.chat.models import ChatSession, ChatSettings, MenuAction, Owner, Step
from sotong.chat.sessions import MenuItem
from sotong.inbox.models import FINISHED_STATUSES, Case
from sotong.nlp.normalise import normalise
from sotong.platforms import kakao

TEXT_MAX = kakao.SIMPLE_TEXT_MAX
LABEL_MAX = 14  # quick reply labels beyond this are cut by KakaoTalk (M)
WHAT_MIN = 5
WHERE_MIN = 2
PHOTOS_MAX = 5
CASES_SHOWN = 5
RECENT_TURNS_FOR_STAFF = 6

# Words that work at any step (compared without spaces).
MENU_WORDS = frozenset(
    {
        "처음으로",
        "메뉴",
        "시작",
        "홈",
        "챗봇",
        "처음",
        "안녕",
        "안녕하세요",
        "menu",
        "start",
        "hello",
    }
)
# While staff have the conversation only these give it back to the bot ("안녕하세요" is
# for the person).
BACK_TO_BOT_WORDS = frozenset({"처음으로", "메뉴", "챗봇"})
CANCEL_WORDS = frozenset({"취소", "그만", "접수취소", "cancel"})
HANDOFF_WORDS = frozenset({"상담원연결", "상담원", "상담사연결", "직원연결", "사람연결"})
STATUS_WORDS = frozenset({"처리현황", "접수확인", "처리상황", "민원조회", "내민원"})
POLL_WORDS = frozenset({"투표", "설문", "투표하기", "시민투표"})
HELPED = "도움이 됐어요"
NOT_HELPED = "도움이 안 됐어요"
NO_PHOTO = "사진 없음"
NEXT = "다음"
UNKNOWN_PLACE = "장소 없음"
WHEN_CHOICES = ("방금", "오늘", "어제", "며칠 전")
AGREE = "동의합니다"
DISAGREE = "동의하지 않습니다"
SUBMIT = "접수하기"
REWRITE = "다시 쓰기"
CANCEL = "취소"
HOME = "처음으로"
HANDOFF = "상담원 연결"
STATUS = "처리 현황"
COMPLAIN_THIS = "이 내용으로 접수"
SCORES = ("5점", "4점", "3점", "2점", "1점")
_RECEIPT = re.compile(r"(?:접수\s*번호\s*)?#?\s*(\d{1,12})\s*번?")


@dataclass
class Answer:
    """What the bot says, what happened (for the transcript), and what the inbox gets."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    quick_replies: list[dict[str, Any]] = field(default_factory=list)
    what: str = ""
    # For the inbox: "complaint" (needs a receipt), "handoff", "staff" (a message to staff).
    inbox: str = ""
    inbox_text: str = ""
    inbox_raw: dict[str, Any] = field(default_factory=dict)
    external_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str) -> None:
        self.outputs.append(kakao.simple_text(_fit(text)))

    def offer(self, *labels: str) -> None:
        for label in labels:
            self.quick_replies.append(kakao.quick_reply(_label(label), label))

    @property
    def texts(self) -> list[str]:
        return [
            output["simpleText"]["text"] if "simpleText" in output else f"[{next(iter(output))}]"
            for output in self.outputs
        ]


def _fit(text: str) -> str:
    text = text.strip() or "…"
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def _label(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


@dataclass(frozen=True)
class Heard:
    """What the citizen sent, as the turn needs it."""

    text: str
    images: tuple[str, ...] = ()
    location: dict[str, Any] | None = None
    date: str = ""

    @property
    def compact(self) -> str:
        return _compact(self.text)


def heard_from(request: kakao.SkillRequest) -> Heard:
    location = None
    found = getattr(request, "location", None)
    if found is not None:
        location = {
            "latitude": getattr(found, "latitude", None),
            "longitude": getattr(found, "longitude", None),
            "address": getattr(found, "address", "") or "",
        }
    date = ""
    detail = (request.detail_params or {}).get("sys_date")
    if isinstance(detail, dict):
        date = str(detail.get("origin") or "")
    images = tuple(request.image_urls)
    text = normalise(request.utterance or "").strip()
    if images and text in images:
        text = ""  # a photo arrives with its address as the utterance
    return Heard(text=text, images=images, location=location, date=date)


class Conversation:
    """Decides one turn. ``session`` is changed in place; nothing is written here."""

    def __init__(
        self,
        channel: Channel,
        session: ChatSession,
        settings: ChatSettings,
        heard: Heard,
        *,
        organisation_name: str,
        now: dt.datetime | None = None,
        turn_ref: str = "",
    ) -> None:
        self.channel = channel
        self.session = session
        self.settings = settings
        self.heard = heard
        self.organisation_name = organisation_name
        self.now = now or timezone.now()
        self.menu = sessions.menu_of(settings)
        self.answer = Answer()
        # This request's own id: what a ballot cast in it is stored once under.
        self.turn_ref = turn_ref or uuid.uuid4().hex

    # -- the turn ---------------------------------------------------------------------------

    def run(self) -> Answer:
        session, heard = self.session, self.heard
        if session.owner == Owner.STAFF:
            if self._staff_done():
                session.owner = Owner.BOT
                self.answer.data["returned_to_bot"] = "case finished"
            elif heard.compact in BACK_TO_BOT_WORDS:
                session.owner = Owner.BOT
                self.answer.data["returned_to_bot"] = "citizen"
                self.answer.say(
                    _(
                        "You are back with the chatbot. Your conversation with staff stays open and their answer will reach you here."
                    )
                )
                return self._menu(greet=False)
            else:
                return self._to_staff()
        if self._expired():
            sessions.set_draft(session, None)
            session.step = Step.MENU
            self.answer.say(_("It has been a while, so the unfinished request was cleared."))
        if (score := self._score()) is not None:
            return score
        compact = heard.compact
        if compact in MENU_WORDS:
            return self._menu()
        if compact in HANDOFF_WORDS:
            return self._handoff(asked=True)
        if compact in CANCEL_WORDS:
            return self._cancel()
        if compact in STATUS_WORDS:
            return self._status_list()
        if compact in POLL_WORDS:
            return self._polls()
        item = self._menu_item(compact)
        if item is not None:
            return self._menu_action(item)
        handler = {
            Step.FAQ_FEEDBACK: self._faq_feedback,
            Step.INTAKE_WHAT: self._intake_what,
            Step.INTAKE_WHERE: self._intake_where,
            Step.INTAKE_WHEN: self._intake_when,
            Step.INTAKE_PHOTO: self._intake_photo,
            Step.INTAKE_CONSENT: self._intake_consent,
            Step.INTAKE_CONFIRM: self._intake_confirm,
            Step.STATUS: self._status_choice,
            Step.VOTE: self._vote,
        }.get(Step(session.step))
        if handler is not None:
            return handler()
        if compact == _compact(COMPLAIN_THIS):
            return self._intake_start(prefill=sessions.draft_of(session).get("question", ""))
        if not session.turns and not heard.text:
            return self._menu()
        return self._question()

    def _staff_done(self) -> bool:
        case = self.session.case
        return case is None or case.status in FINISHED_STATUSES

    def _expired(self) -> bool:
        idle = dt.timedelta(minutes=self.settings.idle_minutes or 30)
        return (
            self.session.step != Step.MENU
            and self.session.pk is not None
            and self.session.last_active_at < self.now - idle
        )

    # -- menu ---------------------------------------------------------------------------------

    def _menu(self, *, greet: bool = True) -> Answer:
        session = self.session
        session.step = Step.MENU
        sessions.set_draft(session, None)
        session.misses = 0
        if greet:
            greeting = self.settings.greeting or _(
                "Hello, this is the KakaoTalk channel of %(city)s. How can we help? "
                "Choose below or type your question."
            ) % {"city": self.organisation_name}
            self.answer.say(greeting)
        self.answer.offer(*(item.label for item in self.menu))
        self.answer.what = self.answer.what or "menu"
        return self.answer

    def _menu_item(self, compact: str) -> MenuItem | None:
        for item in self.menu:
            if _compact(item.label) == compact:
                return item
        return None

    def _menu_action(self, item: MenuItem) -> Answer:
        action = item.action
        if action == MenuAction.INTAKE:
            return self._intake_start()
        if action == MenuAction.HANDOFF:
            return self._handoff(asked=True)
        if action == MenuAction.STATUS:
            return self._status_list()
        if action == MenuAction.FAQ:
            return self._faq_browse(item)
        if action == MenuAction.POSTS:
            return self._posts(item)
        if action == MenuAction.POLLS:
            return self._polls()
        self.answer.say(item.value or item.label)
        self.answer.offer(HOME)
        self.answer.what = "text"
        return self.answer

    def _cancel(self) -> Answer:
        if self.session.step.startswith("intake_"):
            self.answer.say(_("The complaint was not sent; what you wrote is deleted."))
            self.answer.what = "intake_cancelled"
        return self._menu(greet=False)

    # -- FAQ ----------------------------------------------------------------------------------

    def _question(self) -> Answer:
        from sotong.chat import understanding

        heard, session = self.heard, self.session
        if not heard.text:
            if heard.images:
                self.answer.say(
                    _("Thank you for the photo. To report a problem with it, choose 민원 접수.")
                )
                self.answer.offer(self._intake_label(), HOME)
                self.answer.what = "photo_alone"
                return self.answer
            return self._menu()
        found = understanding.understand(self.channel.organisation, heard.text)
        best = found.matches[0] if found.matches else None
        if best is not None and best.confident:
            session.step = Step.FAQ_FEEDBACK
            session.faq_entry_id = best.entry_id
            session.misses = 0
            self.answer.say(best.answer)
            self.answer.say(_("Did this help?"))
            self.answer.offer(HELPED, NOT_HELPED, HOME)
            self.answer.what = "faq"
            self.answer.data = {"entry": best.entry_id, "confidence": round(best.confidence, 3)}
            return self.answer
        session.faq_entry_id = None
        if session.pk is None and not found.complaint:
            return self._menu()  # a first hello: what the bot can do, not an apology
        session.misses += 1
        if found.complaint:
            # Sounds like a report of a problem: offer to take it as a complaint, what
            # already filled in with the citizen's words.
            sessions.set_draft(session, {"question": heard.text})
            self.answer.say(
                _("This sounds like something to report. Shall we take it as a complaint?")
            )
            self.answer.offer(COMPLAIN_THIS, HANDOFF, HOME)
            self.answer.what = "complaint_offered"
            return self.answer
        if session.misses >= 2:
            return self._handoff(asked=False)
        if found.matches:
            self.answer.say(
                _(
                    "I am not sure I understood. Is it one of these? Or I can connect you to a person."
                )
            )
            for match in found.matches:
                self.answer.quick_replies.append(
                    kakao.quick_reply(_label(match.question), match.question)
                )
            self.answer.offer(HANDOFF, HOME)
            self.answer.data = {"offered": [match.entry_id for match in found.matches]}
        else:
            self.answer.say(
                _(
                    "Sorry, I could not find an answer. Please write it another way, or I can connect you to a person."
                )
            )
            others = [item.label for item in self.menu if item.action != MenuAction.HANDOFF]
            self.answer.offer(HANDOFF, *others[:8])
        session.step = Step.MENU
        self.answer.what = "faq_miss"
        return self.answer

    def _faq_feedback(self) -> Answer:
        compact = self.heard.compact
        if compact == _compact(HELPED):
            self.session.step = Step.MENU
            self.answer.say(_("Glad it helped. Ask anything else any time."))
            self.answer.offer(*(item.label for item in self.menu))
            self.answer.what = "faq_helped"
            self.answer.data = {"entry": self.session.faq_entry_id}
            return self.answer
        if compact == _compact(NOT_HELPED):
            self.answer.data = {"entry": self.session.faq_entry_id}
            return self._handoff(asked=False)
        self.session.step = Step.MENU
        return self._question()

    def _faq_browse(self, item: MenuItem) -> Answer:
        from sotong.chat import understanding

        questions = understanding.browse(self.channel.organisation, item.value)
        if not questions:
            self.answer.say(
                _(
                    "There is no information here yet. Type your question, or I can connect you to a person."
                )
            )
            self.answer.offer(HANDOFF, HOME)
        else:
            self.answer.say(_("Choose a question, or type your own."))
            for question in questions:
                self.answer.quick_replies.append(kakao.quick_reply(_label(question), question))
            self.answer.offer(HOME)
        self.session.step = Step.MENU
        self.answer.what = "faq_browse"
        return self.answer

    def _posts(self, item: MenuItem) -> Answer:
        from sotong.chat import understanding

        posts = understanding.recent_posts(self.channel.organisation_id, item.value)
        self.session.step = Step.MENU
        self.answer.what = "posts"
        if not posts:
            self.answer.say(_("Nothing has been posted on this yet."))
            self.answer.offer(*(i.label for i in self.menu))
            return self.answer
        self.answer.outputs.append(
            kakao.list_card(
                item.label,
                [
                    kakao.list_item(
                        post.title[: kakao.LIMITS.card_title],
                        post.description,
                        web_url=post.url,
                    )
                    for post in posts
                ],
            )
        )
        self.answer.offer(HOME)
        return self.answer

    # -- complaint intake -----------------------------------------------------------------

    def _intake_label(self) -> str:
        for item in self.menu:
            if item.action == MenuAction.INTAKE:
                return item.label
        return "민원 접수"

    def _intake_start(self, prefill: str = "") -> Answer:
        session = self.session
        draft: dict[str, Any] = {"id": uuid.uuid4().hex, "started": self.now.isoformat()}
        if prefill:
            draft["what"] = prefill
            sessions.set_draft(session, draft)
            return self._ask_where()
        sessions.set_draft(session, draft)
        session.step = Step.INTAKE_WHAT
        self.answer.say(
            _(
                "What is the problem? Please describe it in a sentence or two (e.g. there is a large pothole in the road)."
            )
        )
        self.answer.offer(CANCEL)
        self.answer.what = "intake_what"
        return self.answer

    def _draft(self) -> dict[str, Any]:
        draft = sessions.draft_of(self.session)
        if "id" not in draft:
            draft["id"] = uuid.uuid4().hex
        return draft

    def _intake_what(self) -> Answer:
        draft = self._draft()
        if self.heard.images:
            draft.setdefault("photos", []).extend(self.heard.images[:PHOTOS_MAX])
        if len(self.heard.text) < WHAT_MIN:
            sessions.set_draft(self.session, draft)
            self.answer.say(_("Please describe the problem in a few more words."))
            self.answer.offer(CANCEL)
            self.answer.what = "intake_what"
            return self.answer
        draft["what"] = self.heard.text
        sessions.set_draft(self.session, draft)
        return self._ask_where()

    def _ask_where(self) -> Answer:
        self.session.step = Step.INTAKE_WHERE
        self.answer.say(_("Where is it? Write the address or a landmark, or share your location."))
        self.answer.offer(UNKNOWN_PLACE, CANCEL)
        self.answer.what = "intake_where"
        return self.answer

    def _intake_where(self) -> Answer:
        draft = self._draft()
        heard = self.heard
        if heard.location:
            draft["location"] = heard.location
            draft["where"] = heard.location.get("address") or heard.text
        elif heard.compact == _compact(UNKNOWN_PLACE):
            draft["where"] = ""
        elif len(heard.text) >= WHERE_MIN:
            draft["where"] = heard.text
        else:
            self.answer.say(_("Please write where it is, or choose 장소 없음."))
            self.answer.offer(UNKNOWN_PLACE, CANCEL)
            self.answer.what = "intake_where"
            return self.answer
        sessions.set_draft(self.session, draft)
        self.session.step = Step.INTAKE_WHEN
        self.answer.say(_("When did you see it?"))
        self.answer.offer(*WHEN_CHOICES, CANCEL)
        self.answer.what = "intake_when"
        return self.answer

    def _intake_when(self) -> Answer:
        draft = self._draft()
        when = self.heard.date or self.heard.text
        if not when:
            self.answer.say(_("Please choose or write when you saw it."))
            self.answer.offer(*WHEN_CHOICES, CANCEL)
            self.answer.what = "intake_when"
            return self.answer
        draft["when"] = when[:100]
        sessions.set_draft(self.session, draft)
        return self._ask_photo(draft)

    def _ask_photo(self, draft: dict[str, Any]) -> Answer:
        self.session.step = Step.INTAKE_PHOTO
        photos = len(draft.get("photos", []))
        if photos:
            self.answer.say(
                _("%(count)s photo(s) received. Send more, or choose 다음.") % {"count": photos}
            )
            self.answer.offer(NEXT, CANCEL)
        else:
            self.answer.say(
                _("If you have a photo, send it now (+ button → 앨범). Otherwise choose 사진 없음.")
            )
            self.answer.offer(NO_PHOTO, CANCEL)
        self.answer.what = "intake_photo"
        return self.answer

    def _intake_photo(self) -> Answer:
        draft = self._draft()
        if self.heard.images:
            photos = draft.setdefault("photos", [])
            room = PHOTOS_MAX - len(photos)
            photos.extend(self.heard.images[: max(room, 0)])
            sessions.set_draft(self.session, draft)
            if len(photos) >= PHOTOS_MAX:
                return self._ask_consent()
            return self._ask_photo(draft)
        if self.heard.compact in {_compact(NO_PHOTO), _compact(NEXT)}:
            return self._ask_consent()
        return self._ask_photo(draft)

    def _ask_consent(self) -> Answer:
        self.session.step = Step.INTAKE_CONSENT
        notice = self.settings.consent_text or _(
            "Consent to the collection and use of personal information\n"
            "· Purpose: to receive and handle your complaint and tell you the result\n"
            "· Items: your KakaoTalk user key, what you wrote, the place, photos\n"
            "· Kept for: %(years)s years after the complaint is handled, then deleted\n"
            "You may refuse. Then the chatbot cannot take the complaint; you can still make it "
            "by phone (120) or on the city's website."
        ) % {"years": self.settings.retention_years}
        self.answer.say(notice)
        self.answer.offer(AGREE, DISAGREE)
        self.answer.what = "intake_consent"
        return self.answer

    def _intake_consent(self) -> Answer:
        compact = self.heard.compact
        if compact == _compact(AGREE):
            draft = self._draft()
            draft["consent_at"] = self.now.isoformat()
            sessions.set_draft(self.session, draft)
            return self._ask_confirm(draft)
        if compact == _compact(DISAGREE):
            self.answer.say(
                _(
                    "Without consent the chatbot cannot take the complaint, so what you wrote is deleted. You can make it by phone (120) or on the city's website."
                )
            )
            self.answer.what = "intake_refused"
            return self._menu(greet=False)
        return self._ask_consent()

    def _ask_confirm(self, draft: dict[str, Any]) -> Answer:
        self.session.step = Step.INTAKE_CONFIRM
        self.answer.say(_("Please check your complaint:") + "\n" + summary(draft))
        self.answer.offer(SUBMIT, REWRITE, CANCEL)
        self.answer.what = "intake_confirm"
        return self.answer

    def _intake_confirm(self) -> Answer:
        compact = self.heard.compact
        draft = self._draft()
        if compact == _compact(SUBMIT):
            if "consent_at" not in draft or "what" not in draft:
                return self._intake_start()
            self.answer.inbox = "complaint"
            self.answer.inbox_text = (
                _("[Complaint through the KakaoTalk chatbot]") + "\n" + summary(draft)
            )
            self.answer.inbox_raw = {
                "chat": {"purpose": "complaint", "consent_at": draft["consent_at"]},
                "attachments": [{"kind": "image", "url": url} for url in draft.get("photos", [])],
                **({"location": draft["location"]} if draft.get("location") else {}),
            }
            self.answer.external_id = f"kakao-intake-{draft['id']}"
            self.answer.what = "receipt"
            self.session.step = Step.MENU
            sessions.set_draft(self.session, None)
            # The receipt (case number, deadline) is said once the case exists: actions.
            return self.answer
        if compact == _compact(REWRITE):
            return self._intake_start()
        return self._ask_confirm(draft)

    # -- status -------------------------------------------------------------------------------

    def _own_cases(self) -> list[Case]:
        return list(
            Case.objects.filter(
                channel_id=self.channel.pk, citizen__pseudonym=self.session.citizen_key
            )
            .select_related("department")
            .order_by("-received_at", "-pk")[:CASES_SHOWN]
        )

    def _status_list(self) -> Answer:
        cases = self._own_cases()
        self.answer.what = "status"
        if not cases:
            self.session.step = Step.MENU
            self.answer.say(_("There are no complaints from you on this channel yet."))
            self.answer.offer(self._intake_label(), HOME)
            return self.answer
        self.session.step = Step.STATUS
        lines = [_("Your complaints (newest first). Choose one, or type its receipt number.")]
        lines += [
            _("No. %(number)s · %(status)s · received %(received)s")
            % {
                "number": case.pk,
                "status": case.get_status_display(),
                "received": self._day(case.received_at),
            }
            for case in cases
        ]
        self.answer.say("\n".join(lines))
        self.answer.offer(*(_("No. %(number)s") % {"number": case.pk} for case in cases), HOME)
        return self.answer

    def _status_choice(self) -> Answer:
        match = _RECEIPT.fullmatch(self.heard.text.replace("No.", "").strip())
        if match is None:
            self.session.step = Step.MENU
            return self._question()
        number = int(match.group(1))
        case = next((c for c in self._own_cases() if c.pk == number), None)
        if case is None:
            case = (
                Case.objects.filter(
                    pk=number,
                    channel_id=self.channel.pk,
                    citizen__pseudonym=self.session.citizen_key,
                )
                .select_related("department")
                .first()
            )
        self.session.step = Step.MENU
        self.answer.what = "status_case"
        if case is None:
            # Never says whether the number exists for someone else.
            self.answer.say(
                _("No complaint of yours has receipt number %(number)s.") % {"number": number}
            )
            self.answer.offer(STATUS, HOME)
            return self.answer
        self.answer.say(case_status_text(case))
        self.answer.offer(STATUS, HOME)
        self.answer.data = {"case": case.pk}
        return self.answer

    def _day(self, moment: dt.datetime) -> str:
        return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")

    # -- polls ----------------------------------------------------------------------------------

    def _open_polls(self) -> list[Any]:
        from sotong.participation.models import Poll, PollState

        return [
            poll
            for poll in Poll.objects.for_organisation(self.channel.organisation_id)
            .filter(state=PollState.VOTING, on_kakao=True, closes_at__gt=self.now)
            .order_by("closes_at", "pk")[:CASES_SHOWN]
            if poll.opens_at <= self.now
        ]

    def _polls(self) -> Answer:
        polls = self._open_polls()
        self.answer.what = "polls"
        if not polls:
            self.session.step = Step.MENU
            self.answer.say(_("There is no poll to vote in now."))
            self.answer.offer(HOME)
            return self.answer
        if len(polls) == 1:
            return self._ask_vote(polls[0])
        self.session.step = Step.VOTE
        sessions.set_draft(self.session, {"polls": [poll.pk for poll in polls]})
        self.answer.say(
            _("Polls open now. Choose one:")
            + "\n"
            + "\n".join(f"{number}. {poll.title}" for number, poll in enumerate(polls, start=1))
        )
        self.answer.offer(
            *(f"{number}. {poll.title}" for number, poll in enumerate(polls, start=1)), HOME
        )
        return self.answer

    def _ask_vote(self, poll: Any) -> Answer:
        options = list(poll.options.order_by("position"))
        self.session.step = Step.VOTE
        sessions.set_draft(self.session, {"poll": poll.pk})
        lines = [poll.title, poll.question]
        lines += [f"{option.position}. {option.label}" for option in options]
        lines.append(
            _("Choose below or write the number. Voting closes %(at)s.")
            % {"at": date_format(timezone.localtime(poll.closes_at), "DATETIME_FORMAT")}
        )
        self.answer.say("\n".join(lines))
        self.answer.offer(*(f"{option.position}. {option.label}" for option in options[:9]), HOME)
        self.answer.what = "poll_asked"
        self.answer.data = {"poll": poll.pk}
        return self.answer

    def _vote(self) -> Answer:
        from sotong.participation import actions as participation
        from sotong.participation.models import Poll

        draft = sessions.draft_of(self.session)
        if "polls" in draft:
            match = re.match(r"\s*(\d+)", self.heard.text)
            polls = draft["polls"]
            if match and 1 <= int(match.group(1)) <= len(polls):
                poll = Poll.objects.filter(pk=polls[int(match.group(1)) - 1]).first()
                if poll is not None and poll.is_open(self.now):
                    return self._ask_vote(poll)
            return self._polls()
        poll = Poll.objects.filter(pk=int(draft.get("poll") or 0)).first()
        self.session.step = Step.MENU
        sessions.set_draft(self.session, None)
        if poll is None:
            return self._polls()
        labels = [
            f"{option.position}. {option.label}" for option in poll.options.order_by("position")
        ]
        text = self.heard.text
        if text in labels:
            text = text.split(".", 1)[0]  # the quick reply: "2. 꽃누리" → 2
        ballot, _new = participation.cast_text(
            poll,
            source="kakao",
            identity=self.session.citizen_key,
            source_ref=self.turn_ref,
            text=text,
            cast_at=self.now,
            channel_id=self.channel.pk,
        )
        self.answer.what = "vote"
        self.answer.data = {"poll": poll.pk, "ballot": ballot.pk, "valid": ballot.valid}
        if not ballot.valid:
            self.answer.say(
                _("I could not read a choice in that (%(why)s). Please choose again.")
                % {"why": ballot.detail or ballot.reason}
            )
            return self._ask_vote(poll)
        chosen = ballot.choices[0]
        label = next((name for name in labels if name.startswith(f"{chosen}.")), str(chosen))
        if poll.is_open(self.now):
            self.answer.say(
                _("Your vote for %(option)s is recorded. Thank you!") % {"option": label}
            )
        else:
            self.answer.say(_("Voting has closed, so this vote is kept but not counted."))
        self.answer.offer(*(item.label for item in self.menu))
        return self.answer

    # -- satisfaction -------------------------------------------------------------------------

    def _score(self) -> Answer | None:
        from sotong.inbox import satisfaction

        case = self.session.case
        if self.session.step == Step.STATUS:
            return None  # "3번" picks case 3 here, not a score
        if case is None or not self.heard.text or satisfaction.parse_score(self.heard.text) is None:
            return None
        if not satisfaction.take_score(case, self.heard.text, self.now):
            return None
        self.answer.say(_("Thank you for rating our answer."))
        self.answer.offer(*(item.label for item in self.menu))
        self.answer.what = "score"
        self.answer.data = {"case": case.pk}
        return self.answer

    # -- staff --------------------------------------------------------------------------------

    def _handoff(self, *, asked: bool) -> Answer:
        session = self.session
        session.owner = Owner.STAFF
        session.step = Step.MENU
        session.misses = 0
        session.handed_over_at = self.now
        sessions.set_draft(session, None)
        self.answer.inbox = "handoff"
        self.answer.inbox_text = ""  # the recent transcript, made by actions
        self.answer.inbox_raw = {"chat": {"purpose": "handoff", "asked": asked}}
        self.answer.external_id = f"kakao-handoff-{uuid.uuid4().hex}"
        if not asked:
            self.answer.say(_("I could not answer this well, so I have passed it to a person."))
        self.answer.say(
            _(
                "Connected to staff. They answer here during working hours (%(hours)s). Write anything you want to add."
            )
            % {"hours": self.working_hours()}
        )
        self.answer.offer(HOME)
        self.answer.what = "handoff"
        return self.answer

    def working_hours(self) -> str:
        organisation = self.channel.organisation
        return _("weekdays %(start)s–%(end)s") % {
            "start": organisation.work_start.strftime("%H:%M"),
            "end": organisation.work_end.strftime("%H:%M"),
        }

    def _to_staff(self) -> Answer:
        self.answer.inbox = "staff"
        self.answer.inbox_text = self.heard.text
        self.answer.inbox_raw = {
            "chat": {"purpose": "staff"},
            "attachments": [{"kind": "image", "url": url} for url in self.heard.images],
            **({"location": self.heard.location} if self.heard.location else {}),
        }
        self.answer.say(_("Passed to staff."))
        self.answer.offer(HOME)
        self.answer.what = "staff"
        return self.answer


def summary(draft: dict[str, Any]) -> str:
    lines = [
        _("· What: %(what)s") % {"what": draft.get("what", "")},
        _("· Where: %(where)s") % {"where": draft.get("where") or _("not given")},
        _("· When: %(when)s") % {"when": draft.get("when") or _("not given")},
        _("· Photos: %(count)s") % {"count": len(draft.get("photos", []))},
    ]
    location = draft.get("location") or {}
    if location.get("latitude") is not None and location.get("longitude") is not None:
        lines.insert(
            2,
            _("· Location: %(lat)s, %(lng)s")
            % {"lat": location["latitude"], "lng": location["longitude"]},
        )
    return "\n".join(lines)


def case_status_text(case: Case) -> str:
    from sotong.inbox import deadlines
    from sotong.inbox.models import Reply, ReplyPurpose, ReplyState

    local = timezone.localtime
    lines = [
        _("Receipt No. %(number)s") % {"number": case.pk},
        _("· Status: %(status)s") % {"status": case.get_status_display()},
        _("· Department: %(department)s")
        % {"department": case.department.name if case.department else _("being assigned")},
        _("· Received: %(at)s") % {"at": date_format(local(case.received_at), "DATETIME_FORMAT")},
    ]
    if case.status not in FINISHED_STATUSES:
        lines.append(
            _("· Deadline: %(at)s (%(law)s)")
            % {
                "at": date_format(local(case.deadline), "DATETIME_FORMAT"),
                "law": deadlines.PERIODS[case.kind][1],
            }
        )
    answer = (
        Reply.objects.filter(case=case, state=ReplyState.SENT, purpose=ReplyPurpose.ANSWER)
        .order_by("-sent_at", "-pk")
        .values_list("text", flat=True)
        .first()
    )
    if answer:
        lines.append(_("· Answer: %(text)s") % {"text": answer})
    return "\n".join(lines)
