"""deploy/clair-bot.service: what it promises, and that systemd accepts it (issue 10, 7)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings

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


# ------------------------------------------------------- deploy/nginx.conf: the replicas
NGINX = ROOT / "deploy" / "nginx.conf"
PLACEHOLDER_CERT = "/etc/ssl/clair-bot/fullchain.pem"
PLACEHOLDER_KEY = "/etc/ssl/clair-bot/privkey.pem"


def test_nginx_balances_the_webhook_over_the_replicas_and_publishes_their_health_checks() -> None:
    conf = NGINX.read_text()
    servers = re.findall(r"^\s*server (127\.0\.0\.1:\d+)", conf, re.M)
    assert len(servers) >= 2 and len(set(servers)) == len(servers)
    # The first replica's port is config.yaml's webhook.port; the path is webhook.path.
    settings = load_settings(environ={})
    assert servers[0] == f"127.0.0.1:{settings.webhook.port}"
    blocks = dict(re.findall(r"location = (/\w+) \{(.*?)\}", conf, re.S))
    assert set(blocks) == {f"/{settings.webhook.path}", "/healthz", "/readyz"}
    assert all("proxy_pass http://clair_bot_replicas;" in body for body in blocks.values())
    # A POST already sent to a replica is never sent to another one.
    upstream_retry = re.search(r"proxy_next_upstream (.*);", conf)
    assert upstream_retry is not None and "non_idempotent" not in upstream_retry[1]
    # TLS placeholders are named as such.
    assert f"ssl_certificate {PLACEHOLDER_CERT};" in conf and "Placeholder paths" in conf


def throwaway_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate and its key, for the placeholder paths of deploy/."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=bot.example.org", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed here")
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    # The placeholder certificate replaced with a throwaway one, as nginx -t opens it.
    cert, key = throwaway_certificate(tmp_path)
    site = tmp_path / "clair-bot.conf"
    text = NGINX.read_text().replace(PLACEHOLDER_CERT, str(cert))
    site.write_text(text.replace(PLACEHOLDER_KEY, str(key)))
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {site};\n}}\n"
    )
    result = subprocess.run(
        [
            "nginx",
            "-t",
            "-q",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(main),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


# ------------------------------------------------------- deploy/haproxy.cfg: the replicas
HAPROXY = ROOT / "deploy" / "haproxy.cfg"
PLACEHOLDER_PEM = "/etc/ssl/clair-bot/clair-bot.pem"


def test_haproxy_checks_each_replicas_readiness_and_balances_the_webhook_over_them() -> None:
    conf = HAPROXY.read_text()
    servers = re.findall(r"^\s*server \w+ (127\.0\.0\.1:\d+)", conf, re.M)
    # The same replicas as nginx's upstream.
    assert servers == re.findall(r"^\s*server (127\.0\.0\.1:\d+)", NGINX.read_text(), re.M)
    assert "option httpchk GET /readyz" in conf and "http-check expect status 200" in conf
    assert re.search(r"default-server check ", conf)
    settings = load_settings(environ={})
    assert f"acl updates path /{settings.webhook.path}\n" in conf
    # Only a connection never made is tried again elsewhere.
    assert "retry-on conn-failure" in conf
    assert f"crt {PLACEHOLDER_PEM}" in conf and "Placeholder path" in conf


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed here")
def test_haproxy_accepts_the_configuration(tmp_path: Path) -> None:
    cert, key = throwaway_certificate(tmp_path)
    pem = tmp_path / "clair-bot.pem"
    pem.write_text(cert.read_text() + key.read_text())
    conf = tmp_path / "haproxy.cfg"
    conf.write_text(HAPROXY.read_text().replace(PLACEHOLDER_PEM, str(pem)))
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(conf)], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout + result.stderr) == (
        0,
        "Configuration file is valid\n",
    )
