"""Storage: writes per second, and p50/p99 per write, through the stores on SQLite (and on
PostgreSQL when a test server can be had).

What one escalation costs the store, the way the bot spends it: the enquiry is created with
its announcement in the outbox (one write), the delivery worker reads what is due, marks the
message sending and then sent (two writes), and the staff side reads the enquiry and its
thread back. Every write is timed on its own; the reads are timed apart. The module uses
only the stores' public methods, so the same run can be pointed at another checkout's
`bot` package to compare (``python -m benchmarks.storage`` run from that checkout).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import Context, SectionResult, progress
from bot.storage import Storage
from bot.storage.records import Asker, Draft, Enquiry, Kind

STAFF_CHAT = -100_123
ROOT = Path(__file__).resolve().parent.parent


def _announce(enquiry: Enquiry) -> Sequence[Draft]:
    return (Draft(Kind.ANNOUNCE, STAFF_CHAT, f"#{enquiry.ref} {enquiry.text}"),)


@dataclass(frozen=True)
class Figures:
    """One run's figures: writes per second (over the time spent in writes), p50 and p99
    of a write and of a read, in milliseconds, and the wall time."""

    writes: int
    writes_per_s: float
    write_p50_ms: float
    write_p99_ms: float
    read_p50_ms: float
    read_p99_ms: float
    wall_s: float


def _percentile(values: Sequence[int], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
    return ordered[index] / 1e6


async def measure(url: str | Path, escalations: int) -> Figures:
    """Run `escalations` escalations through a fresh store at `url`."""
    writes: list[int] = []
    reads: list[int] = []
    started = time.perf_counter()
    store = await Storage.open(url)
    try:
        for number in range(escalations):
            asker = Asker(100_000 + number % 50, 100_000 + number % 50, f"User {number % 50}")
            text = f"what is the application deadline for lgotp {number}?"
            start = time.perf_counter_ns()
            enquiry = await store.enquiries.create(asker, text, (), "not covered", _announce)
            writes.append(time.perf_counter_ns() - start)
            start = time.perf_counter_ns()
            due = await store.outbox.due()
            reads.append(time.perf_counter_ns() - start)
            for item in due:
                start = time.perf_counter_ns()
                await store.outbox.mark_sending(item.id)
                writes.append(time.perf_counter_ns() - start)
                start = time.perf_counter_ns()
                await store.outbox.mark_sent(item, 10_000 + item.id)
                writes.append(time.perf_counter_ns() - start)
            start = time.perf_counter_ns()
            await store.enquiries.get(enquiry.ref)
            await store.enquiries.messages(enquiry.ref)
            reads.append(time.perf_counter_ns() - start)
    finally:
        await store.close()
    return Figures(
        writes=len(writes),
        writes_per_s=len(writes) / (sum(writes) / 1e9),
        write_p50_ms=_percentile(writes, 0.5),
        write_p99_ms=_percentile(writes, 0.99),
        read_p50_ms=_percentile(reads, 0.5),
        read_p99_ms=_percentile(reads, 0.99),
        wall_s=time.perf_counter() - started,
    )


def sqlite(escalations: int) -> Figures:
    """The figures on a fresh SQLite file."""
    with tempfile.TemporaryDirectory(prefix="clair-storage-") as scratch:
        return asyncio.run(measure(Path(scratch) / "bench.db", escalations))


def postgres(escalations: int) -> Figures | str:
    """The figures on a database of a throwaway PostgreSQL server (the tests' own,
    tests/postgres.py), or why no server can be had here."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    from postgres import PostgresServer, unavailable

    why = unavailable()
    if why is not None:
        return why
    server = PostgresServer()
    try:
        return asyncio.run(measure(server.database(), escalations))
    finally:
        server.stop()


def _row(engine: str, f: Figures) -> tuple[str, ...]:
    return (
        engine,
        f"{f.writes:,}",
        f"{f.writes_per_s:,.0f}",
        f"{f.write_p50_ms:.2f}",
        f"{f.write_p99_ms:.2f}",
        f"{f.read_p50_ms:.2f}",
        f"{f.read_p99_ms:.2f}",
    )


def _json(f: Figures) -> dict[str, Any]:
    return {
        "writes": f.writes,
        "writes_per_s": round(f.writes_per_s, 1),
        "write_p50_ms": round(f.write_p50_ms, 3),
        "write_p99_ms": round(f.write_p99_ms, 3),
        "read_p50_ms": round(f.read_p50_ms, 3),
        "read_p99_ms": round(f.read_p99_ms, 3),
    }


def run(context: Context) -> SectionResult:
    """Storage: writes per second and p50/p99 per write, on SQLite and PostgreSQL."""
    count = context.options.escalations
    progress(f"storage: {count:,} escalations through the stores on SQLite")
    on_sqlite = sqlite(count)
    progress(f"storage: {count:,} escalations through the stores on PostgreSQL")
    on_postgres = postgres(count)
    rows = [_row("SQLite", on_sqlite)]
    figures: dict[str, Any] = {
        "storage_writes_per_s": round(on_sqlite.writes_per_s, 1),
        "storage_write_p50_ms": round(on_sqlite.write_p50_ms, 3),
        "storage_write_p99_ms": round(on_sqlite.write_p99_ms, 3),
        "storage": {"sqlite": _json(on_sqlite), "postgresql": None},
    }
    notes = [
        "each escalation: create with its announcement, due(), mark_sending, mark_sent "
        "(three writes, each timed alone), then get and messages (one read); writes per "
        "second count only the time spent in writes"
    ]
    if isinstance(on_postgres, str):
        notes.append(f"PostgreSQL not measured: {on_postgres}")
    else:
        rows.append(_row("PostgreSQL", on_postgres))
        figures["storage"]["postgresql"] = _json(on_postgres)
    return SectionResult(
        title="Storage: writes per second, p50/p99 per write, through the stores",
        header=(
            "engine",
            "writes",
            "writes/s",
            "write p50 ms",
            "write p99 ms",
            "read p50 ms",
            "read p99 ms",
        ),
        rows=rows,
        figures=figures,
        notes=notes,
    )


def main(argv: Sequence[str]) -> int:
    """``python benchmarks/storage.py [ESCALATIONS] [RUNS]``: print the median SQLite run."""
    escalations = int(argv[0]) if argv else 500
    runs = int(argv[1]) if len(argv) > 1 else 3
    results = [sqlite(escalations) for _ in range(runs)]
    best = sorted(results, key=lambda f: f.write_p50_ms)[len(results) // 2]
    print(
        f"sqlite: {best.writes} writes, {best.writes_per_s:.0f} writes/s, "
        f"write p50 {best.write_p50_ms:.2f} ms p99 {best.write_p99_ms:.2f} ms, "
        f"read p50 {best.read_p50_ms:.2f} ms p99 {best.read_p99_ms:.2f} ms, "
        f"wall {best.wall_s:.2f} s (median of {runs}; write p50 of each: "
        f"{', '.join(f'{r.write_p50_ms:.2f}' for r in results)}; "
        f"wall mean {statistics.mean(r.wall_s for r in results):.2f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
