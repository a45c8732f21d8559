"""Commands for the multi-process dispatch test, run as subprocesses against its database.

python -m sotong.publishing.tests.dispatch_helper setup FACEBOOK_API_BASE COUNT SPREAD
python -m sotong.publishing.tests.dispatch_helper dispatch SECONDS
python -m sotong.publishing.tests.dispatch_helper states
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sotong.settings")
    import django

    django.setup()
    from django.db.models import Count
    from django.utils import timezone

    from sotong.publishing import dispatch
    from sotong.publishing.models import Publication

    command = sys.argv[1]
    if command == "setup":
        from django.core.management import call_command

        from sotong.channels import actions as channel_actions
        from sotong.core import actions as core_actions
        from sotong.core.audit import Actor
        from sotong.core.models import Department
        from sotong.platforms.base import Credentials
        from sotong.publishing.models import Post, PostStatus, Variant
        from sotong.simulator.facebook import DEMO_ACCOUNTS

        call_command("migrate", interactive=False, verbosity=0)
        actor = Actor.system("tests")
        city = core_actions.create_organisation(
            actor,
            slug="suncheon",
            name="순천시",
            departments=[core_actions.DepartmentSpec("pr", "홍보담당관", "officer")],
        )
        account = DEMO_ACCOUNTS[0]
        channel = channel_actions.connect_channel(
            actor,
            city,
            kind="facebook",
            name=account.name,
            account_id=account.account_id,
            credentials=Credentials(access_token=account.token),
            api_base=sys.argv[2],
            verify=False,
        )
        count, spread = int(sys.argv[3]), float(sys.argv[4])
        start = timezone.now()
        for number in range(count):
            post = Post.objects.create(
                organisation=city,
                department=Department.objects.get(organisation=city),
                title=f"공지 {number}",
                body="본문",
                status=PostStatus.APPROVED,
            )
            variant = Variant.objects.create(
                organisation=city, post=post, channel=channel, text=f"경주 공지 {number:04d}"
            )
            Publication.objects.create(
                organisation=city,
                variant=variant,
                channel=channel,
                due_at=start + dt.timedelta(seconds=spread * number / count),
            )
    elif command == "dispatch":
        result = dispatch.dispatch_for(float(sys.argv[2]))
        print(json.dumps(dataclasses.asdict(result)))
    elif command == "states":
        states = dict(Publication.objects.values_list("state").annotate(n=Count("id")))
        claimers = sorted(set(Publication.objects.values_list("claimed_by", flat=True)))
        print(json.dumps({"states": states, "claimers": claimers}))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
