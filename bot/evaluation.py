"""Running labelled question sets through the matcher and reporting how it did.

An item is a message and what the bot should do with it:

- `expect: answer` with `facts`: the seeds answer it; a right answer states every fact;
- `expect: partial` with `facts`: it asks several things and the seeds answer only some; a
  right reply answers those (with the facts) and forwards the rest to staff;
- `expect: escalate`: the seeds do not answer it; `expect: smalltalk`: greetings and the like;
- `expect: <entry id>` (older sets): the entry that answers it, with optional `contains`.

A fact is a string, or a list of alternatives of which one is enough. Facts are written as the
seeds word them, in English, and checked against the answer in both languages, so a Japanese
question's answer counts when its English rendering states the fact. A clarification ("did you
mean") is neither right nor wrong: it counts as not answered.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.decision import Action, Decision
from bot.language import ENGLISH, JAPANESE, has_japanese
from bot.yamlfile import LineDict, YamlSyntaxError, line_of, load_yaml

ANSWER = "answer"
PARTIAL = "partial"
ESCALATE = "escalate"
SMALLTALK = "smalltalk"
KINDS = (ANSWER, PARTIAL, ESCALATE, SMALLTALK)
TAGS = ("long", "near-miss", "chat", "two-part", "table", "aggregate", "typo")
# Older sets carry no `long` tag: a message this long (characters) counts as long there.
LONG_CHARS = {ENGLISH: 160, JAPANESE: 70}

_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d〜～"})


@dataclass(frozen=True)
class EvalItem:
    """One labelled message."""

    question: str
    expect: str
    facts: tuple[tuple[str, ...], ...] = ()
    tags: frozenset[str] = frozenset()
    line: int = 0
    file: str = ""

    @property
    def language(self) -> str:
        """The language the message is written in (kana or kanji mean Japanese)."""
        return JAPANESE if has_japanese(self.question) else ENGLISH

    @property
    def long(self) -> bool:
        """A message of several sentences with context around the question."""
        if "long" in self.tags:
            return True
        return not self.tags and len(self.question) >= LONG_CHARS[self.language]

    @property
    def answerable(self) -> bool:
        """The seeds answer the message, or a part of it."""
        return self.expect not in (ESCALATE, SMALLTALK)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).casefold()
    text = re.sub(r"\s*-\s*", "-", text)
    return " ".join(text.split())


def contains_fact(text: str, alternatives: Iterable[str]) -> bool:
    """Whether `text` states one of the alternatives (numbers as whole numbers only)."""
    folded = _fold(text)
    plain = folded.replace(",", "")
    for alternative in alternatives:
        wanted = _fold(alternative)
        if not wanted:
            continue
        if re.fullmatch(r"[\d,]+", wanted):
            number = wanted.replace(",", "")
            if re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", plain):
                return True
        elif wanted in folded:
            return True
    return False


@dataclass(frozen=True)
class Outcome:
    """What the matcher did with one item, and whether that was right."""

    item: EvalItem
    decision: Decision
    other_answer: str = ""  # the same decision's answer in the other language

    @property
    def answered(self) -> bool:
        """The bot sent an answer from the knowledge base (perhaps forwarding a part)."""
        return self.decision.action is Action.ANSWER

    @property
    def forwarded_part(self) -> bool:
        """Part of the message was forwarded to staff beside the answer."""
        return bool(self.decision.forwarded)

    def _states_facts(self) -> bool:
        texts = (self.decision.answer, self.other_answer)
        return all(any(contains_fact(t, fact) for t in texts) for fact in self.item.facts)

    @property
    def correct(self) -> bool:
        """The bot did what the label asks for."""
        action, expect = self.decision.action, self.item.expect
        if expect == ESCALATE:
            return action is Action.ESCALATE
        if expect == SMALLTALK:
            return action is Action.SMALLTALK
        if not self.answered:
            return False
        if expect == ANSWER:
            return self._states_facts()
        if expect == PARTIAL:
            return self._states_facts() and self.forwarded_part
        # An entry id (older sets): that entry, or the parts of a split message, must answer.
        ids = {self.decision.entry_id, *self.decision.entry_ids}
        return expect in ids and self._states_facts()

    @property
    def wrong_answer(self) -> bool:
        """The bot answered, and the answer was not the right one: the worst outcome.

        A partial message answered with the right facts is not wrong even if the bot did not
        forward the rest: the answer it gave is true, and the user can ask staff.
        """
        if not self.answered:
            return False
        if self.item.expect == PARTIAL:
            return not self._states_facts()
        return not self.correct


@dataclass(frozen=True)
class Figures:
    """The headline figures of a group of outcomes."""

    items: int
    answerable: int
    right: int
    answers: int
    wrong: int
    to_escalate: int
    escalated: int
    smalltalk: int
    smalltalk_right: int
    long_items: int
    long_right: int

    @property
    def accuracy(self) -> float:
        """Share of answerable questions answered right."""
        return self.right / self.answerable if self.answerable else 1.0

    @property
    def wrong_rate(self) -> float:
        """Share of all answers given that were wrong."""
        return self.wrong / self.answers if self.answers else 0.0

    @property
    def escalation_recall(self) -> float:
        """Share of the questions to escalate that were escalated."""
        return self.escalated / self.to_escalate if self.to_escalate else 1.0

    @property
    def long_accuracy(self) -> float:
        """Share of long messages handled right (answered right, or escalated when due)."""
        return self.long_right / self.long_items if self.long_items else 1.0


def figures(outcomes: Sequence[Outcome]) -> Figures:
    """Count what happened to a group of outcomes."""
    answerable = [o for o in outcomes if o.item.answerable]
    to_escalate = [o for o in outcomes if o.item.expect == ESCALATE]
    smalltalk = [o for o in outcomes if o.item.expect == SMALLTALK]
    long_items = [o for o in outcomes if o.item.long]
    answers = [o for o in outcomes if o.answered]
    return Figures(
        items=len(outcomes),
        answerable=len(answerable),
        right=sum(o.correct for o in answerable),
        answers=len(answers),
        wrong=sum(o.wrong_answer for o in answers),
        to_escalate=len(to_escalate),
        escalated=sum(o.decision.action is Action.ESCALATE for o in to_escalate),
        smalltalk=len(smalltalk),
        smalltalk_right=sum(o.correct for o in smalltalk),
        long_items=len(long_items),
        long_right=sum(o.correct for o in long_items),
    )


@dataclass
class EvalReport:
    """Figures for one or more question sets."""

    outcomes: list[Outcome] = field(default_factory=list)

    def figures(self, keep: Callable[[Outcome], bool] = lambda o: True) -> Figures:
        """The headline figures of the outcomes `keep` selects."""
        return figures([o for o in self.outcomes if keep(o)])

    def by_language(self) -> dict[str, Figures]:
        """Figures per language of the message."""
        languages = sorted({o.item.language for o in self.outcomes})
        return {lang: self.figures(_in_language(lang)) for lang in languages}

    @property
    def accuracy(self) -> float:
        """Share of answerable questions answered right, over every set."""
        return self.figures().accuracy

    @property
    def wrong_answer_rate(self) -> float:
        """Share of all answers given that were wrong, over every set."""
        return self.figures().wrong_rate

    @property
    def escalation_recall(self) -> float:
        """Share of the questions to escalate that were escalated, over every set."""
        return self.figures().escalation_recall

    @property
    def misses(self) -> list[Outcome]:
        """Every item not handled as labelled."""
        return [o for o in self.outcomes if not o.correct]

    def codes(self) -> Counter[str]:
        """How many items ended with each reason code."""
        return Counter(o.decision.code.value for o in self.outcomes)

    def format(self, show_misses: bool = True) -> str:
        """A report: figures per language, long and short, reason codes, then the misses."""
        lines = [_header()]
        groups: list[tuple[str, Callable[[Outcome], bool]]] = [("all", lambda o: True)]
        for lang in sorted({o.item.language for o in self.outcomes}):
            groups.append((lang, _in_language(lang)))
            groups.append((f"{lang} long", _in_language(lang, long=True)))
            groups.append((f"{lang} short", _in_language(lang, long=False)))
        for name, keep in groups:
            lines.append(_row(name, self.figures(keep)))
        lines.append("")
        lines.append(
            "reason codes: "
            + ", ".join(f"{code} {count}" for code, count in sorted(self.codes().items()))
        )
        if show_misses and self.misses:
            lines.append("")
            lines.append(f"misses ({len(self.misses)}):")
            lines += [_describe_miss(o) for o in self.misses]
        return "\n".join(lines)


def _in_language(language: str, long: bool | None = None) -> Callable[[Outcome], bool]:
    """Selects the outcomes of one language (and of long or short messages)."""

    def keep(outcome: Outcome) -> bool:
        item = outcome.item
        return item.language == language and (long is None or item.long == long)

    return keep


def _header() -> str:
    return (
        f"{'set':<10} {'items':>5}  {'answerable right':>18}  {'wrong of answers':>17}  "
        f"{'escalated':>14}  {'small talk':>10}  {'long right':>12}"
    )


def _row(name: str, f: Figures) -> str:
    return (
        f"{name:<10} {f.items:>5}  "
        f"{f.accuracy:>7.1%} ({f.right:>3}/{f.answerable:<3})  "
        f"{f.wrong_rate:>6.1%} ({f.wrong:>3}/{f.answers:<3})  "
        f"{f.escalation_recall:>6.1%} ({f.escalated:>2}/{f.to_escalate:<2})  "
        f"{f.smalltalk_right:>4}/{f.smalltalk:<4}  "
        f"{f.long_right:>4}/{f.long_items:<4}"
    )


def _describe_miss(o: Outcome) -> str:
    d = o.decision
    got = d.entry_id or d.action.value
    if d.action is Action.CLARIFY:
        got = "clarify[" + ", ".join(s.entry_id for s in d.suggestions) + "]"
    if d.forwarded:
        got += " +forwarded"
    flag = "WRONG " if o.wrong_answer else ""
    facts = f" facts {[list(f) for f in o.item.facts]}" if o.item.facts else ""
    return (
        f"  {flag}{o.item.file}:{o.item.line}: {o.item.question!r} "
        f"expected {o.item.expect}{facts}, got {got} [{d.code.value}] ({d.score:.0f}; {d.reason})"
    )


class EvalFileError(Exception):
    """A question set that cannot be read; the message names the file and line."""


def eval_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, with folders expanded to the YAML files inside them."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.yaml") if p.is_file())
        else:
            found.append(path)
    return found


def load_eval(path: Path) -> list[EvalItem]:
    """Read a question set: a YAML list of `{q, expect, facts?, contains?, tags?}`."""
    try:
        data = load_yaml(path)
    except YamlSyntaxError as exc:
        raise EvalFileError(str(exc)) from exc
    except OSError as exc:
        raise EvalFileError(f"{path}: cannot read: {exc.strerror}") from exc
    if not isinstance(data, list):
        raise EvalFileError(f"{path}:1: the file must be a list of questions")
    return [_item(path, raw) for raw in data]


def _item(path: Path, raw: object) -> EvalItem:
    line = line_of(raw)
    if not isinstance(raw, LineDict) or not isinstance(raw.get("q"), str):
        raise EvalFileError(f"{path}:{line}: each item needs 'q' (the question)")
    expect = raw.get("expect")
    if not isinstance(expect, str) or not expect:
        raise EvalFileError(
            f"{path}:{line}: each item needs 'expect' ({', '.join(KINDS)} or an entry id)"
        )
    facts: list[tuple[str, ...]] = []
    for key in ("facts", "contains"):
        value = raw.get(key, [])
        if not isinstance(value, list):
            raise EvalFileError(f"{path}:{line}: '{key}' must be a list")
        for fact in value:
            alternatives = fact if isinstance(fact, list) else [fact]
            if not alternatives or not all(isinstance(a, str | int) for a in alternatives):
                raise EvalFileError(f"{path}:{line}: each fact is text or a list of texts")
            facts.append(tuple(str(a) for a in alternatives))
    if expect in (ANSWER, PARTIAL) and not facts:
        raise EvalFileError(f"{path}:{line}: '{expect}' needs 'facts'")
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(t in TAGS for t in tags):
        raise EvalFileError(f"{path}:{line}: tags must be some of {', '.join(TAGS)}")
    return EvalItem(raw["q"], expect, tuple(facts), frozenset(tags), line, str(path))


def evaluate(
    decide: Callable[..., Decision], items: Sequence[EvalItem], entry_ids: set[str]
) -> EvalReport:
    """Run every item through `decide(question, reply_language=...)`."""
    unknown = sorted({i.expect for i in items} - entry_ids - set(KINDS))
    if unknown:
        raise EvalFileError(f"labels name entries that do not exist: {', '.join(unknown)}")
    outcomes: list[Outcome] = []
    for item in items:
        decision = decide(item.question)
        outcome = Outcome(item, decision)
        if decision.action is Action.ANSWER and item.facts and not outcome.correct:
            # The facts may be stated in the other language's rendering of the same answer.
            flip = ENGLISH if decision.language == JAPANESE else JAPANESE
            outcome = Outcome(item, decision, decide(item.question, reply_language=flip).answer)
        outcomes.append(outcome)
    return EvalReport(outcomes)
