"""deploy/clair-bot.service: what it promises, and that systemd accepts it (issue 10, 7)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "clair-bot.service"
INSTALLED = "/opt/clair-bot"


def service_section() -> dict[str, str]:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(UNIT.read_text())
    return dict(unit["Service"])


def test_the_unit_runs_the_bot_unprivileged_and_stops_it_with_sigterm() -> None:
    service = service_section()
    assert service["DynamicUser"] == "yes"
    assert service["StateDirectory"] == "clair-bot"
    assert service["Environment"] == ("CLAIRBOT_STORAGE_PATH=/var/lib/clair-bot/clair-bot.sqlite3")
    assert service["EnvironmentFile"] == "/etc/clair-bot/env"
    assert service["Restart"] == "on-failure" and service["RestartPreventExitStatus"] == "2"
    assert service["KillSignal"] == "SIGTERM"
    assert service["ExecStart"] == f"{INSTALLED}/.venv/bin/clair-bot run"
    # The comment that says how to install it keeps the token file root's alone.
    assert "install -m 0600 /dev/null /etc/clair-bot/env" in UNIT.read_text()


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here"
)
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    # The unit as installed from this checkout: verify checks that ExecStart exists.
    here = Path(sys.executable).parent / "clair-bot"
    text = UNIT.read_text().replace(f"{INSTALLED}/.venv/bin/clair-bot", str(here))
    unit = tmp_path / "clair-bot.service"
    unit.write_text(text.replace(INSTALLED, str(ROOT)))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify exits 0 on unknown keys and bad values too, and only warns: no output is the bar.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
