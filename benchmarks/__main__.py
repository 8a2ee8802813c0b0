"""`python -m benchmarks`: run every section, print the tables, end with one JSON line.

The targets are printed beside the figures for information only: the exit code is 0
whether they pass or miss, because timings depend on the machine and nothing may fail on
them (it is 1 only when the knowledge base or an evaluation set cannot be loaded).
Progress goes to stderr; stdout is the report, and its last line is the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import endtoend, escalations, matching, replicas, startup, storage
from benchmarks.common import (
    HEADLINE_SIZE,
    SHIPPED_KB,
    Context,
    Options,
    Section,
    deep_merge,
    format_table,
    machine_info,
)
from benchmarks.synthetic import shipped_question_count
from bot.evaluation import EvalFileError
from bot.knowledge import KnowledgeError

# In the order they run and print. A section is a function Context -> SectionResult.
SECTIONS: list[Section] = [
    matching.run,
    startup.run,
    escalations.run,
    storage.run,
    endtoend.run,
    replicas.run,
]
E2E_SECTIONS = (endtoend.run, replicas.run)  # left out with --skip-e2e

FULL_SIZES = (1_000, 10_000, 50_000)
QUICK_SIZES = (1_000, 10_000)
FULL_USERS = (1, 10, 100)
QUICK_USERS = (1, 10)


@dataclass(frozen=True)
class Target:
    """A figure the project aims for; `met` is None when the figure was not measured."""

    name: str
    shown: Callable[[dict[str, Any]], str]
    met: Callable[[dict[str, Any]], bool | None]


def _get(figures: dict[str, Any], *path: str) -> Any:
    value: Any = figures
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _below(limit: float, *path: str) -> Callable[[dict[str, Any]], bool | None]:
    return lambda f: None if _get(f, *path) is None else _get(f, *path) < limit


def _at_least(limit: float, *path: str) -> Callable[[dict[str, Any]], bool | None]:
    return lambda f: None if _get(f, *path) is None else _get(f, *path) >= limit


def _shown(unit: str, *path: str) -> Callable[[dict[str, Any]], str]:
    return lambda f: "-" if _get(f, *path) is None else f"{_get(f, *path):g}{unit}"


def _accuracy_met(f: dict[str, Any]) -> bool | None:
    ours, theirs = _get(f, "eval", "matcher", "accuracy"), _get(f, "eval", "naive", "accuracy")
    return None if ours is None or theirs is None else ours >= theirs


TARGETS = (
    Target(
        f"matcher p99 < 2 ms at {HEADLINE_SIZE:,}",
        _shown(" ms", "match_p99_ms"),
        _below(2.0, "match_p99_ms"),
    ),
    Target(
        f"matcher >= 5x faster than naive (p50) at {HEADLINE_SIZE:,}",
        _shown("x", "match_speedup"),
        _at_least(5.0, "match_speedup"),
    ),
    Target(
        "eval accuracy: matcher >= naive",
        lambda f: (
            f"{_get(f, 'eval', 'matcher', 'accuracy'):.1%} vs "
            f"{_get(f, 'eval', 'naive', 'accuracy'):.1%}"
            if _accuracy_met(f) is not None
            else "-"
        ),
        _accuracy_met,
    ),
    Target(
        f"kb load + index < 1 s at {HEADLINE_SIZE:,}",
        _shown(" s", "kb_load_s"),
        _below(1.0, "kb_load_s"),
    ),
    Target(f"RSS < 150 MB at {HEADLINE_SIZE:,}", _shown(" MB", "rss_mb"), _below(150, "rss_mb")),
    Target(
        ">= 100 stored escalations/s",
        _shown("/s", "escalations_per_s"),
        _at_least(100, "escalations_per_s"),
    ),
    Target(
        f"e2e >= 200 answers/s at {endtoend.HEADLINE_USERS} users (as shipped)",
        _shown("/s", "e2e_msgs_per_s"),
        _at_least(200, "e2e_msgs_per_s"),
    ),
    Target(
        f"e2e p99 < 100 ms at {endtoend.HEADLINE_USERS} users (as shipped)",
        _shown(" ms", "e2e_p99_ms"),
        _below(100, "e2e_p99_ms"),
    ),
    Target(
        f"e2e >= 200 answers/s at {endtoend.HEADLINE_USERS} users (rate limiter off)",
        _shown("/s", "e2e_unlimited_msgs_per_s"),
        _at_least(200, "e2e_unlimited_msgs_per_s"),
    ),
    Target(
        f"e2e p99 < 100 ms at {endtoend.HEADLINE_USERS} users (rate limiter off)",
        _shown(" ms", "e2e_unlimited_p99_ms"),
        _below(100, "e2e_unlimited_p99_ms"),
    ),
)


def side_by_side(
    figures: dict[str, Any], levels: Sequence[int]
) -> tuple[Sequence[str], list[tuple[str, ...]]]:
    """Answers per second and p99 of the end-to-end section's one process (long polling, on
    SQLite) and of the replica section's three webhook replicas (on PostgreSQL)."""
    header = ("build", "users", "one process: per s", "p99 ms", "3 replicas: per s", "p99 ms")
    rows = []
    for build in (endtoend.SHIPPED, endtoend.UNLIMITED):
        for users in levels:
            one = _get(figures, "e2e", build.key, str(users)) or {}
            three = _get(figures, "replicas", "builds", build.key, str(users)) or {}
            cells = [one.get("per_s"), one.get("p99_ms"), three.get("per_s"), three.get("p99_ms")]
            shown = ["-" if value is None else f"{value:,.1f}" for value in cells]
            rows.append((build.name, str(users), *shown))
    return header, rows


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """The command line: which sizes, how many questions and enquiries."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Benchmark clair-bot: matcher latency and accuracy against a naive rapidfuzz "
            "WRatio search (English and Japanese questions), start-up time and memory, stored "
            "escalations per second, the storage layer's writes per second and p50/p99 per "
            "write on SQLite (and on PostgreSQL where the tests' throwaway server can be had), "
            "and end to end: the real Application long-polling a loopback Bot API server, "
            "answers per second and latency at 1, 10 and 100 concurrent users, and escalations "
            "per second; the same closed loop through three webhook replicas on PostgreSQL "
            "behind a round-robin proxy. "
            "Prints a table; the last line is one JSON object with every figure. "
            "Informational: the exit code is 0 whether targets pass or miss (1 only if the "
            "knowledge base or an evaluation set cannot be loaded)."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a fast look: sizes 1,000 and 10,000, 100 questions per size, 500 enquiries; "
        "end to end at 1 and 10 users only, 3 s (or 500 messages) per level",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        help="comma-separated numbers of alternate questions for the synthetic knowledge "
        "bases (default 1000,10000,50000; with --quick 1000,10000); the shipped knowledge "
        "base is always measured too",
    )
    parser.add_argument(
        "--queries",
        type=_positive,
        help="timed questions per knowledge base, a quarter of each kind: exact, "
        "paraphrased, misspelt, out of scope (default 400, with --quick 100)",
    )
    parser.add_argument(
        "--escalations",
        type=_positive,
        help="enquiries stored in each escalation run, and escalations through the stores in "
        "the storage section (default 2000, with --quick 500)",
    )
    parser.add_argument(
        "--skip-e2e",
        action="store_true",
        help="leave out the end-to-end sections (the bot polling a loopback Bot API server, "
        "and three webhook replicas on PostgreSQL)",
    )
    parser.add_argument(
        "--e2e-seconds",
        type=_positive,
        help="end to end: seconds per level and per escalation run, each also stopping at "
        "2,000 messages or 1,000 escalations (default 10, with --quick 3)",
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    shipped = shipped_question_count(SHIPPED_KB)
    if min(sizes) < shipped:
        parser.error(f"--sizes: the shipped knowledge base alone has {shipped} questions")
    queries = args.queries or (100 if args.quick else 400)
    return Options(
        sizes=tuple(sizes),
        queries=queries,
        escalations=args.escalations or (500 if args.quick else 2_000),
        quick=args.quick,
        e2e_users=() if args.skip_e2e else QUICK_USERS if args.quick else FULL_USERS,
        e2e_seconds=float(args.e2e_seconds or (3 if args.quick else 10)),
        e2e_messages=500 if args.quick else 2_000,
        e2e_escalations=300 if args.quick else 1_000,
    )


def _positive(text: str) -> int:
    try:
        number = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return number


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part.replace("_", "")) for part in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError("sizes must be positive numbers")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sections, print the report and the JSON line.

    Returns 0 whatever the figures; 1 only when the content cannot be loaded at all.
    """
    options = parse_options(argv)
    started = time.perf_counter()
    machine = machine_info()
    print(
        f"clair-bot benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"Python {machine['python']}, {machine['cpu_count']} CPU(s) {machine['cpu_model']}"
    )
    figures: dict[str, Any] = {
        "match_p50_ms": None,
        "match_p99_ms": None,
        "match_naive_p50_ms": None,
        "match_speedup": None,
        "kb_load_s": None,
        "rss_mb": None,
        "escalations_per_s": None,
        "storage_writes_per_s": None,
        "storage_write_p50_ms": None,
        "storage_write_p99_ms": None,
        "match_en_p50_ms": None,
        "match_en_p99_ms": None,
        "match_ja_p50_ms": None,
        "match_ja_p99_ms": None,
        "e2e_msgs_per_s": None,
        "e2e_p50_ms": None,
        "e2e_p99_ms": None,
        "e2e_escalations_per_s": None,
        "e2e_unlimited_msgs_per_s": None,
        "e2e_unlimited_p50_ms": None,
        "e2e_unlimited_p99_ms": None,
        "e2e_unlimited_escalations_per_s": None,
        "replicas_msgs_per_s": None,
        "replicas_p99_ms": None,
        "replicas_unlimited_msgs_per_s": None,
        "replicas_unlimited_p99_ms": None,
        "headline_size": HEADLINE_SIZE,
    }
    with tempfile.TemporaryDirectory(prefix="clair-bench-") as scratch:
        try:
            context = Context.prepare(options, Path(scratch))
        except (KnowledgeError, EvalFileError) as exc:
            print(f"cannot benchmark: {exc}", file=sys.stderr)
            return 1
        for section in SECTIONS:
            if section in E2E_SECTIONS and not options.e2e_users:
                continue  # --skip-e2e
            result = section(context)
            print()
            print(f"== {result.title}")
            print(format_table(result.header, result.rows))
            for header, rows in result.tables:
                print()
                print(format_table(header, rows))
            for note in result.notes:
                print(f"  note: {note}")
            deep_merge(figures, result.figures)

    if options.e2e_users:
        print()
        print("== One process on SQLite beside three replicas on PostgreSQL")
        print(format_table(*side_by_side(figures, options.e2e_users)))

    rows = []
    met: dict[str, bool | None] = {}
    for target in TARGETS:
        outcome = target.met(figures)
        met[target.name] = outcome
        status = "n/a" if outcome is None else "PASS" if outcome else "MISS"
        rows.append((target.name, target.shown(figures), status))
    print()
    print("== Targets (informational; the exit code is 0 either way)")
    print(format_table(("target", "measured", "result"), rows))
    elapsed = time.perf_counter() - started
    print()
    print(f"run time: {elapsed:.1f} s")
    figures.update(
        targets=met,
        machine=machine,
        options={
            "sizes": list(options.sizes),
            "queries": options.queries,
            "escalations": options.escalations,
            "quick": options.quick,
            "e2e_users": list(options.e2e_users),
            "e2e_seconds": options.e2e_seconds,
            "e2e_messages": options.e2e_messages,
            "e2e_escalations": options.e2e_escalations,
        },
        run_s=round(elapsed, 1),
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
