"""Webhook replicas on PostgreSQL (issue 15): `make replicas`, and a section of `make bench`.

`make replicas` (``python -m benchmarks.replicas``) is the replica run of tests/replicarun.py
at full size: 300 escalations, each with a follow-up and a staff reply, through three
`clair-bot run --webhook` processes on one PostgreSQL database behind a round-robin proxy,
one replica SIGKILLed mid-burst and started again, every tenth enquiry left for its
reminder. The staff group takes 20 messages a minute and each escalation brings three (the
announcement, the follow-up, the notice of the reply), so it takes 45 minutes or more. It
prints a line a minute, keeps the replicas' logs, and ends with one JSON line; the exit
status is 0 when every check passed.

The `make bench` section drives three replicas with the end-to-end section's closed loop
(benchmarks.endtoend.closed_loop): users ask questions the knowledge base answers (so the
staff group's limit is not in the way), through the fake Bot API's webhook and the proxy;
answers per second and latency, with Telegram's limits as shipped and with them off, beside
one process on SQLite from the end-to-end section.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Context, SectionResult, progress
from benchmarks.endtoend import (
    HEADLINE_USERS,
    SHIPPED,
    UNLIMITED,
    Build,
    Run,
    TimedBotApi,
    answerable_questions,
    closed_loop,
    level_row,
)
from bot.config import load_settings

if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))
from postgres import PostgresServer, unavailable
from replicarun import (
    STAFF_CHAT,
    EscalationRun,
    Plan,
    RecordingBotApi,
    checks,
    queued,
    settings,
)
from replicas import TOKEN, Cluster

REPLICAS = 3
BUILDS = (SHIPPED, UNLIMITED)
#: Each level's users get ids of their own, so no level's chat carries another's history.
LEVEL_STRIDE = 10_000
FIRST_USER = 400_000


# --------------------------------------------------------------------- the bench section
def _bench_settings(context: Context, build: Build) -> dict[str, str]:
    values = {
        "CLAIRBOT_KNOWLEDGE_PATH": str(context.shipped),
        "CLAIRBOT_LIMITS_MESSAGES_PER_MINUTE": "1000000",
        "CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY": "1000000",
    }
    if not build.rate_limited:
        values["CLAIRBOT_TELEGRAM_MAX_MESSAGES_PER_SECOND"] = "0"
        values["CLAIRBOT_TELEGRAM_GROUP_MESSAGES_PER_MINUTE"] = "0"
    return values


async def _measure_build(
    context: Context, server: PostgresServer, build: Build, questions: list[str]
) -> dict[str, Any]:
    """Every level of users against one cluster of replicas for `build`."""
    levels: dict[str, Any] = {}
    api = TimedBotApi(token=TOKEN, webhook_retry=(0.1, 1.0), webhook_timeout=30)
    workdir = context.workdir / "replicas" / build.key
    async with api:
        cluster = Cluster(
            api, server.database(), workdir, REPLICAS, settings=_bench_settings(context, build)
        )
        async with cluster:
            for number, users in enumerate(context.options.e2e_users):
                progress(f"replicas, {build.name}: {users} concurrent user(s)")
                first = FIRST_USER + number * LEVEL_STRIDE
                run: Run = await closed_loop(api, context, users, questions, first)
                levels[str(users)] = run.figures()
        problems = [
            line
            for line in cluster.logs().splitlines()
            if " WARNING " in line or " ERROR " in line or "Traceback" in line
        ]
        levels["log_problems"] = len(problems)
        levels["log_problem_lines"] = problems[:3]
        levels["sigterm_exit"] = cluster.exit_codes
    return levels


async def _measure_all(context: Context, server: PostgresServer) -> dict[str, Any]:
    questions = answerable_questions(context, load_settings(environ={}))
    builds: dict[str, Any] = {}
    for build in BUILDS:
        try:
            builds[build.key] = await _measure_build(context, server, build, questions)
        except (RuntimeError, TimeoutError) as exc:  # a replica would not start
            builds[build.key] = {"error": str(exc).splitlines()[-1][:300]}
    return {"questions": len(questions), "builds": builds}


def run(context: Context) -> SectionResult:
    """Answers per second and latency through three replicas, at each number of users."""
    title = f"{REPLICAS} webhook replicas on PostgreSQL behind a round-robin proxy"
    header = ["build", "users", "answered", "seconds", "per s", "p50 ms", "p99 ms", "max ms"]
    header.append("errors")
    why = unavailable()
    if why is not None:
        return SectionResult(title, header, [], {"replicas": None}, [f"skipped: {why}"])
    server = PostgresServer()
    try:
        measured = asyncio.run(_measure_all(context, server))
    finally:
        server.stop()
    rows, notes = [], []
    for build in BUILDS:
        levels = measured["builds"][build.key]
        if "error" in levels:
            notes.append(f"{build.name}: the replicas did not start: {levels['error']}")
            continue
        for users in context.options.e2e_users:
            figures = levels[str(users)] | {"log_problems": levels["log_problems"]}
            rows.append(level_row(build, figures))
        notes += [f"logged ({build.name}): {line}" for line in levels["log_problem_lines"]]
    notes += [
        f"the end-to-end section's closed loop and {measured['questions']} questions, through "
        "the fake Bot API's webhook (one update a request, each chat's in order) and the "
        f"proxy to {REPLICAS} `clair-bot run --webhook` processes sharing one PostgreSQL "
        "server (fsync off, on this machine); latency = update queued on the fake -> the "
        "answer's sendMessage stored there.",
        f"{SHIPPED.name}: the shipped telegram.max_messages_per_second 30 and "
        "group_messages_per_minute 20, as the replicas enforce them; "
        f"{UNLIMITED.name}: both of Telegram's limits 0.",
        "errors = replies lost / Bot API calls the fake rejected / warnings and errors in "
        "the replicas' logs.",
    ]
    shipped = measured["builds"][SHIPPED.key].get(str(HEADLINE_USERS), {})
    unlimited = measured["builds"][UNLIMITED.key].get(str(HEADLINE_USERS), {})
    figures = {
        "replicas_msgs_per_s": shipped.get("per_s"),
        "replicas_p99_ms": shipped.get("p99_ms"),
        "replicas_unlimited_msgs_per_s": unlimited.get("per_s"),
        "replicas_unlimited_p99_ms": unlimited.get("p99_ms"),
        "replicas": {"count": REPLICAS, **measured},
    }
    return SectionResult(title, header, rows, figures, notes)


# --------------------------------------------------------------------- make replicas
async def replica_run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    plan = Plan(
        escalations=args.escalations,
        kill_after=args.escalations // 2,
        down_s=args.down,
        gap_s=args.gap,
        hold_every=args.hold_every,
        deadline_s=args.deadline,
    )
    server = PostgresServer()
    try:
        api = RecordingBotApi(webhook_retry=(0.1, 2.0), webhook_timeout=30)
        people = EscalationRun(api, plan)
        people.setup()
        async with api:
            cluster = Cluster(
                api, server.database(), workdir, args.replicas, settings=settings(plan)
            )
            async with cluster:
                reporter = asyncio.create_task(report_progress(people, cluster))
                try:
                    complete = await people.run(cluster)
                finally:
                    reporter.cancel()
            result = await checks(people, cluster, complete)
            (workdir / "replicas.log").write_text(cluster.logs())
        return result
    finally:
        server.stop()


async def report_progress(people: EscalationRun, cluster: Cluster) -> None:
    """A line a minute: how far the run is."""
    from bot.storage.database import Database

    database = await Database.open(cluster.database, migrate=False)
    try:
        while True:
            await asyncio.sleep(60)
            api = people.api
            print(
                f"{(time.monotonic() - people.started) / 60:.0f} min: "
                f"{len(people.answered)} of {len(people.users)} enquiries announced, "
                f"{len(api.messages(STAFF_CHAT))} staff-group messages, "
                f"{await queued(database)} in the outbox, {len(api._updates)} updates waiting",
                flush=True,
            )
    finally:
        await database.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replicas", description=__doc__)
    parser.add_argument("--escalations", type=int, default=300, help="distinct users (300)")
    parser.add_argument("--replicas", type=int, default=REPLICAS, help="replicas (3)")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between users (0.05)")
    parser.add_argument(
        "--down", type=float, default=5.0, help="seconds the killed replica stays down (5)"
    )
    parser.add_argument(
        "--hold-every",
        type=int,
        default=10,
        help="every n-th enquiry waits for its reminder before staff answer (10; 0: none)",
    )
    parser.add_argument(
        "--deadline", type=float, default=2 * 3600, help="seconds to wait for the end (2 h)"
    )
    args = parser.parse_args()
    why = unavailable()
    if why is not None:
        print(f"make replicas: PostgreSQL: {why}", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="clair-bot-replicas-"))
    try:
        result = asyncio.run(replica_run(args, workdir))
    except (RuntimeError, TimeoutError) as exc:  # a replica would not start
        print(f"make replicas: {exc}", file=sys.stderr)
        return 1
    print(f"the replicas' logs are kept in {workdir}", flush=True)
    print(json.dumps(result), flush=True)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
