"""`sotong audience import --channel ID FILE.csv`: the same import as the page's."""

from __future__ import annotations

import pytest
from django.utils import translation

from sotong import cli
from sotong.audience.models import AudienceDay
from sotong.channels import actions as channel_actions
from sotong.conftest import SYSTEM
from sotong.core.models import AuditEntry
from sotong.platforms.base import Credentials


@pytest.fixture(autouse=True)
def _keep_the_language():
    # The CLI activates the operator's locale for the whole process.
    language = translation.get_language()
    yield
    translation.activate(language)


@pytest.fixture
def kakao(city):
    return channel_actions.connect_channel(
        SYSTEM,
        city,
        kind="kakao",
        name="순천시 카카오톡",
        account_id="bot-1",
        credentials=Credentials(),
        verify=False,
    )


def test_import_a_file(kakao, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("USER", "ops")
    path = tmp_path / "친구.csv"
    path.write_bytes("날짜,친구 수,신규,차단\r\n2026-03-01,10000,12,3\r\n".encode("cp949"))
    cli.main(["audience", "import", "--channel", str(kakao.pk), str(path)])
    assert (
        capsys.readouterr().out == "순천시 카카오톡: 1 days imported (2026-03-01 to 2026-03-01)\n"
    )
    assert AudienceDay.objects.get(channel=kakao).followers == 10_000
    assert AuditEntry.objects.get(action="audience.import").actor_label == "cli:ops"


def test_a_bad_file_or_channel_fails_with_the_reasons(kakao, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    path = tmp_path / "bad.csv"
    path.write_text("날짜,친구 수\n2026-03-01,many\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        cli.main(["audience", "import", "--channel", str(kakao.pk), str(path)])
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        "sotong: error: nothing imported:\n2번째 줄, 친구 수: “many”은(는) 정수가 아닙니다.\n"
    )
    with pytest.raises(SystemExit):
        cli.main(["audience", "import", "--channel", "999", str(path)])
    assert "no channel with id 999" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["audience", "import", "--channel", str(kakao.pk), str(tmp_path / "none.csv")])
    assert "cannot read" in capsys.readouterr().err
    assert not AudienceDay.objects.exists()
