"""The replica run of issue 15 (tests/replicarun.py), small enough for `make test`: three
`clair-bot run --webhook` processes on one PostgreSQL database behind a round-robin proxy,
7 escalations with a follow-up and a staff reply each, one replica SIGKILLed mid-burst and
started again. The staff group's 21 messages (an announcement, a follow-up and a notice of
the reply for each) take over a minute at 20 a minute, so the 60 s window is exercised.
One run for the module; each test below is one of its checks. Reminders are left to
`make replicas` (benchmarks/replicas.py, the full 300): the reminder job first runs ten
minutes after a start. Skipped, with the reason, where no PostgreSQL server can be had.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from postgres import PostgresServer
from replicarun import EscalationRun, Plan, RecordingBotApi, checks, failed, settings
from replicas import WEBHOOK_PATH, Cluster

PLAN = Plan(escalations=7, kill_after=3, deadline_s=150)


async def replica_run(database: str, workdir: Any) -> dict[str, Any]:
    api = RecordingBotApi(webhook_retry=(0.1, 1.0), webhook_timeout=30)
    run = EscalationRun(api, PLAN)
    run.setup()
    async with api:
        cluster = Cluster(api, database, workdir, settings=settings(PLAN))
        async with cluster:
            complete = await run.run(cluster)
            assert cluster.proxy is not None
            async with aiohttp.ClientSession() as client:
                # Through the load balancer: a post without the secret token is refused, and
                # the health check answers, as the load balancer's own would.
                url = f"{cluster.proxy.url}/{WEBHOOK_PATH}"
                async with client.post(url, json={"update_id": 1}) as response:
                    without_secret = response.status
                async with client.get(f"{cluster.proxy.url}/healthz") as response:
                    health = response.status
        report = await checks(run, cluster, complete)
    report |= {"without_secret": without_secret, "healthz": health, "logs": cluster.logs()}
    return report


@pytest.fixture(scope="module")
def report(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """One replica run for every check of this module."""
    workdir = tmp_path_factory.mktemp("replicas")
    yield asyncio.run(replica_run(postgres_server.database(), workdir))


def shown(report: dict[str, Any]) -> str:
    """The figures and the end of the logs, for a failure's message."""
    figures = {k: v for k, v in report.items() if k != "logs"}
    return f"{figures}\n{report['logs'][-4000:]}"


def test_the_run_finishes_and_nothing_is_lost(report: dict[str, Any]) -> None:
    assert failed(report, "finished") + failed(report, "lost") == [], shown(report)
    assert report["enquiries"] == PLAN.escalations and report["kills"] == 1


def test_nothing_is_handled_or_sent_twice(report: dict[str, Any]) -> None:
    assert failed(report, "twice") == [], shown(report)


def test_each_chats_order_is_kept(report: dict[str, Any]) -> None:
    assert failed(report, "order") == [], shown(report)


def test_the_staff_group_never_takes_more_than_20_messages_in_60_seconds(
    report: dict[str, Any],
) -> None:
    assert report["staff_group_messages"] >= 3 * PLAN.escalations
    assert failed(report, "staff group") == [], shown(report)


def test_every_replica_stops_on_sigterm_and_the_token_is_in_no_log(
    report: dict[str, Any],
) -> None:
    assert failed(report, "stop") == [], shown(report)
    assert report["sigterm_exit"] == [0, 0, 0]


def test_the_balancer_refuses_posts_without_the_secret_and_skips_the_dead_replica(
    report: dict[str, Any],
) -> None:
    assert (report["without_secret"], report["healthz"]) == (401, 200)
    # Updates sent while the replica was down went to the others, and it took its share
    # again once started.
    assert report["proxy"]["refused"] > 0, shown(report)
    assert report["answered_after_restart"] > 0, shown(report)
