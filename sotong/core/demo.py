"""The demo city: an organisation modelled on Suncheon (순천시) with ten departments and
staff in every role. Idempotent: running it again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from django.contrib.auth import get_user_model
from django.db import transaction

from sotong.core import actions
from sotong.core.audit import Actor
from sotong.core.models import Department, Organisation, Staff
from sotong.core.roles import Role

DEMO_SLUG = "suncheon"
DEMO_PASSWORD = "sotong-demo-2026"  # noqa: S105 - printed to the operator; demo runs on loopback


def load_department_specs(source: str | None = None) -> list[actions.DepartmentSpec]:
    """Department specs from a JSON file (list of {code, name, kind, parent?, aliases?,
    duties?});
    by default the Suncheon template shipped with Sotong."""
    if source is None:
        text = (
            resources.files("sotong.core")
            .joinpath("fixtures/suncheon-departments.json")
            .read_text("utf-8")
        )
    else:
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
    rows = json.loads(text)
    return [
        actions.DepartmentSpec(
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            parent_code=row.get("parent"),
            aliases=tuple(row.get("aliases", ())),
            duties=tuple(row.get("duties", ())),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    display_name: str
    role: str
    department_code: str | None


# Department staff: one author and one responder in each of the ten divisions.
_DEPARTMENT_PEOPLE = {
    "mayor-office": ("pr", "김소통", "이홍보"),
    "civil-service": ("civil", "박민원", "최봉사"),
    "welfare-policy": ("welfare", "정복지", "강나눔"),
    "tourism": ("tourism", "조관광", "윤여행"),
    "culture-arts": ("culture", "장문화", "임예술"),
    "environment": ("env", "한환경", "오맑음"),
    "parks": ("parks", "서정원", "신녹지"),
    "traffic": ("traffic", "권교통", "황버스"),
    "roads": ("roads", "송도로", "안포장"),
    "sewerage": ("sewer", "홍하수", "문배관"),
}


def demo_staff() -> list[DemoStaff]:
    people = [
        DemoStaff("admin", "관리자", Role.ADMIN, None),
        DemoStaff("viewer", "시장비서실", Role.VIEWER, None),
    ]
    for code, (prefix, author, responder) in _DEPARTMENT_PEOPLE.items():
        if code == "mayor-office":
            # The PR office edits and approves for the whole city.
            people.append(DemoStaff(f"{prefix}.editor", author, Role.PR_EDITOR, code))
            people.append(DemoStaff(f"{prefix}.editor2", responder, Role.PR_EDITOR, code))
        else:
            people.append(DemoStaff(f"{prefix}.author", author, Role.DEPARTMENT_AUTHOR, code))
            people.append(
                DemoStaff(f"{prefix}.responder", responder, Role.DEPARTMENT_RESPONDER, code)
            )
    return people


def seed_demo(progress: Callable[[str], None] = lambda step: None) -> Organisation:
    """Create the demo city if it is not there yet; return it."""
    actor = Actor.system("demo")
    with transaction.atomic():
        organisation = Organisation.objects.filter(slug=DEMO_SLUG).first()
        if organisation is None:
            progress("organisation")
            organisation = actions.create_organisation(
                actor,
                slug=DEMO_SLUG,
                name="순천시",
                name_en="Suncheon City",
                departments=load_department_specs(),
            )
        departments = {d.code: d for d in Department.objects.filter(organisation=organisation)}
        _fill_duties(actor, departments)
        user_model = get_user_model()
        for person in demo_staff():
            progress(person.username)
            if Staff.objects.filter(user__username=person.username).exists():
                continue
            department = departments[person.department_code] if person.department_code else None
            actions.add_staff(
                actor,
                organisation,
                username=person.username,
                display_name=person.display_name,
                role=person.role,
                department=department,
                password=DEMO_PASSWORD,
            )
            if person.role == Role.ADMIN:
                user_model._default_manager.filter(username=person.username).update(
                    is_staff=True, is_superuser=True
                )
        seed_demo_channels(organisation, actor, progress)
        from sotong.faq.demo import seed_demo_faq

        seed_demo_faq(organisation, actor, progress)
        from sotong.participation.demo import seed_demo_poll

        seed_demo_poll(organisation, actor, progress)
    return organisation


def _fill_duties(actor: Actor, departments: dict[str, Department]) -> None:
    """Give a demo city made before departments had duties the template's; duties someone
    has set are kept."""
    for spec in load_department_specs():
        department = departments.get(spec.code)
        if department is not None and spec.duties and not department.duties:
            actions.set_department_duties(actor, department, "\n".join(spec.duties))


def simulator_url() -> str:
    import os

    return os.environ.get("SOTONG_SIMULATOR_URL", "http://127.0.0.1:8100").rstrip("/")


def seed_demo_channels(
    organisation: Organisation, actor: Actor, progress: Callable[[str], None] = lambda step: None
) -> None:
    """The demo city's channels, pointing at the platform simulator (`sotong simulate`)."""
    from sotong.channels import actions as channel_actions
    from sotong.channels.models import Channel
    from sotong.platforms.base import Credentials
    from sotong.simulator.demo_world import demo_accounts

    for account in demo_accounts():
        progress(account.kind)
        if Channel.objects.filter(
            organisation=organisation, kind=account.kind, account_id=account.account_id
        ).exists():
            continue
        channel = channel_actions.connect_channel(
            actor,
            organisation,
            kind=account.kind,
            name=account.name,
            account_id=account.account_id,
            credentials=Credentials(
                access_token=account.token,
                refresh_token=account.refresh_token,
                extra=dict(account.extra),
            ),
            api_base=f"{simulator_url()}/{account.kind}",
            verify=False,
        )
        # Fixed so the simulator's webhooks find it without any set-up.
        Channel.objects.filter(pk=channel.pk).update(webhook_secret=account.webhook_secret)
