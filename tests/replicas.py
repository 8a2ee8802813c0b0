"""Webhook replicas as real processes: N `clair-bot run --webhook` on loopback ports sharing
one PostgreSQL database, behind the round-robin proxy (tests/proxy.py), with the fake Bot API
(tests/fakebotapi.py) posting its updates to the proxy as Telegram posts them to a load
balancer. The replica test (tests/test_replicas_e2e.py) and `make replicas` and `make bench`
(benchmarks/replicas.py) run it:

    async with FakeBotApi(...) as api, Cluster(api, database_url, workdir) as cluster:
        cluster.kill(1)            # SIGKILL
        await cluster.restart(1)   # started again, on the same port, and ready
    cluster.exit_codes             # after SIGTERM to all at the end
    cluster.logs()                 # every replica's output, starts and kills marked

The database is migrated (`python -m bot db migrate`) before the replicas start. A replica is
ready when its /readyz answers 200 (the bot has started and the database answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import aiohttp
from fakebotapi import FakeBotApi
from postgres import free_port
from proxy import RoundRobinProxy

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "515151:REPLICA-token-never-printed"
SECRET_TOKEN = "replica-secret_0"
WEBHOOK_PATH = "telegram"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


@dataclass
class Replica:
    """One bot process: its number, port, log, and how often it was started and killed."""

    number: int
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Cluster:
    """``count`` replicas on `database` behind a proxy, with `api` posting to the proxy.

    `settings` are more CLAIRBOT_ variables for every replica (the staff group, limits...).
    """

    api: FakeBotApi
    database: str
    workdir: Path
    count: int = 3
    settings: dict[str, str] = field(default_factory=dict)
    replicas: list[Replica] = field(default_factory=list)
    proxy: RoundRobinProxy | None = None
    exit_codes: list[int | None] = field(default_factory=list)
    kill_times: list[float] = field(default_factory=list)  # time.monotonic() of each SIGKILL

    def environment(self, replica: Replica) -> dict[str, str]:
        """The process's environment: the token, the fake, the database, its port."""
        assert self.proxy is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIRBOT_")}
        env.pop("TELEGRAM_BOT_TOKEN", None)
        return (
            env
            | {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "CLAIRBOT_TELEGRAM_BASE_URL": self.api.base_url,
                "CLAIRBOT_TELEGRAM_BASE_FILE_URL": self.api.base_file_url,
                "CLAIRBOT_STORAGE_URL": self.database,
                "CLAIRBOT_KNOWLEDGE_PATH": str(ROOT / "tests" / "fixtures" / "knowledge"),
                "CLAIRBOT_CONSOLE_ENABLED": "false",
                "CLAIRBOT_WEBHOOK_LISTEN": "127.0.0.1",
                "CLAIRBOT_WEBHOOK_PORT": str(replica.port),
                "CLAIRBOT_WEBHOOK_PATH": WEBHOOK_PATH,
                "CLAIRBOT_WEBHOOK_URL": f"{self.proxy.url}/{WEBHOOK_PATH}",
                "CLAIRBOT_WEBHOOK_SECRET_TOKEN": SECRET_TOKEN,
            }
            | self.settings
        )

    async def __aenter__(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.replicas = [
            Replica(n, free_port(), self.workdir / f"replica-{n}.log") for n in range(self.count)
        ]
        self.proxy = RoundRobinProxy([r.port for r in self.replicas])
        await self.proxy.start()
        try:
            await asyncio.to_thread(self.migrate)
            for replica in self.replicas:
                self._start(replica)
            await asyncio.gather(*(self.ready(r) for r in self.replicas))
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def migrate(self) -> None:
        """`python -m bot db migrate` on the database, as before a deployment."""
        result = subprocess.run(
            [sys.executable, "-m", "bot", "db", "migrate"],
            cwd=ROOT,
            env=self.environment(self.replicas[0]),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"db migrate failed: {result.stdout}{result.stderr}")

    def _start(self, replica: Replica) -> None:
        replica.starts += 1
        with replica.log.open("ab") as log:
            log.write(f"=== start {replica.starts} at {time.monotonic():.3f}\n".encode())
            log.flush()
            replica.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--webhook"],
                cwd=ROOT,
                env=self.environment(replica),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def ready(self, replica: Replica, timeout: float = READY_TIMEOUT_S) -> None:  # noqa: ASYNC109
        """Wait until the replica's /readyz answers 200; RuntimeError if it exits first."""
        url = f"http://127.0.0.1:{replica.port}/readyz"
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while True:
                if not replica.running:
                    raise RuntimeError(
                        f"replica {replica.number} exited ({self._exit(replica)}): "
                        + self.tail(replica)
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(url) as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"replica {replica.number} not ready in {timeout:.0f} s: "
                        + self.tail(replica)
                    )
                await asyncio.sleep(0.1)  # a poll of another process, with a deadline

    def kill(self, number: int) -> None:
        """SIGKILL one replica, as a machine that dies."""
        replica = self.replicas[number]
        assert replica.process is not None and replica.running, f"replica {number} is down"
        replica.process.send_signal(signal.SIGKILL)
        replica.process.wait()
        replica.kills += 1
        self.kill_times.append(time.monotonic())
        with replica.log.open("ab") as log:
            log.write(f"=== SIGKILL at {time.monotonic():.3f}\n".encode())

    async def restart(self, number: int) -> None:
        """Start a killed replica again on its port, and wait until it is ready."""
        replica = self.replicas[number]
        assert not replica.running, f"replica {number} is still running"
        self._start(replica)
        await self.ready(replica)

    async def stop(self) -> None:
        """SIGTERM every replica and wait for each (SIGKILL after STOP_TIMEOUT_S); the fake
        keeps answering meanwhile, as the waits are in threads. Then stop the proxy."""
        running = [r for r in self.replicas if r.running]
        for replica in running:
            assert replica.process is not None
            replica.process.send_signal(signal.SIGTERM)

        def wait(replica: Replica) -> int | None:
            assert replica.process is not None
            try:
                return replica.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()
                return None  # did not stop on SIGTERM

        codes = await asyncio.gather(*(asyncio.to_thread(wait, r) for r in running))
        self.exit_codes = list(codes)
        if self.proxy is not None:
            await self.proxy.stop()

    @staticmethod
    def _exit(replica: Replica) -> int | None:
        return None if replica.process is None else replica.process.returncode

    def tail(self, replica: Replica, lines: int = 15) -> str:
        """The end of a replica's log, for a failure's message."""
        text = replica.log.read_text(errors="replace") if replica.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def logs(self) -> str:
        """Every replica's log, one after another."""
        return "\n".join(
            f"--- replica {r.number} (port {r.port})\n{r.log.read_text(errors='replace')}"
            for r in self.replicas
            if r.log.exists()
        )
