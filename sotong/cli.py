"""The `sotong` command: run the system, manage organisations, and every Django command.

sotong demo        set up the demo city and run web server, worker and scheduler
sotong serve       the web server (gunicorn)
sotong worker      run background tasks
sotong scheduler   turn due work into tasks (one active at a time)
sotong createorg   add a municipality
sotong check       check configuration, database and migrations
sotong genkey      print a new encryption key
sotong images sweep        remove stored image files no post refers to (a day old)
sotong pii mask            mask personal information in lines on stdin (JSON lines out)
sotong votes parse         read comments on stdin as votes in a poll (--options FILE.json)
sotong triage train|eval   train the department-routing model, or measure it on a CSV
sotong audience import     record a channel's daily follower figures from a CSV file
sotong rotate-encryption   re-encrypt stored secrets with the first key
sotong <django command>    migrate, createsuperuser, shell, ...
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import NoReturn

OWN_COMMANDS = (
    "channels",
    "publish",
    "images",
    "text",
    "pii",
    "votes",
    "triage",
    "audience",
    "simulate",
    "demo",
    "serve",
    "worker",
    "scheduler",
    "createorg",
    "check",
    "genkey",
    "rotate-encryption",
)


class CliError(Exception):
    """An error the operator can act on; printed as one line, exit status ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1) -> NoReturn:
    raise CliError(message, code)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sotong.settings")
    import django
    from django.utils import translation

    django.setup()
    # Messages from actions follow the operator's locale: Korean under a ko_* locale.
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG", "")
    translation.activate("ko" if locale.startswith("ko") else "en")


def check_database(*, migrated: bool = True) -> None:
    """Fail with one line unless the database answers (and has every migration)."""
    from django.conf import settings
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    where = settings.CONFIG.database_url_for_display
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"cannot connect to the database {where}: {reason}", 3)
    if migrated:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            fail(
                f"the database {where} has {len(pending)} unapplied migrations: run `sotong migrate`",
                3,
            )


def cmd_channels(args: argparse.Namespace) -> None:
    setup_django()
    check_database()
    import json

    from rich.console import Console
    from rich.table import Table

    from sotong.channels import actions
    from sotong.channels.models import Channel, ChannelStatus

    channels = Channel.objects.select_related("organisation", "department").order_by(
        "organisation__slug", "kind", "name"
    )
    if args.org:
        channels = channels.filter(organisation__slug=args.org)
    rows = []
    failed = 0
    for channel in channels:
        row = {
            "organisation": channel.organisation.slug,
            "id": channel.pk,
            "name": channel.name,
            "platform": channel.kind,
            "account": channel.account_id,
            "status": channel.status,
            "department": channel.department.name if channel.department else None,
            "api": channel.api_base or "platform",
            "credential_expires_at": channel.credential_expires_at.isoformat()
            if channel.credential_expires_at
            else None,
            "capabilities": sorted(c.value for c in channel.capabilities),
        }
        if args.action == "check":
            if channel.status == ChannelStatus.PAUSED:
                row["check"] = "paused"
            else:
                result = actions.check_channel(channel)
                channel.refresh_from_db()
                row.update(
                    status=channel.status,
                    check="ok" if result.ok else "failed",
                    detail=result.message,
                    missing_scopes=channel.missing_scopes,
                )
                failed += not result.ok
        elif args.action == "poll":
            if channel.status != ChannelStatus.ACTIVE or not (
                channel.capabilities & actions.POLLABLE
            ):
                row["poll"] = "skipped"
            else:
                polled = actions.poll_channel(channel, now_asked=True)
                row.update(
                    poll="failed" if polled.error else "ok",
                    new_events=polled.new_events,
                    detail=polled.error,
                )
                failed += bool(polled.error)
        rows.append(row)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        table = Table(title="Sotong channels")
        columns = ["organisation", "name", "platform", "account", "status", "api"]
        if args.action == "check":
            columns += ["check", "missing_scopes", "detail"]
        elif args.action == "poll":
            columns += ["poll", "new_events", "detail"]
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(
                *(
                    ", ".join(v)
                    if isinstance(v := row.get(c), list)
                    else str(v if v is not None else "")
                    for c in columns
                )
            )
        # Piped output is not cut to an 80-column terminal.
        Console(width=None if sys.stdout.isatty() else 200).print(table)
    if failed:
        fail(f"{failed} of {len(rows)} channels failed the {args.action}", 1)


def cmd_publish(args: argparse.Namespace) -> None:
    """`sotong publish due`: one dispatch round, as the scheduler runs every few seconds."""
    import dataclasses
    import json

    setup_django()
    check_database()
    from sotong.publishing import dispatch

    result = dispatch.dispatch_due()
    print(json.dumps(dataclasses.asdict(result)))
    if result.failed:
        fail(f"{result.failed} publications failed", 1)


def cmd_images(args: argparse.Namespace) -> None:
    """`sotong images sweep [--dry-run]`: image files left without a post image (a rolled
    back upload) and a day old are removed, or only listed."""
    import json

    setup_django()
    check_database()
    from sotong.publishing import images

    orphans = images.sweep_orphans(dry_run=args.dry_run)
    print(
        json.dumps(
            {
                "dry_run": args.dry_run,
                "orphans": orphans,
                "removed": 0 if args.dry_run else len(orphans),
            },
            ensure_ascii=False,
        )
    )


def cmd_text(args: argparse.Namespace) -> None:
    """`sotong text fit --channel KIND`: the text on stdin measured as that platform counts."""
    import json

    from sotong.platforms.base import connector_classes
    from sotong.publishing import adapt

    kinds = sorted(platform.kind for platform in connector_classes())
    if args.channel not in kinds:
        fail(f"unknown channel kind {args.channel!r}; one of: {', '.join(kinds)}", 2)
    try:
        text = sys.stdin.read()
    except UnicodeDecodeError:
        fail("the text on stdin is not UTF-8", 2)
    # A trailing newline from `echo` or a file is not part of the post.
    fit = adapt.measure(args.channel, text.removesuffix("\n"))
    print(json.dumps(fit.as_json()))


def cmd_triage(args: argparse.Namespace) -> None:
    """`sotong triage train|eval --data FILE.csv`: the department-routing model. Prints
    figures only, never a complaint's text."""
    import json

    from sotong.nlp import routing, routing_eval

    try:
        if args.action == "train":
            out = args.out or str(routing.DEFAULT_PATH)
            count = routing_eval.train(args.data, out)
            print(f"trained on {count} complaints: {out}.npz + {out}.json")
            return
        data = routing_eval.read_complaints(args.data)
        figures = routing_eval.evaluate(data, args.split)
    except OSError as exc:
        fail(f"cannot read {args.data}: {exc.strerror or exc}", 2)
    except ValueError as exc:
        fail(str(exc), 2)
    print(
        f"{figures['complaints']} complaints, {figures['units']} units, split {args.split}\n"
        f"  Sotong:   top-1 {figures['top1']:.3f}  top-3 {figures['top3']:.3f}  "
        f"macro-F1 {figures['macro_f1']:.3f}  prequential top-3 {figures['prequential_top3']:.3f}\n"
        f"  baseline: top-1 {figures['baseline_top1']:.3f}  top-3 {figures['baseline_top3']:.3f}  "
        f"macro-F1 {figures['baseline_macro_f1']:.3f}  "
        f"prequential top-3 {figures['baseline_prequential_top3']:.3f}\n"
        f"  (prequential: each complaint from {figures['prequential_from']} predicted in date "
        "order, then learnt)"
    )
    if args.json:
        keys = ("top1", "top3", "macro_f1", "prequential_top3", "baseline_top1", "baseline_top3")
        print(json.dumps({key: figures[key] for key in keys}))


def cmd_audience(args: argparse.Namespace) -> None:
    setup_django()
    check_database()
    from pathlib import Path

    from django.core.exceptions import ValidationError

    from sotong.audience import actions
    from sotong.channels.models import Channel
    from sotong.core.audit import Actor

    channel = Channel.objects.select_related("organisation").filter(pk=args.channel).first()
    if channel is None:
        fail(f"no channel with id {args.channel} (see `sotong channels list`)")
    try:
        content = Path(args.file).read_bytes()
    except OSError as exc:
        fail(f"cannot read {args.file}: {exc.strerror}")
    actor = Actor("cli:" + os.environ.get("USER", "operator"), source="cli")
    try:
        rows = actions.import_figures(
            actor, channel, content, filename=Path(args.file).name, replace=args.replace
        )
    except ValidationError as error:
        fail("nothing imported:\n" + "\n".join(error.messages))
    print(f"{channel.name}: {len(rows)} days imported ({rows[0].day} to {rows[-1].day})")


def cmd_pii(args: argparse.Namespace) -> None:
    """`sotong pii mask`: each line on stdin → one JSON object with the masked line and
    the spans found, offsets in characters into the input line (its line break excluded)."""
    import json

    from sotong.nlp import pii

    public = pii.PublicNumbers(args.public_number or ())
    out = sys.stdout
    # Lines are split on "\n" only and decoded one by one, so a bad byte names its line,
    # every line before it is already written, and U+2028 inside a line stays inside it.
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            out.flush()
            fail(f"line {number} on stdin is not UTF-8; the lines before it were written", 2)
        line = line.removesuffix("\n").removesuffix("\r")
        result = pii.mask(line, public_numbers=public)
        out.write(
            json.dumps(
                {
                    "masked": result.masked,
                    "spans": [
                        {"kind": span.kind, "start": span.start, "end": span.end}
                        for span in result.spans
                    ],
                },
                ensure_ascii=False,
            )
            + "\n"
        )
        # One answer per line as it comes, for a pipe that stays open.
        out.flush()


def cmd_votes(args: argparse.Namespace) -> None:
    """`sotong votes parse --options FILE.json`: each comment on stdin (one a line) → one
    JSON object ``{"option": N or null, "reason": code}``, N counted from 1."""
    import json

    from sotong.nlp import votes

    try:
        with open(args.options, encoding="utf-8-sig") as handle:
            names = json.load(handle)
    except OSError as exc:
        fail(f"cannot read {args.options}: {exc.strerror or exc}", 2)
    except UnicodeDecodeError:
        fail(f"{args.options} is not UTF-8", 2)
    except json.JSONDecodeError as exc:
        fail(f"{args.options} is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", 2)
    if not isinstance(names, list):
        kinds: dict[type, str] = {dict: "an object", str: "a string", type(None): "null"}
        kind = kinds.get(type(names), type(names).__name__)
        fail(f"{args.options} must hold a JSON list of option names, not {kind}", 2)
    try:
        options = votes.Options(names)
    except votes.OptionsError as exc:
        fail(f"{args.options}: {exc}", 2)
    out = sys.stdout
    # As `pii mask`: split on "\n" only, decode line by line, answer each line at once.
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            out.flush()
            fail(f"line {number} on stdin is not UTF-8; the lines before it were written", 2)
        vote = options.parse(line.removesuffix("\n").removesuffix("\r"))
        out.write(json.dumps({"option": vote.option, "reason": vote.reason}) + "\n")
        out.flush()


def cmd_simulate(args: argparse.Namespace) -> None:
    import logging
    import threading

    from sotong.simulator import citizens, demo_world
    from sotong.simulator.core import RunningSimulator, Simulator

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs each webhook URL it posts to, and those carry the channels' secrets.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    simulator = Simulator(seed=args.seed)
    running = RunningSimulator(simulator, host=args.host, port=args.port)
    if not args.empty:
        demo_world.populate(simulator, sotong_url=args.sotong_url)
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    running.start()
    print(f"platform simulator at {running.url}/ (web view at {running.url}/view/)", flush=True)
    crowd = None
    if args.citizens_per_minute > 0:
        crowd = citizens.Crowd(simulator, per_minute=args.citizens_per_minute, seed=args.seed)
        crowd.start()
    stop.wait()
    if crowd is not None:
        crowd.stop()
    running.stop()
    print("simulator stopped", file=sys.stderr)


def cmd_genkey(args: argparse.Namespace) -> None:
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())


def cmd_check(args: argparse.Namespace) -> None:
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("check", deploy=settings.CONFIG.is_production, fail_level="ERROR")
    check_database()
    print(f"ok: {settings.CONFIG.environment}, database {settings.CONFIG.database_url_for_display}")


def cmd_rotate_encryption(args: argparse.Namespace) -> None:
    setup_django()
    check_database()
    from sotong.core import crypto

    print(f"re-encrypted {crypto.rotate_all()} values with the first key")


def gunicorn_command(
    bind: str, extra: Sequence[str] = (), app: str = "sotong.wsgi:application"
) -> list[str]:
    """Gunicorn with Sotong's server settings (sotong/gunicorn_conf.py)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:sotong.gunicorn_conf",
        "--bind",
        bind,
        *extra,
        app,
    ]


def cmd_serve(args: argparse.Namespace) -> None:
    setup_django()
    check_database()
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
    extra = ["--workers", str(args.workers)] if args.workers else []
    command = gunicorn_command(args.bind, extra)
    os.execv(command[0], command)  # noqa: S606 - replaces this process with gunicorn


def cmd_worker(args: argparse.Namespace) -> None:
    setup_django()
    check_database()
    from sotong.core.worker import run_worker

    run_worker(
        queues=args.queues.split(","),
        interval=args.interval,
        batch=args.batch,
        max_tasks=args.max_tasks,
    )


def cmd_scheduler(args: argparse.Namespace) -> None:
    setup_django()
    check_database()
    from sotong.core import scheduler

    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    scheduler.run(stop, tick=args.tick)


def cmd_createorg(args: argparse.Namespace) -> None:
    setup_django()
    check_database()
    import secrets

    from django.core.exceptions import ValidationError

    from sotong.core import actions
    from sotong.core.audit import Actor
    from sotong.core.demo import load_department_specs
    from sotong.core.roles import Role

    actor = Actor("cli:" + os.environ.get("USER", "operator"), source="cli")
    try:
        specs = load_department_specs(args.departments) if args.departments else []
    except (OSError, ValueError, KeyError) as exc:
        fail(f"cannot read departments from {args.departments}: {exc}", 2)
    try:
        organisation = actions.create_organisation(
            actor, slug=args.slug, name=args.name, name_en=args.name_en, departments=specs
        )
        print(f"created {organisation.name} ({organisation.slug}) with {len(specs)} departments")
        if args.admin:
            password = secrets.token_urlsafe(12)
            actions.add_staff(
                actor,
                organisation,
                username=args.admin,
                display_name=args.admin,
                role=Role.ADMIN,
                password=password,
            )
            print(f"administrator {args.admin} can sign in with the password: {password}")
    except ValidationError as exc:
        fail("; ".join(exc.messages), 2)


def cmd_demo(args: argparse.Namespace) -> None:
    setup_django()
    check_database(migrated=False)
    from django.core.management import call_command
    from rich.console import Console
    from rich.progress import Progress

    from sotong.core.demo import DEMO_PASSWORD, demo_staff, seed_demo

    # The simulator runs beside the web server; the demo channels point at it.
    simulator_port = args.port + 100
    os.environ.setdefault("SOTONG_SIMULATOR_URL", f"http://127.0.0.1:{simulator_port}")
    console = Console(stderr=True)
    with console.status("Applying database migrations…"):
        call_command("migrate", interactive=False, verbosity=0)
    from sotong.simulator.demo_world import demo_accounts

    steps = 1 + len(demo_staff()) + len(demo_accounts())
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("Preparing the demo city (순천시)…", total=steps)
        organisation = seed_demo(lambda step: progress.advance(bar))
    console.print(f"[green]✓[/] {organisation.name}: demo data ready")
    if args.no_serve:
        return
    url = f"http://{args.host}:{args.port}/"
    # Our own interpreter and module only: no outside input reaches these commands.
    children = {
        "simulator": subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "sotong",
                "simulate",
                "--port",
                str(simulator_port),
                "--sotong-url",
                f"http://{args.host}:{args.port}",
            ]
        ),
        "web": subprocess.Popen(gunicorn_command(f"{args.host}:{args.port}")),  # noqa: S603
        "worker": subprocess.Popen([sys.executable, "-m", "sotong", "worker"]),
        "scheduler": subprocess.Popen([sys.executable, "-m", "sotong", "scheduler"]),
    }
    console.print(f"\n[bold]Sotong is running at {url}[/]")
    console.print(
        f"The platform simulator (the city's practice channels) is at http://127.0.0.1:{simulator_port}/view/"
    )
    console.print(
        f"Sign in as [bold]admin[/] (or pr.editor, sewer.author, …) with password [bold]{DEMO_PASSWORD}[/]"
    )
    console.print("Press Ctrl-C to stop.\n")
    supervise(children, console)


def supervise(children: dict[str, subprocess.Popen[bytes]], console: object) -> None:
    """Wait until Ctrl-C/SIGTERM or a child exits, then stop every child cleanly."""
    stopping = threading.Event()
    received: list[int] = []

    def request_stop(signum: int, frame: object) -> None:
        received.append(signum)
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    failed = None
    while not stopping.is_set():
        for name, child in children.items():
            if child.poll() is not None:
                failed = name
                stopping.set()
        stopping.wait(0.5)
    # Ctrl-C reaches the whole process group: the children are already stopping, and a
    # second signal would make a worker abandon the task it is finishing.
    if received[:1] != [signal.SIGINT]:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if failed is not None:
        fail(
            f"the {failed} process stopped unexpectedly (exit {children[failed].returncode}); stopped the rest",
            1,
        )
    print("stopped", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sotong",
        description="Sotong (소통): the citizen-communication hub for city halls.",
        epilog="Any other command is a Django management command (e.g. `sotong migrate`).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="set up the demo city and run everything")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-serve", action="store_true", help="only prepare the database")
    demo.set_defaults(handler=cmd_demo)

    serve = sub.add_parser("serve", help="run the web server (gunicorn)")
    serve.add_argument("--bind", default=os.environ.get("SOTONG_BIND", "127.0.0.1:8000"))
    serve.add_argument("--workers", type=int, default=0, help="web worker processes")
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="run background tasks")
    worker.add_argument("--queues", default="default,platform,maintenance")
    worker.add_argument(
        "--interval", type=float, default=1.0, help="seconds between polls when idle"
    )
    worker.add_argument("--batch", action="store_true", help="exit when the queue is empty")
    worker.add_argument("--max-tasks", type=int, default=None)
    worker.set_defaults(handler=cmd_worker)

    scheduler = sub.add_parser("scheduler", help="turn due work into tasks")
    scheduler.add_argument("--tick", type=float, default=1.0, help="seconds between rounds")
    scheduler.set_defaults(handler=cmd_scheduler)

    createorg = sub.add_parser("createorg", help="add a municipality")
    createorg.add_argument("slug", help="identifier, e.g. suncheon")
    createorg.add_argument("name", help="name, e.g. 순천시")
    createorg.add_argument("--name-en", default="")
    createorg.add_argument(
        "--departments",
        metavar="FILE.json",
        help="departments to create: a JSON list of {code, name, kind, parent?, aliases?}",
    )
    createorg.add_argument("--admin", metavar="USERNAME", help="also create an administrator login")
    createorg.set_defaults(handler=cmd_createorg)

    channels = sub.add_parser(
        "channels",
        help="list the channels, check their credentials, or collect comments and messages now",
    )
    channels.add_argument("action", choices=["list", "check", "poll"])
    channels.add_argument(
        "--json", action="store_true", help="one JSON document instead of a table"
    )
    channels.add_argument("--org", metavar="SLUG", help="only this organisation")
    channels.set_defaults(handler=cmd_channels)

    publish = sub.add_parser("publish", help="publish what is due now (one dispatch round)")
    publish.add_argument("action", choices=["due"])
    publish.set_defaults(handler=cmd_publish)

    images = sub.add_parser(
        "images", help="remove stored image files no post refers to (older than a day)"
    )
    images.add_argument("action", choices=["sweep"])
    images.add_argument(
        "--dry-run", action="store_true", help="list the files that would be removed, keep them"
    )
    images.set_defaults(handler=cmd_images)

    text = sub.add_parser("text", help="measure a text as a platform counts it")
    text.add_argument("action", choices=["fit"])
    text.add_argument("--channel", required=True, metavar="KIND", help="e.g. x, instagram, band")
    text.set_defaults(handler=cmd_text)

    triage = sub.add_parser(
        "triage", help="train the department-routing model, or measure it on complaints"
    )
    triage.add_argument("action", choices=["train", "eval"])
    triage.add_argument(
        "--data",
        required=True,
        metavar="FILE.csv",
        help="complaints CSV: title,date,answer_x,content,answer_y,depart (UTF-8)",
    )
    triage.add_argument(
        "--out",
        metavar="PATH",
        help="train: where to write PATH.npz + PATH.json (default: shipped)",
    )
    triage.add_argument(
        "--split",
        default="kfold:5",
        metavar="date:YYYY-MM-DD|kfold:N",
        help="eval: train before the date and test from it, or N-fold cross-validation",
    )
    triage.add_argument("--json", action="store_true", help="eval: last line is one JSON object")
    triage.set_defaults(handler=cmd_triage)

    audience = sub.add_parser(
        "audience", help="record a channel's daily follower figures from a CSV file"
    )
    audience.add_argument("action", choices=["import"])
    audience.add_argument("--channel", type=int, required=True, metavar="ID")
    audience.add_argument(
        "file", metavar="FILE.csv", help="columns 날짜, 친구 수, 신규, 차단 (UTF-8 or CP949)"
    )
    audience.add_argument(
        "--replace", action="store_true", help="replace figures the platform gave for those days"
    )
    audience.set_defaults(handler=cmd_audience)

    pii_parser = sub.add_parser(
        "pii", help="mask personal information in lines of text on stdin (JSON lines out)"
    )
    pii_parser.add_argument("action", choices=["mask"])
    pii_parser.add_argument(
        "--public-number",
        action="append",
        metavar="NUMBER",
        help="an office number that is not personal and stays (repeatable; "
        "a trailing * covers an exchange, e.g. 061-749-*)",
    )
    pii_parser.set_defaults(handler=cmd_pii)

    votes_parser = sub.add_parser(
        "votes", help="read comments on stdin as votes in a poll (JSON lines out)"
    )
    votes_parser.add_argument("action", choices=["parse"])
    votes_parser.add_argument(
        "--options",
        required=True,
        metavar="FILE.json",
        help="the poll's options: a JSON list of their names, in order (the first is 1)",
    )
    votes_parser.set_defaults(handler=cmd_votes)

    simulate = sub.add_parser("simulate", help="run the platform simulator with synthetic citizens")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=8100)
    simulate.add_argument("--seed", type=int, default=2026)
    simulate.add_argument(
        "--sotong-url",
        default="http://127.0.0.1:8000",
        help="where Sotong receives the simulated platforms' webhooks",
    )
    simulate.add_argument("--citizens-per-minute", type=float, default=6.0)
    simulate.add_argument(
        "--empty", action="store_true", help="start without the demo city's accounts"
    )
    simulate.set_defaults(handler=cmd_simulate)

    sub.add_parser("check", help="check configuration, database and migrations").set_defaults(
        handler=cmd_check
    )
    sub.add_parser("genkey", help="print a new encryption key").set_defaults(handler=cmd_genkey)
    sub.add_parser(
        "rotate-encryption", help="re-encrypt stored secrets with the first key"
    ).set_defaults(handler=cmd_rotate_encryption)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management.base import CommandError
    from django.db import DatabaseError

    from sotong.config import ConfigError

    try:
        if args_list and args_list[0] not in OWN_COMMANDS and not args_list[0].startswith("-"):
            setup_django()
            from django.core.management import execute_from_command_line

            execute_from_command_line(["sotong", *args_list])
            return
        args = build_parser().parse_args(args_list)
        args.handler(args)
    except ConfigError as exc:
        print(f"sotong: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    except ImproperlyConfigured as exc:
        print(f"sotong: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    except CliError as exc:
        print(f"sotong: error: {exc}", file=sys.stderr)
        sys.exit(exc.code)
    except CommandError as exc:
        print(f"sotong: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"sotong: database error: {reason}", file=sys.stderr)
        sys.exit(3)
    except KeyboardInterrupt:
        sys.exit(130)
