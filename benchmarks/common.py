"""What every benchmark section shares: the run's context, results, percentiles and tables."""

from __future__ import annotations

import math
import os
import platform
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.synthetic import build_knowledge_folder
from bot.evaluation import EvalItem, eval_files, load_eval
from bot.knowledge import load_knowledge

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_KB = ROOT / "knowledge"
# The development evaluation sets: only their aggregate figures are ever read.
EVAL_SETS = ROOT / "tests" / "eval" / "dev"
# The size the headline figures (and the targets) are quoted at.
HEADLINE_SIZE = 10_000
SHIPPED = "shipped"


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    sizes: tuple[int, ...]
    queries: int
    escalations: int
    quick: bool
    # End to end: numbers of concurrent users, seconds and messages per level (whichever
    # runs out first), and escalations per run; no users = skip the section.
    e2e_users: tuple[int, ...] = ()
    e2e_seconds: float = 10.0
    e2e_messages: int = 2_000
    e2e_escalations: int = 1_000


@dataclass
class Context:
    """Shared by all sections: options, a scratch folder, and the knowledge bases.

    `shipped` is a copy of the knowledge folder taken at the start, and the evaluation
    sets are read once, so a whole run measures one state of the content even while
    someone edits it.
    """

    options: Options
    workdir: Path
    shipped: Path
    eval_sets: dict[str, list[EvalItem]]
    _folders: dict[int, Path] = field(default_factory=dict)

    @classmethod
    def prepare(cls, options: Options, workdir: Path) -> Context:
        """Snapshot and validate the shipped knowledge base (raises KnowledgeError)."""
        shipped = workdir / "kb-shipped"
        shutil.copytree(SHIPPED_KB, shipped)
        load_knowledge(shipped)
        items = [item for path in eval_files([EVAL_SETS]) for item in load_eval(path)]
        eval_sets = {
            language: [i for i in items if i.language == language] for language in ("en", "ja")
        }
        return cls(options, workdir, shipped, eval_sets)

    def knowledge_folder(self, size: int) -> Path:
        """A synthetic knowledge folder with `size` alternate questions, generated once."""
        if size not in self._folders:
            self._folders[size] = build_knowledge_folder(
                self.shipped, self.workdir / f"kb-{size}", size
            )
        return self._folders[size]


@dataclass
class SectionResult:
    """One section's table (header and rows), notes under it, and its JSON figures."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    figures: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    # Further tables printed under the first one: (header, rows).
    tables: list[tuple[Sequence[str], Sequence[Sequence[str]]]] = field(default_factory=list)


Section = Callable[[Context], SectionResult]


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (p50, p99) of `values`; 0.0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(nanoseconds: float) -> float:
    """Nanoseconds to milliseconds, rounded for the JSON line."""
    return round(nanoseconds / 1e6, 3)


def progress(message: str) -> None:
    """Say what is running, on stderr, so stdout holds only the report."""
    print(f"... {message}", file=sys.stderr, flush=True)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def deep_merge(into: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Merge `other` into `into`, combining nested dicts (per-size figures from sections)."""
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            deep_merge(into[key], value)
        else:
            into[key] = value
    return into


def machine_info() -> dict[str, Any]:
    """Where the figures were measured."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for text in cpuinfo:
                if text.startswith("model name"):
                    model = text.split(":", 1)[1].strip()
                    break
    except OSError:
        model = platform.processor()
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity) if affinity is not None else os.cpu_count(),
        "cpu_model": model,
    }
