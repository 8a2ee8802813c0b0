"""Start-up cost at each size: load and validate the knowledge base, build the index, RSS.

Each size is measured in a fresh interpreter (``python -m benchmarks.startup FOLDER``), so
the resident memory is that one knowledge base's and not the previous size's leftovers.
The worker prints one JSON object; the section runs it once per size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import HEADLINE_SIZE, ROOT, SHIPPED, Context, SectionResult
from benchmarks.common import progress as say


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM), in MB.

    Where /proc is missing, getrusage's maxrss stands in (on Linux it can carry the parent's
    peak across fork and exec, which is why /proc comes first).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for text in status:
                if text.startswith(f"{field}:"):
                    return int(text.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(folder: Path) -> dict[str, Any]:
    """In this process: import, load, index, and the memory each step leaves behind."""
    from bot.knowledge import load_knowledge
    from bot.matcher import Matcher

    before = rss_mb()
    start = time.perf_counter()
    kb = load_knowledge(folder)
    loaded = time.perf_counter()
    matcher = Matcher(kb)
    indexed = time.perf_counter()
    after = rss_mb()
    del matcher  # held until now, so the index is in the memory measured
    return {
        "entries": len(kb.entries),
        "alternates": kb.question_count(),
        "load_s": round(loaded - start, 3),
        "index_s": round(indexed - loaded, 3),
        "kb_load_s": round(indexed - start, 3),
        "rss_mb": round(after, 1),
        "rss_imports_mb": round(before, 1),
        # The kernel updates the high-water mark lazily; it can trail VmRSS by a page or two.
        "rss_peak_mb": round(max(rss_mb("VmHWM"), after), 1),
    }


def measure_in_subprocess(folder: Path) -> dict[str, Any]:
    """`measure` in a fresh interpreter; its last line of output is the JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.startup", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"start-up worker failed on {folder}:\n{done.stderr.strip()}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(context: Context) -> SectionResult:
    """Start-up time and memory for the shipped knowledge base and every size."""
    folders = [(SHIPPED, context.shipped)]
    folders += [(str(size), context.knowledge_folder(size)) for size in context.options.sizes]
    per_size: dict[str, dict[str, Any]] = {}
    for label, folder in folders:
        say(f"start-up: {label} (fresh interpreter)")
        per_size[label] = measure_in_subprocess(folder)
    rows = [
        (
            label if label == SHIPPED else f"{int(label):,}",
            f"{f['entries']:,}",
            f"{f['load_s']:.3f}",
            f"{f['index_s']:.3f}",
            f"{f['kb_load_s']:.3f}",
            f"{f['rss_imports_mb']:.1f}",
            f"{f['rss_mb']:.1f}",
            f"{f['rss_peak_mb']:.1f}",
        )
        for label, f in per_size.items()
    ]
    headline = per_size.get(str(HEADLINE_SIZE), {})
    return SectionResult(
        title="Start-up: load + validate (load_knowledge), index (Matcher), memory",
        header=(
            "alternates",
            "entries",
            "load s",
            "index s",
            "total s",
            "RSS imports MB",
            "RSS ready MB",
            "peak MB",
        ),
        rows=rows,
        notes=[
            "one fresh interpreter per size; RSS from /proc/self/status VmRSS after the "
            "imports and after the index is built; peak = VmHWM."
        ],
        figures={
            "kb_load_s": headline.get("kb_load_s"),
            "rss_mb": headline.get("rss_mb"),
            "shipped": {"startup": per_size[SHIPPED]},
            "sizes": {label: {"startup": f} for label, f in per_size.items() if label != SHIPPED},
        },
    )


def main() -> None:
    """The worker: measure one knowledge folder and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="knowledge folder to load")
    args = parser.parse_args()
    print(json.dumps(measure(args.folder)))


if __name__ == "__main__":
    main()
