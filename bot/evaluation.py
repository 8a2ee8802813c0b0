"""Running a labelled question set through the matcher and reporting how it did.

Each item names the entry that should answer it, `escalate` (the seeds cannot answer)
or `smalltalk`, and optionally strings the answer must contain (the numbers of a table
row). A clarification is neither right nor wrong: it counts as "not answered".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.decision import Action, Decision
from bot.matcher import Matcher
from bot.yamlfile import LineDict, YamlSyntaxError, line_of, load_yaml

ESCALATE = "escalate"
SMALLTALK = "smalltalk"


@dataclass(frozen=True)
class EvalItem:
    """One labelled question."""

    question: str
    expect: str
    contains: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Outcome:
    """What the matcher did with one item, and whether that was right."""

    item: EvalItem
    decision: Decision

    @property
    def answered(self) -> bool:
        """The bot sent an answer from the knowledge base."""
        return self.decision.action is Action.ANSWER

    @property
    def correct(self) -> bool:
        """The bot did exactly what the label asks for."""
        action, expect = self.decision.action, self.item.expect
        if expect == ESCALATE:
            return action is Action.ESCALATE
        if expect == SMALLTALK:
            return action is Action.SMALLTALK
        return (
            action is Action.ANSWER
            and self.decision.entry_id == expect
            and all(s in self.decision.answer for s in self.item.contains)
        )

    @property
    def wrong_answer(self) -> bool:
        """The bot answered, and the answer was not the right one: the worst outcome."""
        return self.answered and not self.correct


@dataclass
class EvalReport:
    """Figures for a whole question set."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def answerable(self) -> list[Outcome]:
        """Items labelled with an entry id."""
        return [o for o in self.outcomes if o.item.expect not in (ESCALATE, SMALLTALK)]

    @property
    def accuracy(self) -> float:
        """Share of answerable questions answered with the right entry."""
        items = self.answerable
        return sum(o.correct for o in items) / len(items) if items else 1.0

    @property
    def answers(self) -> list[Outcome]:
        """Every item the bot answered."""
        return [o for o in self.outcomes if o.answered]

    @property
    def wrong_answer_rate(self) -> float:
        """Share of all answers given that were wrong."""
        answers = self.answers
        return sum(o.wrong_answer for o in answers) / len(answers) if answers else 0.0

    @property
    def escalation_precision(self) -> float:
        """Of the questions the bot escalated, the share that should have been."""
        escalated = [o for o in self.outcomes if o.decision.action is Action.ESCALATE]
        if not escalated:
            return 1.0
        return sum(o.item.expect == ESCALATE for o in escalated) / len(escalated)

    @property
    def escalation_recall(self) -> float:
        """Of the questions that should be escalated, the share the bot escalated."""
        should = [o for o in self.outcomes if o.item.expect == ESCALATE]
        if not should:
            return 1.0
        return sum(o.decision.action is Action.ESCALATE for o in should) / len(should)

    @property
    def misses(self) -> list[Outcome]:
        """Every item not handled exactly as labelled."""
        return [o for o in self.outcomes if not o.correct]

    def actions(self) -> Counter[str]:
        """How many items ended in each action."""
        return Counter(o.decision.action.value for o in self.outcomes)

    def format(self, show_misses: bool = True) -> str:
        """A report in the style of an NLU test report."""
        answerable = self.answerable
        lines = [
            f"questions: {len(self.outcomes)} "
            f"({len(answerable)} answerable, "
            f"{sum(o.item.expect == ESCALATE for o in self.outcomes)} to escalate, "
            f"{sum(o.item.expect == SMALLTALK for o in self.outcomes)} small talk)",
            f"actions: {', '.join(f'{k} {v}' for k, v in sorted(self.actions().items()))}",
            f"accuracy (answerable answered with the right entry): {self.accuracy:.1%} "
            f"({sum(o.correct for o in answerable)}/{len(answerable)})",
            f"wrong-answer rate (of all answers given): {self.wrong_answer_rate:.1%} "
            f"({sum(o.wrong_answer for o in self.answers)}/{len(self.answers)})",
            f"escalation precision: {self.escalation_precision:.1%}",
            f"escalation recall: {self.escalation_recall:.1%}",
        ]
        if show_misses and self.misses:
            lines.append("")
            lines.append(f"misses ({len(self.misses)}):")
            for o in self.misses:
                got = o.decision.entry_id or o.decision.action.value
                if o.decision.action is Action.CLARIFY:
                    got = "clarify[" + ", ".join(s.entry_id for s in o.decision.suggestions) + "]"
                flag = "WRONG " if o.wrong_answer else ""
                lines.append(
                    f"  {flag}line {o.item.line}: {o.item.question!r} expected {o.item.expect}, "
                    f"got {got} ({o.decision.score:.0f}; {o.decision.reason})"
                )
        return "\n".join(lines)


class EvalFileError(Exception):
    """A question set that cannot be read; the message names the file and line."""


def load_eval(path: Path) -> list[EvalItem]:
    """Read a question set: a YAML list of `{q, expect, contains?}`."""
    try:
        data = load_yaml(path)
    except YamlSyntaxError as exc:
        raise EvalFileError(str(exc)) from exc
    except OSError as exc:
        raise EvalFileError(f"{path}: cannot read: {exc.strerror}") from exc
    if not isinstance(data, list):
        raise EvalFileError(f"{path}:1: the file must be a list of questions")
    items: list[EvalItem] = []
    for raw in data:
        line = line_of(raw)
        if not isinstance(raw, LineDict) or not isinstance(raw.get("q"), str):
            raise EvalFileError(f"{path}:{line}: each item needs 'q' (the question)")
        expect = raw.get("expect")
        if not isinstance(expect, str) or not expect:
            raise EvalFileError(f"{path}:{line}: each item needs 'expect' (entry id or escalate)")
        contains = raw.get("contains", [])
        if not isinstance(contains, list):
            raise EvalFileError(f"{path}:{line}: 'contains' must be a list")
        items.append(EvalItem(raw["q"], expect, tuple(str(c) for c in contains), line))
    return items


def evaluate(matcher: Matcher, items: list[EvalItem]) -> EvalReport:
    """Run every item through the matcher."""
    unknown = sorted({i.expect for i in items} - set(matcher.kb.entries) - {ESCALATE, SMALLTALK})
    if unknown:
        raise EvalFileError(f"labels name entries that do not exist: {', '.join(unknown)}")
    return EvalReport([Outcome(item, matcher.decide(item.question)) for item in items])
