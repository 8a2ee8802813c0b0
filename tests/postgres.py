"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, a free port on
127.0.0.1, no system service; stopped and removed at the end of the session.

`make test` installs PostgreSQL from Debian's packages when it is missing and it can
(tests/setup-postgres); when no server can be had, `unavailable()` says why in one line and
the PostgreSQL variants of the tests are skipped with it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

#: Where Debian puts the server's programs (newest version first), besides PATH.
_DEBIAN = "/usr/lib/postgresql/*/bin"


def _binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    found = shutil.which("pg_ctl")
    if found:
        folder = Path(found).resolve().parent
        if (folder / "initdb").exists():
            return folder
    for name in sorted(glob.glob(_DEBIAN), reverse=True):
        if (Path(name) / "initdb").exists():
            return Path(name)
    return None


def _runner() -> list[str]:
    """initdb refuses to run as root: as root, the server runs as the user postgres."""
    if os.geteuid() != 0:
        return []
    with contextlib.suppress(KeyError):
        pwd.getpwnam("postgres")
        return ["runuser", "-u", "postgres", "--"]
    raise RuntimeError("running as root, and there is no user postgres to run the server as")


def unavailable() -> str | None:
    """Why no server can be started here, or None when one can."""
    if _binaries() is None:
        return "PostgreSQL is not installed (initdb and pg_ctl not found)"
    try:
        _runner()
    except RuntimeError as exc:
        return str(exc)
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One server; `database()` hands out a new empty database for each test."""

    def __init__(self) -> None:
        folder = _binaries()
        assert folder is not None, unavailable()
        self._bin = folder
        self._run = _runner()
        self._root = Path(tempfile.mkdtemp(prefix="clair-pg-"))
        self.port = free_port()
        self._count = 0
        self.data = self._root / "data"
        if self._run:
            shutil.chown(self._root, "postgres")
        self._call("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self._root} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._call(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self._root / "log"),
            "start",
        )

    def _call(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self._run, str(self._bin / program), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self._root,
        )

    def url(self, database: str = "postgres") -> str:
        """The URL of one of the server's databases."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database's URL."""
        self._count += 1
        name = f"test_{os.getpid()}_{self._count}"
        subprocess.run(
            [
                str(self._bin / "psql"),
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-c",
                f"CREATE DATABASE {name}",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._call("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._root, ignore_errors=True)
