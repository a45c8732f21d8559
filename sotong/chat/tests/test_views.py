"""The chat's staff pages: the conversations, a transcript with the hand back to the bot,
and the chatbot settings, with who may see and change what."""

from __future__ import annotations

from django.test import Client

from sotong.chat.models import ChatSession, ChatSettings, Owner
from sotong.core.models import AuditEntry
from sotong.core.roles import Role


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def menu_post(rows: list[tuple[str, str, str]], **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "greeting": "",
        "consent_text": "",
        "retention_years": 3,
        "idle_minutes": 30,
        "menu-TOTAL_FORMS": len(rows),
        "menu-INITIAL_FORMS": 0,
        "menu-MIN_NUM_FORMS": 0,
        "menu-MAX_NUM_FORMS": 9,
        **fields,
    }
    for n, (label, action, value) in enumerate(rows):
        data[f"menu-{n}-label"] = label
        data[f"menu-{n}-action"] = action
        data[f"menu-{n}-value"] = value
    return data


def test_the_pr_office_edits_the_menu(city, make_staff, citizen) -> None:
    client = signed_in(make_staff(city, Role.PR_EDITOR))
    page = client.get("/settings/chatbot/")
    assert page.status_code == 200
    assert "민원 접수" in page.content.decode()
    bad = client.post("/settings/chatbot/", menu_post([("행사", "posts", "")]))
    assert bad.status_code == 200
    assert "주제나 캠페인 이름" in bad.content.decode()
    good = client.post(
        "/settings/chatbot/",
        menu_post(
            [("민원 접수", "intake", ""), ("축제 소식", "posts", "축제"), ("", "", "")],
            greeting="반갑습니다, 순천시입니다.",
        ),
    )
    assert good.status_code == 302
    saved = ChatSettings.objects.get(organisation=city)
    assert [item["label"] for item in saved.menu] == ["민원 접수", "축제 소식"]
    assert AuditEntry.objects.filter(action="chat.settings").exists()
    assert citizen("처음으로").labels == ["민원 접수", "축제 소식"]


def test_a_department_author_may_not_change_the_chatbot(city, make_staff) -> None:
    client = signed_in(make_staff(city, Role.DEPARTMENT_AUTHOR, "roads"))
    assert client.get("/settings/chatbot/").status_code == 403
    assert client.post("/settings/chatbot/", menu_post([("x", "intake", "")])).status_code == 403
    assert client.get("/inbox/chats/").status_code == 403


def test_staff_see_who_waits_for_a_person_and_hand_back(city, make_staff, citizen) -> None:
    citizen("제 번호는 010-1234-5678 이에요", user="a")
    citizen("상담원 연결", user="a")
    citizen("처음으로", user="b")
    client = signed_in(make_staff(city, Role.PR_EDITOR))
    listing = client.get("/inbox/chats/?owner=staff").content.decode()
    waiting = ChatSession.objects.get(owner=Owner.STAFF)
    assert f"/inbox/chats/{waiting.pk}/" in listing
    assert ChatSession.objects.exclude(pk=waiting.pk).get().pk not in {
        int(part.split("/")[0]) for part in listing.split("/inbox/chats/")[1:] if part[0].isdigit()
    }
    detail = client.get(f"/inbox/chats/{waiting.pk}/").content.decode()
    assert "010-****-5678" in detail
    assert "1234" not in detail
    handed = client.post(f"/inbox/chats/{waiting.pk}/hand-back/")
    assert handed.status_code == 302
    waiting.refresh_from_db()
    assert waiting.owner == Owner.BOT
    assert AuditEntry.objects.filter(action="chat.hand_back").exists()


def test_a_department_responder_sees_only_conversations_of_its_cases(
    city, make_staff, citizen
) -> None:
    citizen("상담원 연결", user="a")
    session = ChatSession.objects.get()
    client = signed_in(make_staff(city, Role.DEPARTMENT_RESPONDER, "roads"))
    assert client.get(f"/inbox/chats/{session.pk}/").status_code == 404
    assert f"/inbox/chats/{session.pk}/" not in client.get("/inbox/chats/").content.decode()
