"""Escalations per second through the SQLite enquiry store.

`EnquiryStore.create` on a fresh temporary database, the way `UserService.ask` stores an
escalated question (with the matcher's candidates and reason): first one after another,
then from concurrent asyncio tasks, as several users' handlers would. Afterwards the rows
are counted with a separate connection, so every enquiry timed is known to be stored.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Context, SectionResult, ms, percentile, progress
from bot.decision import Candidate
from bot.storage import Storage
from bot.storage.records import Asker

CONCURRENT_TASKS = 10
CANDIDATES = (
    Candidate("lgotp-schedule", "LGOTP training timeline", 52.4),
    Candidate("lgotp-arrival", "When trainees arrive", 48.9),
    Candidate("lgotp-duration", "How long LGOTP lasts", 41.0),
)


async def _create(store: Storage, number: int, latencies: list[int]) -> None:
    asker = Asker(
        user_id=100_000 + number % 500,
        chat_id=100_000 + number % 500,
        name=f"Benchmark user {number % 500}",
        username=f"bench{number % 500}",
        language="en",
    )
    text = f"what is the application deadline for lgotp {number}? we are a city in the region"
    start = time.perf_counter_ns()
    await store.enquiries.create(asker, text, CANDIDATES, "the knowledge base does not cover")
    latencies.append(time.perf_counter_ns() - start)


async def _sequential(path: Path, count: int) -> tuple[float, list[int]]:
    store = await Storage.open(path)
    latencies: list[int] = []
    try:
        start = time.perf_counter()
        for number in range(count):
            await _create(store, number, latencies)
        elapsed = time.perf_counter() - start
    finally:
        await store.close()
    return elapsed, latencies


async def _concurrent(path: Path, count: int, tasks: int) -> tuple[float, list[int]]:
    store = await Storage.open(path)
    latencies: list[int] = []

    async def worker(first: int) -> None:
        for number in range(first, count, tasks):
            await _create(store, number, latencies)

    try:
        start = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for first in range(tasks):
                group.create_task(worker(first))
        elapsed = time.perf_counter() - start
    finally:
        await store.close()
    return elapsed, latencies


def _stored(path: Path) -> int:
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT count(*) FROM enquiries").fetchone()
    return int(row[0])


def _figures(count: int, elapsed: float, latencies: list[int], stored: int) -> dict[str, Any]:
    return {
        "enquiries": count,
        "stored": stored,
        "seconds": round(elapsed, 3),
        "per_s": round(count / elapsed, 1),
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
    }


def run(context: Context) -> SectionResult:
    """Stored escalations per second, sequential and with concurrent tasks."""
    count = context.options.escalations
    folder = context.workdir / "store"
    folder.mkdir(exist_ok=True)
    progress(f"escalations: {count:,} sequential")
    path = folder / "sequential.sqlite3"
    elapsed, latencies = asyncio.run(_sequential(path, count))
    sequential = _figures(count, elapsed, latencies, _stored(path))
    progress(f"escalations: {count:,} from {CONCURRENT_TASKS} concurrent tasks")
    path = folder / "concurrent.sqlite3"
    elapsed, latencies = asyncio.run(_concurrent(path, count, CONCURRENT_TASKS))
    concurrent = _figures(count, elapsed, latencies, _stored(path))
    rows = [
        (
            name,
            f"{f['enquiries']:,}",
            f"{f['stored']:,}",
            f"{f['seconds']:.2f}",
            f"{f['per_s']:,.0f}",
            f"{f['p50_ms']:.2f}",
            f"{f['p99_ms']:.2f}",
        )
        for name, f in (
            ("sequential", sequential),
            (f"{CONCURRENT_TASKS} concurrent tasks", concurrent),
        )
    ]
    return SectionResult(
        title="Escalations: EnquiryStore.create on a temporary SQLite file (WAL)",
        header=("mode", "enquiries", "stored", "seconds", "per s", "p50 ms", "p99 ms"),
        rows=rows,
        notes=[
            f"database in {folder} (set TMPDIR to measure another disk); p50/p99 per "
            "enquiry include waiting for the store's write lock when concurrent; "
            "escalations_per_s in the JSON is the lower of the two rates."
        ],
        figures={
            "escalations_per_s": min(sequential["per_s"], concurrent["per_s"]),
            "escalations": {"sequential": sequential, "concurrent": concurrent},
        },
    )
