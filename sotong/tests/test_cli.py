"""The `sotong` command: clear one-line errors, organisation creation, the demo."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from cryptography.fernet import Fernet

pytestmark = pytest.mark.multiprocess


def one_line_error(result: subprocess.CompletedProcess, code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sotong: ")
    assert text in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_environment_variable(run_sotong) -> None:
    result = run_sotong("check", check=False, env={"SOTONG_DEBUG": "perhaps"})
    one_line_error(result, 2, "SOTONG_DEBUG must be true or false")


def test_unsafe_production_configuration(run_sotong) -> None:
    result = run_sotong("serve", check=False, env={"SOTONG_ENV": "production"})
    one_line_error(result, 2, "unsafe production configuration")


def test_unreachable_database_hides_the_password(run_sotong) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    url = f"postgres://sotong:hunter2@127.0.0.1:{port}/sotong"
    for command in (["worker"], ["migrate"]):
        result = run_sotong(*command, check=False, env={"DATABASE_URL": url})
        one_line_error(result, 3, "database")
        assert "hunter2" not in result.stderr


def test_missing_migrations_are_reported(run_sotong) -> None:
    for command in ("serve", "worker", "scheduler", "check"):
        result = run_sotong(command, check=False)
        one_line_error(result, 3, "unapplied migrations: run `sotong migrate`")


def test_createorg_with_departments_and_admin(run_sotong, tmp_path) -> None:
    run_sotong("migrate", "--verbosity", "0")
    departments = tmp_path / "departments.json"
    departments.write_text(
        '[{"code": "bureau", "name": "건설국", "kind": "bureau"},'
        ' {"code": "sewer", "name": "하수과", "kind": "division", "parent": "bureau"}]',
        encoding="utf-8",
    )
    result = run_sotong(
        "createorg", "yeosu", "여수시", "--departments", str(departments), "--admin", "yeosu-admin"
    )
    assert "created 여수시 (yeosu) with 2 departments" in result.stdout
    assert "yeosu-admin can sign in with the password:" in result.stdout
    again = run_sotong("createorg", "yeosu", "여수시", check=False, env={"LANG": "C.UTF-8"})
    one_line_error(again, 2, "already exists")
    korean = run_sotong("createorg", "yeosu", "여수시", check=False, env={"LANG": "ko_KR.UTF-8"})
    one_line_error(korean, 2, "같은 식별자의 기관이 이미 있습니다")
    missing = run_sotong(
        "createorg", "mokpo", "목포시", "--departments", "/nonexistent.json", check=False
    )
    one_line_error(missing, 2, "cannot read departments")


def test_genkey_prints_a_usable_key(run_sotong) -> None:
    key = run_sotong("genkey").stdout.strip()
    Fernet(key.encode())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_demo_runs_everything_and_stops_cleanly_on_ctrl_c(run_sotong, tmp_path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as output:
        demo = subprocess.Popen(
            [sys.executable, "-m", "sotong", "demo", "--port", str(port)],
            env=run_sotong.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline, log.read_text()
            assert demo.poll() is None, log.read_text()
            text = log.read_text()
            if "started on queues" in text and "is active" in text:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
            time.sleep(0.3)
        login = httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
        assert "소통" in login.text
        static = httpx.get(f"http://127.0.0.1:{port}/static/vendor/htmx/htmx.min.js", timeout=5)
        assert static.status_code == 200
        # Ctrl-C goes to the whole foreground process group.
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=60)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    output = log.read_text()
    assert demo.returncode == 0, output
    assert "Sotong is running at" in output
    assert "sotong-demo-2026" in output
    assert "Traceback" not in output
    assert "stopped" in output.splitlines()[-1]
    # Everything is gone: nothing answers on the port.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)

    # A second run finds the demo city already there and changes nothing.
    again = run_sotong("demo", "--no-serve")
    assert again.returncode == 0


def test_channels_list_and_check_against_the_simulator(run_sotong, tmp_path) -> None:
    """The demo city's channels, listed and checked against a running simulator."""
    import json

    from sotong.simulator import demo_world
    from sotong.simulator.core import RunningSimulator, Simulator

    running = RunningSimulator(Simulator(seed=1)).start()
    try:
        demo_world.populate(running.simulator, sotong_url="http://127.0.0.1:1")
        env = {"SOTONG_SIMULATOR_URL": running.url}
        run_sotong("demo", "--no-serve", env=env)
        listed = json.loads(run_sotong("channels", "list", "--json", env=env).stdout)
        assert {row["platform"] for row in listed} >= {"facebook"}
        assert all(row["api"].startswith(running.url) for row in listed)
        checked = run_sotong("channels", "check", "--json", env=env)
        rows = json.loads(checked.stdout)
        facebook = next(row for row in rows if row["platform"] == "facebook")
        assert facebook["check"] == "ok"
        assert "EAAB" not in checked.stdout
        # Comments that no webhook delivered are collected by a poll.
        page = running.simulator["facebook"]
        running.simulator.webhook_targets.clear()
        first_post = next(iter(page.pages["104220000000001"].post_ids))
        page.citizen_comment(first_post, "6011", "박시민", "주차장은 어디에 있나요?")
        polled = json.loads(run_sotong("channels", "poll", "--json", env=env).stdout)
        facebook = next(row for row in polled if row["platform"] == "facebook")
        assert (facebook["poll"], facebook["new_events"]) == ("ok", 1)
        # A revoked token fails the check: exit 1 and one line naming the count.
        page.revoke_token(demo_world.demo_accounts()[0].token)
        failed = run_sotong("channels", "check", check=False, env=env)
        assert failed.returncode == 1
        assert "channels failed the check" in failed.stderr
        table = run_sotong("channels", "list", env=env).stdout
        assert "needs_reconnect" in table
    finally:
        running.stop()


def test_simulate_serves_the_demo_world_and_stops_on_sigterm(run_sotong, tmp_path) -> None:
    port = free_port()
    log = tmp_path / "simulate.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sotong",
                "simulate",
                "--port",
                str(port),
                "--citizens-per-minute",
                "0",
            ],
            env=run_sotong.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                state = httpx.get(f"http://127.0.0.1:{port}/_control/state", timeout=2).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert "facebook" in state["platforms"]
        assert any(target.startswith("facebook:") for target in state["webhook_targets"])
        view = httpx.get(f"http://127.0.0.1:{port}/view/facebook", timeout=5).text
        assert "국화" in view  # the city's history is there
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_text_fit_counts_as_the_platform_does(run_sotong) -> None:
    import json

    fits = run_sotong(
        "text", "fit", "--channel", "x", input="순천만 🌼 https://www.suncheon.go.kr\n"
    )
    assert json.loads(fits.stdout) == {"weighted_length": 33, "limit": 280, "fits": True}
    long = run_sotong("text", "fit", "--channel", "x", input="가" * 141)
    assert json.loads(long.stdout) == {"weighted_length": 282, "limit": 280, "fits": False}
    band = run_sotong("text", "fit", "--channel", "band", input="공지")
    assert json.loads(band.stdout) == {"weighted_length": 2, "limit": None, "fits": True}
    unknown = run_sotong("text", "fit", "--channel", "myspace", input="x", check=False)
    assert unknown.returncode == 2
    assert "unknown channel kind 'myspace'" in unknown.stderr


def test_publish_due_runs_one_dispatch_round(run_sotong) -> None:
    import json

    run_sotong("migrate", "--verbosity", "0")
    result = run_sotong("publish", "due")
    assert json.loads(result.stdout)["claimed"] == 0


def test_votes_parse_reads_each_comment_as_a_vote(run_sotong, tmp_path) -> None:
    import json

    options = tmp_path / "options.json"
    options.write_text(json.dumps(["순천愛소식", "꽃누리", "순천人"], ensure_ascii=False))
    comments = ["2번이요!!", "꽃누리", "②", "2번 3번", "", "7번", "2번이 뭐예요?", "꼿누리요\r"]
    result = run_sotong(
        "votes", "parse", "--options", str(options), input="\n".join(comments) + "\n"
    )
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"option": 2, "reason": "number"},
        {"option": 2, "reason": "name"},
        {"option": 2, "reason": "circled"},
        {"option": None, "reason": "several"},
        {"option": None, "reason": "empty"},
        {"option": None, "reason": "out_of_range"},
        {"option": None, "reason": "question"},
        {"option": 2, "reason": "near_name"},
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read {path}: No such file or directory"),
        ('["꽃누리", ', "{path} is not JSON: Expecting value (line 1, column 9)"),
        ('{"options": ["꽃누리"]}', "{path} must hold a JSON list of option names, not an object"),
        ("[]", "{path}: no options"),
        ('["꽃누리", "꽃 누리!"]', "{path}: options 1 and 2 are the same name"),
        ('["꽃누리", 2]', "{path}: option 2 is not text: 2"),
    ],
)
def test_votes_parse_refuses_a_bad_options_file(run_sotong, tmp_path, content, message) -> None:
    path = tmp_path / "options.json"
    if content is not None:
        path.write_text(content)
    result = run_sotong("votes", "parse", "--options", str(path), input="2번\n", check=False)
    one_line_error(result, 2, message.format(path=path))
    assert result.stdout == ""


def test_votes_parse_stops_at_a_line_that_is_not_utf8(tmp_path) -> None:
    import json

    options = tmp_path / "options.json"
    options.write_text('["1안", "2안", "3안"]')
    completed = subprocess.run(
        [sys.executable, "-m", "sotong", "votes", "parse", "--options", str(options)],
        input=b"2\xec\x95\x88\n\xff\xfe\n3\n",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert "line 2 on stdin is not UTF-8" in completed.stderr.decode()
    assert [json.loads(line) for line in completed.stdout.decode().splitlines()] == [
        {"option": 2, "reason": "name"}
    ]
