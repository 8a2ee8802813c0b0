"""Matcher latency and accuracy, beside the naive approach, at each knowledge-base size.

The naive approach is what a first version of a FAQ bot does: rapidfuzz's
``process.extractOne(question, all_alternates, scorer=fuzz.WRatio)`` over every alternate
question (lower-cased; Japanese ones too, since the matcher indexes both), answering with
the entry that owns the best one when its score is at least `NAIVE_CUTOFF`, and escalating
otherwise.

Latency is per question, ``time.perf_counter_ns`` around one call, after a short warm-up.
Accuracy is measured on the project's labelled evaluation sets (English, and Japanese
where present) with the shipped knowledge base (the figure that matters), and on the
synthetic queries (a sanity check that the synthetic sizes are being answered, not just
escalated quickly). The matcher's latency is also reported per language, on the evaluation
sets' own questions (English and Japanese) with the shipped knowledge base.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from benchmarks.common import (
    HEADLINE_SIZE,
    SHIPPED,
    Context,
    SectionResult,
    ms,
    percentile,
    progress,
)
from benchmarks.queries import KINDS, Query, build_queries
from bot.decision import Action, Decision
from bot.evaluation import ESCALATE, EvalItem, EvalReport, evaluate
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Matcher

NAIVE_CUTOFF = 80.0
# Other cutoffs shown on the evaluation set, to show the headline one is not a poor pick.
NAIVE_CUTOFFS = (70.0, 80.0, 90.0)
WARM_UP = 10
QUERY_SEED = 7
# Each evaluation-set question is timed this many times for the per-language latency.
LANGUAGE_ROUNDS = 3


class NaiveMatcher:
    """Best WRatio over every alternate question; the entry owning it answers."""

    def __init__(self, kb: KnowledgeBase, cutoff: float = NAIVE_CUTOFF) -> None:
        self.kb = kb
        self.cutoff = cutoff
        self.alternates: list[str] = []
        self.owners: list[str] = []
        for entry in kb.entries.values():
            # Both languages, as the matcher indexes both.
            for question in (*entry.questions, *entry.questions_ja):
                self.alternates.append(question.lower())
                self.owners.append(entry.id)

    def best(self, question: str) -> tuple[str, float]:
        """The entry owning the closest alternate question, and its WRatio score."""
        found = process.extractOne(question.lower(), self.alternates, scorer=fuzz.WRatio)
        if found is None:
            return "", 0.0
        return self.owners[found[2]], float(found[1])

    def decide(self, question: str, reply_language: str | None = None) -> Decision:
        """Answer with the best entry if it scores at least the cutoff, else escalate."""
        entry_id, score = self.best(question)
        if score < self.cutoff:
            return Decision(question, Action.ESCALATE, score=score, reason="below cutoff")
        entry = self.kb.entries[entry_id]
        return Decision(
            question, Action.ANSWER, answer=entry.answer, entry_id=entry.id, score=score
        )


@dataclass
class Timed:
    """Per-question latencies (ns) and whether each question was handled right."""

    latencies: list[int]
    right: list[bool]


def _time_calls(queries: list[Query], call: Callable[[Query], bool]) -> Timed:
    latencies: list[int] = []
    right: list[bool] = []
    for query in queries:
        start = time.perf_counter_ns()
        ok = call(query)
        latencies.append(time.perf_counter_ns() - start)
        right.append(ok)
    return Timed(latencies, right)


def _matcher_right(decision: Decision, query: Query) -> bool:
    if query.expect == ESCALATE:
        return decision.action is Action.ESCALATE
    return decision.action is Action.ANSWER and decision.entry_id == query.expect


def measure_size(
    label: str, folder: Path, query_count: int, eval_items: list[EvalItem]
) -> dict[str, Any]:
    """Load one knowledge base, then time the matcher and the naive approach on it."""
    kb = load_knowledge(folder)
    matcher = Matcher(kb)
    naive = NaiveMatcher(kb)
    queries = build_queries(kb, eval_items, query_count, QUERY_SEED)
    for query in build_queries(kb, eval_items, WARM_UP, QUERY_SEED + 1):
        matcher.decide(query.text)
        naive.best(query.text)
    progress(f"matching: {label}: {len(queries)} questions, matcher")
    ours = _time_calls(queries, lambda q: _matcher_right(matcher.decide(q.text), q))
    progress(f"matching: {label}: {len(queries)} questions, naive WRatio")
    theirs = _time_calls(queries, lambda q: _matcher_right(naive.decide(q.text), q))
    figures = _latency_figures(queries, ours, theirs)
    figures.update(
        entries=len(kb.entries),
        alternates=kb.question_count(),
        naive_alternates=len(naive.alternates),
    )
    figures["by_kind"] = {}
    for kind in KINDS:
        picked = [i for i, q in enumerate(queries) if q.kind == kind]
        figures["by_kind"][kind] = _latency_figures(
            [queries[i] for i in picked],
            Timed([ours.latencies[i] for i in picked], [ours.right[i] for i in picked]),
            Timed([theirs.latencies[i] for i in picked], [theirs.right[i] for i in picked]),
        )
    return figures


def _latency_figures(queries: list[Query], ours: Timed, theirs: Timed) -> dict[str, Any]:
    p50 = percentile(ours.latencies, 50)
    naive_p50 = percentile(theirs.latencies, 50)
    count = len(queries)
    return {
        "queries": count,
        "match_p50_ms": ms(p50),
        "match_p99_ms": ms(percentile(ours.latencies, 99)),
        "match_max_ms": ms(max(ours.latencies, default=0)),
        "naive_p50_ms": ms(naive_p50),
        "naive_p99_ms": ms(percentile(theirs.latencies, 99)),
        "speedup": round(naive_p50 / p50, 1) if p50 else None,
        "match_right": round(sum(ours.right) / count, 3) if count else None,
        "naive_right": round(sum(theirs.right) / count, 3) if count else None,
    }


def _eval_figures(report: EvalReport) -> dict[str, Any]:
    figures = report.figures()
    return {
        "accuracy": round(figures.accuracy, 3),
        "wrong_answer_rate": round(figures.wrong_rate, 3),
        "answers": figures.answers,
        "escalation_recall": round(figures.escalation_recall, 3),
    }


def evaluate_both(shipped: Path, eval_items: list[EvalItem]) -> dict[str, Any]:
    """An evaluation set through the matcher and the naive approach (shipped knowledge)."""
    kb = load_knowledge(shipped)
    ours = evaluate(Matcher(kb).decide, eval_items, set(kb.entries))
    figures: dict[str, Any] = {
        "items": len(eval_items),
        "answerable": ours.figures().answerable,
        "matcher": _eval_figures(ours),
        "naive_cutoff": NAIVE_CUTOFF,
        "naive_by_cutoff": {},
    }
    for cutoff in NAIVE_CUTOFFS:
        naive = NaiveMatcher(kb, cutoff)
        report = evaluate(naive.decide, eval_items, set(kb.entries))
        figures["naive_by_cutoff"][f"{cutoff:g}"] = _eval_figures(report)
    figures["naive"] = figures["naive_by_cutoff"][f"{NAIVE_CUTOFF:g}"]
    return figures


def language_latency(shipped: Path, eval_items: list[EvalItem]) -> dict[str, Any]:
    """Matcher latency on one language's evaluation-set questions (shipped knowledge)."""
    matcher = Matcher(load_knowledge(shipped))
    for item in eval_items[:WARM_UP]:
        matcher.decide(item.question)
    latencies: list[int] = []
    for _ in range(LANGUAGE_ROUNDS):
        for item in eval_items:
            start = time.perf_counter_ns()
            matcher.decide(item.question)
            latencies.append(time.perf_counter_ns() - start)
    return {
        "questions": len(eval_items),
        "timed": len(latencies),
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies, default=0)),
    }


def run(context: Context) -> SectionResult:
    """Latency at every size, and evaluation-set accuracy, for both approaches."""
    eval_items = context.eval_sets["en"]
    labels: list[tuple[str, Path, int]] = [(SHIPPED, context.shipped, context.options.queries)]
    for size in context.options.sizes:
        progress(f"matching: generating a knowledge base of {size:,} alternate questions")
        labels.append((str(size), context.knowledge_folder(size), context.options.queries))
    per_size: dict[str, dict[str, Any]] = {}
    for label, folder, count in labels:
        per_size[label] = measure_size(label, folder, count, eval_items)
    progress("matching: evaluation set")
    evaluations = {
        language: evaluate_both(context.shipped, items)
        for language, items in context.eval_sets.items()
    }
    progress("matching: latency per language on the evaluation sets")
    languages = {
        language: language_latency(context.shipped, items)
        for language, items in context.eval_sets.items()
    }
    language_rows = [
        (
            language,
            str(f["questions"]),
            f"{f['timed']:,}",
            f"{f['p50_ms']:.2f}",
            f"{f['p99_ms']:.2f}",
            f"{f['max_ms']:.2f}",
        )
        for language, f in languages.items()
    ]

    rows = []
    kind_rows = []
    for label, f in per_size.items():
        name = label if label == SHIPPED else f"{int(label):,}"
        rows.append(
            (
                name,
                f"{f['entries']:,}",
                f"{f['alternates']:,}",
                f"{f['naive_alternates']:,}",
                str(f["queries"]),
                f"{f['match_p50_ms']:.2f}",
                f"{f['match_p99_ms']:.2f}",
                f"{f['naive_p50_ms']:.2f}",
                f"{f['naive_p99_ms']:.2f}",
                f"{f['speedup']:.1f}x" if f["speedup"] is not None else "-",
            )
        )
        for kind, k in f["by_kind"].items():
            kind_rows.append(
                (
                    name,
                    kind,
                    str(k["queries"]),
                    f"{k['match_p50_ms']:.2f}",
                    f"{k['match_p99_ms']:.2f}",
                    f"{k['naive_p50_ms']:.2f}",
                    f"{k['match_right']:.0%}",
                    f"{k['naive_right']:.0%}",
                )
            )
    eval_rows = []
    for language, evaluation in evaluations.items():
        name = f"{language}: {evaluation['items']} ({evaluation['answerable']} answerable)"
        eval_rows.append(_eval_row(name, "matcher", evaluation["matcher"]))
        for cutoff, figures in evaluation["naive_by_cutoff"].items():
            mark = " (headline)" if float(cutoff) == NAIVE_CUTOFF else ""
            eval_rows.append(_eval_row("", f"naive WRatio >= {cutoff}{mark}", figures))

    headline = per_size.get(str(HEADLINE_SIZE), {})
    return SectionResult(
        title="Matching: latency per question (ms), matcher vs naive WRatio over all alternates",
        header=(
            "alternates",
            "entries",
            "actual",
            "all langs",
            "queries",
            "p50",
            "p99",
            "naive p50",
            "naive p99",
            "speed-up",
        ),
        rows=rows,
        tables=[
            (
                (
                    "alternates",
                    "kind",
                    "n",
                    "p50",
                    "p99",
                    "naive p50",
                    "matcher right",
                    "naive right",
                ),
                kind_rows,
            ),
            (
                (
                    "evaluation set",
                    "approach",
                    "accuracy",
                    "wrong-answer rate",
                    "answers",
                    "escalation recall",
                ),
                eval_rows,
            ),
            (
                ("language (shipped kb)", "questions", "timed", "p50", "p99", "max"),
                language_rows,
            ),
        ],
        notes=[
            "actual = English alternate questions; all langs = with the Japanese ones, "
            "the list the naive approach searches. "
            "speed-up = naive p50 / matcher p50. 'right' = answered with the owning entry "
            "(exact, paraphrased, misspelt) or escalated (out-of-scope); a clarification "
            "counts as not right.",
            f"naive: process.extractOne(q.lower(), all_alternates, scorer=fuzz.WRatio); answers "
            f"when the score >= {NAIVE_CUTOFF:g}, else escalates. Evaluation-set accuracy = "
            "right entry among answerable items; wrong-answer rate = wrong share of answers "
            "given (bot.evaluation definitions; no table-row answers for naive).",
            "language table: matcher.decide on every evaluation-set question of each "
            f"language, {LANGUAGE_ROUNDS} times over, shipped knowledge base, after a warm-up "
            "(ms per question).",
        ],
        figures={
            "match_p50_ms": headline.get("match_p50_ms"),
            "match_p99_ms": headline.get("match_p99_ms"),
            "match_naive_p50_ms": headline.get("naive_p50_ms"),
            "match_speedup": headline.get("speedup"),
            "shipped": per_size[SHIPPED],
            "sizes": {label: f for label, f in per_size.items() if label != SHIPPED},
            "eval": evaluations["en"],
            **({"eval_ja": evaluations["ja"]} if "ja" in evaluations else {}),
            **{
                f"match_{language}_{key}": figures[key]
                for language, figures in languages.items()
                for key in ("p50_ms", "p99_ms")
            },
            "match_by_language": languages,
        },
    )


def _eval_row(name: str, approach: str, figures: dict[str, Any]) -> tuple[str, ...]:
    return (
        name,
        approach,
        f"{figures['accuracy']:.1%}",
        f"{figures['wrong_answer_rate']:.1%}",
        str(figures["answers"]),
        f"{figures['escalation_recall']:.1%}",
    )
