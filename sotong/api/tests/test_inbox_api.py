"""The inbox in the API: token or session, department scoping (404 outside), each
operation's happy path and its main refusals with the actions' Korean messages, masked
texts everywhere, and the original words only for allowed staff, with an audit entry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone, translation

from sotong.channels import actions as channels
from sotong.conftest import SYSTEM, department
from sotong.core.models import AuditEntry
from sotong.core.roles import Role
from sotong.faq import actions as faq
from sotong.faq.answers import forget_indexes
from sotong.inbox import actions, ingest, triage
from sotong.inbox.models import Case, CaseStatus, Message, Referral, Reply, ReplyState, RoutingLabel
from sotong.inbox.tests.conftest import channel, comment, page, post  # noqa: F401
from sotong.platforms.base import InboundItem, InboundKind
from sotong.publishing.tests.test_actions import connect
from sotong.simulator.core import Fault, FaultKind

PHONE = "010-9876-5432"


def post_json(client, path, body=None):
    return client.post(path, body or {}, content_type="application/json")


def error_of(response):
    return response.json()["error"]


def korean(text: str) -> str:
    with translation.override("ko"):
        return translation.gettext(text)


def _arrive() -> None:
    ingest.ingest_pending()
    triage.triage_pending()


@pytest.fixture
def cases(city, comment):  # noqa: F811 - the fixture imported above
    """Two citizens' cases: one for 하수도과 (with a phone number), one for 도로과."""
    comment(f"하수구 냄새가 심해요. 연락주세요 {PHONE}", author="6011", name="박시민")
    comment("도로가 파였어요", author="6012", name="김시민")
    _arrive()
    sewer_case, roads_case = Case.objects.order_by("pk")
    actions.assign(SYSTEM, sewer_case, department=department(city, "sewer"))
    actions.assign(SYSTEM, roads_case, department=department(city, "roads"))
    return sewer_case, roads_case


@pytest.fixture
def sewer_case(cases):
    return cases[0]


@pytest.fixture
def responder(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_RESPONDER, "sewer")


@pytest.fixture
def roads_responder(city, make_staff):
    return make_staff(city, Role.DEPARTMENT_RESPONDER, "roads")


def path(case: Case, action: str = "") -> str:
    return f"/api/v1/cases/{case.pk}" + (f"/{action}" if action else "")


# -- auth and scoping ------------------------------------------------------------------------


def test_no_token_is_401_and_a_session_works(city, sewer_case, editor) -> None:
    response = Client().get("/api/v1/cases")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert Client().post(path(sewer_case, "close")).status_code == 401
    session = Client()
    session.force_login(editor.user)
    assert session.get(path(sewer_case)).status_code == 200


def test_department_staff_see_and_act_on_their_departments_cases_only(
    cases, responder, client_for
) -> None:
    sewer_case, roads_case = cases
    client = client_for(responder)
    listed = client.get("/api/v1/cases").json()
    assert [item["id"] for item in listed["items"]] == [sewer_case.pk]
    assert listed["count"] == 1
    for response in (
        client.get(path(roads_case)),
        client.get(path(roads_case, "original")),
        post_json(client, path(roads_case, "notes"), {"text": "제 부서 건이 아닙니다"}),
        post_json(client, path(roads_case, "close")),
        post_json(client, f"/api/v1/messages/{roads_case.messages.get().pk}/hide", {"reason": "x"}),
    ):
        assert response.status_code == 404, response.content
        assert error_of(response) == {
            "code": "not_found",
            "message": korean("Not found."),
            "fields": {},
        }
    roads_case.refresh_from_db()
    assert roads_case.status == CaseStatus.ASSIGNED
    assert client.get(path(sewer_case)).status_code == 200


# -- list and detail ---------------------------------------------------------------------------


def test_the_list_filters_pages_and_shows_masked_text_only(
    city,
    cases,
    editor,
    client_for,
    channel,  # noqa: F811
) -> None:
    sewer_case, roads_case = cases
    client = client_for(editor)
    everything = client.get("/api/v1/cases")
    assert everything.status_code == 200
    body = everything.json()
    assert body["count"] == 2
    assert {item["id"] for item in body["items"]} == {sewer_case.pk, roads_case.pk}
    assert PHONE not in everything.content.decode()
    assert "박시민" not in everything.content.decode()
    sewer = next(item for item in body["items"] if item["id"] == sewer_case.pk)
    assert "하수구 냄새" in sewer["latest_text"]
    assert sewer["department"] == {"id": department(city, "sewer").pk, "name": "하수도과"}
    assert sewer["channel"]["id"] == channel.pk
    assert sewer["citizen"].startswith("#")
    assert sewer["overdue"] is False
    assert sewer["message_count"] == 1
    assert sewer["intent"]

    def ids(**query):
        response = client.get("/api/v1/cases", query)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids(department=department(city, "roads").pk) == [roads_case.pk]
    assert ids(channel=channel.pk, limit=1, offset=1) != ids(channel=channel.pk, limit=1)
    assert ids(status="closed") == []
    assert ids(intent=sewer["intent"])
    assert ids(urgency="urgent") == []
    assert ids(overdue="true") == []
    Case.objects.filter(pk=roads_case.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    assert ids(overdue="true") == [roads_case.pk]
    actions.close(SYSTEM, roads_case)
    assert ids() == [sewer_case.pk]
    assert set(ids(finished="true")) == {sewer_case.pk, roads_case.pk}
    assert ids(status="closed") == [roads_case.pk]
    for bad in ({"status": "nonsense"}, {"limit": 0}, {"limit": 101}, {"urgency": "panic"}):
        response = client.get("/api/v1/cases", bad)
        assert response.status_code == 422, bad
        assert error_of(response)["code"] == "validation_error"


def test_a_case_has_masked_messages_triage_timeline_and_deadline(
    sewer_case, editor, client_for
) -> None:
    response = client_for(editor).get(path(sewer_case))
    assert response.status_code == 200
    detail = response.json()
    assert PHONE not in response.content.decode()
    (message,) = detail["messages"]
    assert "phone" in message["pii_kinds"]
    assert "하수구" in message["text"]
    assert message["reply_modes"] == ["public"]
    assert message["triage"]["triaged_at"] is not None
    assert detail["triage"]["intent"] == message["triage"]["intent"]
    assert detail["triage"]["urgency"] in {"normal", "high", "urgent"}
    assert isinstance(detail["triage"]["reasons"], list)
    for suggestion in detail["triage"]["suggestions"]:
        assert 0 <= suggestion["confidence"] <= 1
    assert [event["kind"] for event in detail["events"]] == ["opened", "message", "assigned"]
    assert detail["events"][2]["data"]["department_name"] == "하수도과"
    assert detail["events"][2]["kind_label"] == korean("Assigned")
    # JSON carries milliseconds.
    deadline = dt.datetime.fromisoformat(detail["deadline"])
    assert abs(deadline - sewer_case.deadline) < dt.timedelta(milliseconds=1)
    assert detail["deadline"].endswith("+09:00")
    assert detail["overdue"] is False
    assert detail["may_see_personal_data"] is True
    assert detail["replies"] == []
    assert detail["referrals"] == []


# -- case operations ---------------------------------------------------------------------------


def test_assign_to_a_department_and_a_person(
    city, sewer_case, editor, responder, roads_responder, client_for
) -> None:
    client = client_for(editor)
    roads = department(city, "roads")
    response = post_json(
        client,
        path(sewer_case, "assign"),
        {"department_id": roads.pk, "assignee_id": roads_responder.pk},
    )
    assert response.status_code == 200, response.content
    assert response.json()["department"]["name"] == "도로과"
    assert response.json()["assignee"] == {
        "id": roads_responder.pk,
        "name": roads_responder.display_name,
    }
    # Someone not in the department is refused with the action's message.
    refused = post_json(
        client, path(sewer_case, "assign"), {"department_id": roads.pk, "assignee_id": responder.pk}
    )
    assert refused.status_code == 400
    assert error_of(refused)["fields"] == {
        "assignee": [korean("This person does not work in the chosen department.")]
    }
    unknown = post_json(client, path(sewer_case, "assign"), {"department_id": 999_999})
    assert unknown.status_code == 400
    assert "department_id" in error_of(unknown)["fields"]
    assert post_json(client, path(sewer_case, "assign"), {}).status_code == 422
    # A department responder answers cases but does not assign them.
    forbidden = post_json(
        client_for(roads_responder), path(sewer_case, "assign"), {"department_id": roads.pk}
    )
    assert forbidden.status_code == 403
    sewer_case.refresh_from_db()
    assert (sewer_case.department, sewer_case.assignee) == (roads, roads_responder)


def test_status_and_kind(sewer_case, editor, responder, client_for) -> None:
    client = client_for(responder)
    moved = post_json(client, path(sewer_case, "status"), {"status": "in_progress"})
    assert moved.status_code == 200
    assert moved.json()["status"] == "in_progress"
    bad = post_json(client, path(sewer_case, "status"), {"status": "nonsense"})
    assert bad.status_code == 400
    assert error_of(bad)["fields"] == {"status": [korean("Unknown status.")]}
    before = sewer_case.deadline
    kind = post_json(client_for(editor), path(sewer_case, "kind"), {"kind": "grievance"})
    assert kind.status_code == 200
    assert kind.json()["kind"] == "grievance"
    assert dt.datetime.fromisoformat(kind.json()["deadline"]) > before
    bad_kind = post_json(client_for(editor), path(sewer_case, "kind"), {"kind": "nonsense"})
    assert error_of(bad_kind)["fields"] == {"kind": [korean("Unknown kind of complaint.")]}
    # Setting the kind is the PR office's.
    assert post_json(client, path(sewer_case, "kind"), {"kind": "other"}).status_code == 403


def test_notes(sewer_case, responder, client_for) -> None:
    client = client_for(responder)
    made = post_json(client, path(sewer_case, "notes"), {"text": "  현장 확인 예정  "})
    assert made.status_code == 201
    assert made.json()["kind"] == "note"
    assert made.json()["text"] == "현장 확인 예정"
    assert made.json()["actor"] == responder.display_name
    empty = post_json(client, path(sewer_case, "notes"), {"text": "   "})
    assert empty.status_code == 400
    assert error_of(empty) == {
        "code": "invalid",
        "message": korean("Write the note."),
        "fields": {"text": [korean("Write the note.")]},
    }
    assert post_json(client, path(sewer_case, "notes"), {}).status_code == 422
    events = client.get(path(sewer_case)).json()["events"]
    assert [event["text"] for event in events if event["kind"] == "note"] == ["현장 확인 예정"]


def test_a_reply_is_stored_then_sent_and_answers_the_case(
    sewer_case,
    responder,
    client_for,
    page,  # noqa: F811
) -> None:
    client = client_for(responder)
    made = post_json(client, path(sewer_case, "reply"), {"text": "다음 주 월요일에 준설합니다."})
    assert made.status_code == 201, made.content
    assert made.json()["state"] == "pending"
    assert made.json()["public"] is True
    assert actions.send_reply(made.json()["id"]) == ReplyState.SENT
    detail = client.get(path(sewer_case)).json()
    assert detail["status"] == "answered"
    assert [(r["text"], r["state"]) for r in detail["replies"]] == [
        ("다음 주 월요일에 준설합니다.", "sent")
    ]
    message = sewer_case.messages.get()
    assert len(page.objects[message.external_id]["replies"]) == 1
    # A comment is answered in public; the action says so.
    private = post_json(client, path(sewer_case, "reply"), {"text": "비공개", "public": False})
    assert private.status_code == 400
    assert list(error_of(private)["fields"]) == ["public"]
    empty = post_json(client, path(sewer_case, "reply"), {"text": " "})
    assert error_of(empty)["fields"] == {"text": [korean("Write the reply.")]}
    other = post_json(client, path(sewer_case, "reply"), {"text": "답", "message_id": 999_999})
    assert other.status_code == 400
    assert Reply.objects.count() == 1


def test_a_reply_on_a_channel_that_cannot_reply_is_refused(city, sim, editor, client_for) -> None:
    band = connect(city, sim, "band")
    channels.record_inbound(
        band,
        [
            InboundItem(
                InboundKind.MESSAGE, "band-dm-1", "문의드립니다", "u-1", conversation_id="c-1"
            )
        ],
    )
    _arrive()
    case = Case.objects.get(channel=band)
    response = post_json(client_for(editor), path(case, "reply"), {"text": "답변드립니다"})
    assert response.status_code == 400
    message = korean("This channel cannot reply through Sotong; answer on the platform.")
    assert error_of(response) == {"code": "invalid", "message": message, "fields": {}}
    assert client_for(editor).get(path(case)).json()["messages"][0]["reply_modes"] == []
    assert not Reply.objects.exists()


def test_a_failed_reply_is_sent_again(sewer_case, sim, editor, client_for) -> None:
    client = client_for(editor)
    sim.simulator.inject(
        "facebook", Fault(FaultKind.TOKEN_REVOKED, count=1, methods=frozenset({"POST"}))
    )
    made = post_json(client, path(sewer_case, "reply"), {"text": "확인 중입니다."}).json()
    assert actions.send_reply(made["id"]) == ReplyState.FAILED
    failed = client.get(path(sewer_case)).json()["replies"][0]
    assert failed["state"] == "failed"
    assert failed["reason"]
    retried = post_json(client, f"/api/v1/replies/{made['id']}/retry")
    assert retried.status_code == 200
    assert retried.json()["state"] == "pending"
    again = post_json(client, f"/api/v1/replies/{made['id']}/retry")
    assert again.status_code == 400
    assert error_of(again)["message"] == korean("Only a failed reply can be sent again.")
    assert post_json(client, "/api/v1/replies/999999/retry").status_code == 404


def test_close_and_reopen(sewer_case, responder, client_for) -> None:
    client = client_for(responder)
    early = post_json(client, path(sewer_case, "reopen"))
    assert early.status_code == 400
    assert error_of(early)["message"] == korean("Only an answered or closed case can be reopened.")
    closed = post_json(client, path(sewer_case, "close"))
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None
    reopened = post_json(client, path(sewer_case, "reopen"))
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "reopened"
    assert reopened.json()["events"][-1]["kind"] == "reopened"


def test_a_referral_is_asked_and_answered_by_the_department(
    city, sewer_case, editor, responder, roads_responder, client_for
) -> None:
    sewer = department(city, "sewer")
    due = (timezone.localtime() + dt.timedelta(days=2)).replace(microsecond=0)
    asked = post_json(
        client_for(editor),
        path(sewer_case, "refer"),
        {"department_id": sewer.pk, "question": "준설 일정?", "due": due.isoformat()},
    )
    assert asked.status_code == 201, asked.content
    referral = asked.json()
    assert (referral["state"], referral["question"]) == ("open", "준설 일정?")
    assert dt.datetime.fromisoformat(referral["due_at"]) == due
    past = post_json(
        client_for(editor),
        path(sewer_case, "refer"),
        {"department_id": sewer.pk, "due": "2020-01-01T09:00:00+09:00"},
    )
    assert error_of(past)["fields"] == {"due_at": [korean("The answer must be due in the future.")]}
    answer_path = f"/api/v1/referrals/{referral['id']}/answer"
    # Another department's responder does not see the referral.
    assert post_json(client_for(roads_responder), answer_path, {"answer": "x"}).status_code == 404
    empty = post_json(client_for(responder), answer_path, {"answer": " "})
    assert error_of(empty)["fields"] == {"answer": [korean("Write the department's answer.")]}
    answered = post_json(client_for(responder), answer_path, {"answer": "다음 주 월요일"})
    assert answered.status_code == 200
    assert answered.json()["state"] == "answered"
    assert answered.json()["answered_by"] == responder.display_name
    assert post_json(client_for(responder), answer_path, {"answer": "또"}).status_code == 400
    detail = client_for(editor).get(path(sewer_case)).json()
    assert detail["status"] == "in_progress"
    assert [r["answer"] for r in detail["referrals"]] == ["다음 주 월요일"]
    assert Referral.objects.count() == 1


def test_hide_a_comment_and_correct_routing(
    city,
    sewer_case,
    editor,
    responder,
    client_for,
    page,  # noqa: F811
) -> None:
    client = client_for(editor)
    message = sewer_case.messages.get()
    hide = f"/api/v1/messages/{message.pk}/hide"
    no_reason = post_json(client, hide, {"reason": " "})
    assert error_of(no_reason)["fields"] == {"reason": [korean("Say why the comment is hidden.")]}
    assert post_json(client_for(responder), hide, {"reason": "욕설"}).status_code == 403
    hidden = post_json(client, hide, {"reason": "욕설"})
    assert hidden.status_code == 200
    assert hidden.json()["hidden_reason"] == "욕설"
    assert page.objects[message.external_id]["is_hidden"] is True
    assert Message.objects.filter(pk=message.pk).exists()
    routing = f"/api/v1/messages/{message.pk}/routing"
    roads = department(city, "roads")
    corrected = post_json(client, routing, {"department_id": roads.pk})
    assert corrected.status_code == 200
    assert corrected.json()["department"]["name"] == "하수도과"  # a label, not an assignment
    assert RoutingLabel.objects.get().unit == "도로과"
    moved = post_json(client, routing, {"department_id": roads.pk, "assign": True})
    assert moved.json()["department"]["name"] == "도로과"
    assert RoutingLabel.objects.count() == 2
    assert post_json(client, routing, {"department_id": 999_999}).status_code == 400


def test_satisfaction(sewer_case, responder, client_for) -> None:
    client = client_for(responder)
    given = post_json(client, path(sewer_case, "satisfaction"), {"score": 4, "comment": "감사"})
    assert given.status_code == 200
    assert (given.json()["satisfaction"], given.json()["satisfaction_comment"]) == (4, "감사")
    bad = post_json(client, path(sewer_case, "satisfaction"), {"score": 6})
    assert error_of(bad)["fields"] == {"score": [korean("Satisfaction is from 1 to 5.")]}
    sewer_case.refresh_from_db()
    assert sewer_case.satisfaction == 4


# -- personal data -----------------------------------------------------------------------------


def test_the_original_is_for_allowed_staff_and_each_look_is_audited(
    city, sewer_case, editor, responder, make_staff, client_for
) -> None:
    for allowed in (editor, responder):
        response = client_for(allowed).get(path(sewer_case, "original"))
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
        body = response.json()
        assert body["handle"] == "6011"
        assert body["name"] == "박시민"
        assert [m["id"] for m in body["messages"]] == [sewer_case.messages.get().pk]
        assert PHONE in body["messages"][0]["text"]
        entry = AuditEntry.objects.get(action="case.view_personal_data", actor_id=allowed.user_id)
        assert entry.target_id == str(sewer_case.pk)
    for refused in (
        make_staff(city, Role.VIEWER),
        make_staff(city, Role.DEPARTMENT_AUTHOR, "sewer"),
    ):
        client = client_for(refused)
        assert client.get(path(sewer_case)).json()["may_see_personal_data"] is False
        response = client.get(path(sewer_case, "original"))
        assert response.status_code == 403
        assert PHONE not in response.content.decode()
        assert not AuditEntry.objects.filter(
            action="case.view_personal_data", actor_id=refused.user_id
        ).exists()


# -- FAQ ---------------------------------------------------------------------------------------


def test_faq_matches_a_text_with_confidence(city, editor, client_for) -> None:
    forget_indexes()
    entry = faq.create_entry(
        SYSTEM,
        city,
        questions=["음식물 쓰레기 배출 요일이 언제인가요?", "음식물 쓰레기 언제 버려요"],
        answer="음식물 쓰레기는 월·수·금 저녁에 배출합니다.",
        department=department(city, "pr"),
    )
    client = client_for(editor)
    response = client.get("/api/v1/faq", {"q": "음식물 쓰레기 언제 버리나요?"})
    assert response.status_code == 200, response.content
    (best, *_rest) = response.json()
    assert best["entry"] == entry.pk
    assert best["answer"] == "음식물 쓰레기는 월·수·금 저녁에 배출합니다."
    assert best["department"]["name"] == "홍보담당관"
    assert 0 < best["confidence"] <= 1
    assert client.get("/api/v1/faq", {"q": "   "}).json() == []
    assert client.get("/api/v1/faq").status_code == 422
    assert client.get("/api/v1/faq", {"q": "a", "k": 50}).status_code == 422
    forget_indexes()
