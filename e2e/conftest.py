"""Browser tests: Playwright driving Debian's chromium against a real gunicorn server
started with `sotong serve` in production mode on a fresh database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DEMO_PASSWORD = "sotong-demo-2026"


@dataclass
class Server:
    url: str
    env: dict[str, str]
    simulator_url: str = ""

    def sotong(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sotong", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {
        **os.environ,
        "SOTONG_ENV": "production",
        "SOTONG_SECRET_KEY": "e2e-" + "k" * 60,
        "SOTONG_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SOTONG_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SOTONG_HTTPS": "false",
        "SOTONG_DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'sotong.sqlite3'}",
        "SOTONG_WEB_WORKERS": "2",
        "LANG": "C.UTF-8",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    simulator_port = _free_port()
    env["SOTONG_SIMULATOR_URL"] = f"http://127.0.0.1:{simulator_port}"
    server = Server(
        url=f"http://127.0.0.1:{port}", env=env, simulator_url=env["SOTONG_SIMULATOR_URL"]
    )
    server.sotong("demo", "--no-serve")
    log = (data / "server.log").open("w")
    simulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sotong",
            "simulate",
            "--port",
            str(simulator_port),
            "--sotong-url",
            server.url,
            "--citizens-per-minute",
            "0",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "sotong", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _wait_for(f"{server.url}/healthz", process, data)
    _wait_for(f"{server.simulator_url}/_control/state", simulator, data)
    yield server
    for child in (process, simulator):
        child.terminate()
        child.wait(timeout=30)
    log.close()


def _wait_for(url: str, process: subprocess.Popen[bytes], data: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError((data / "server.log").read_text())
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer:\n" + (data / "server.log").read_text())
        time.sleep(0.2)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(
        locale="ko-KR",
        timezone_id="Asia/Seoul",
        base_url=server.url,
        viewport={"width": 1280, "height": 900},
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    # The staff UI must work with no outside resources: fail on any request that leaves
    # Sotong and its platform simulator.
    outside: list[str] = []
    allowed = (server.url, server.simulator_url, "data:")
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(allowed) else None
        ),
    )
    yield page
    context.close()
    assert outside == [], f"requests left the server: {outside}"


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("아이디").fill(username)
    page.get_by_label("비밀번호").fill(password)
    page.get_by_role("button", name="로그인").click()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
