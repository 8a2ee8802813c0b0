"""Plain types shared by the matcher, the store, the configuration and the services.

A `Decision` is what the matcher says about one message; its `code` is a stable reason code
(`ask --json`, the staff thread and `clair-bot eval` all show it), its `reason` the detail in
words. Nothing here knows how a decision is reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.language import ENGLISH


class Reason(StrEnum):
    """Why the matcher decided what it did: stable codes, counted by `clair-bot eval`."""

    ANSWERED = "answered"  # one entry answers, clearly ahead of the rest
    ANSWERED_PART = "answered-part"  # some parts answered, the rest forwarded to staff
    SMALLTALK = "smalltalk"  # greetings, thanks, goodbyes, "are you a bot"
    EMPTY = "empty"  # no words at all
    CLARIFY_CLOSE = "clarify-close"  # several entries answer about equally well
    CLARIFY_WEAK = "clarify-weak"  # one entry might answer, but not confidently
    NO_MATCH = "no-match"  # nothing in the knowledge base is close
    GUARD_TOPIC = "guard-topic"  # a topic the sources never cover (fees, visas, ...)
    ENTRY_GAP = "entry-gap"  # what the closest entry says the sources leave out
    NOT_COVERED = "not-covered"  # a country, place, year or programme the entry does not name
    NO_FIGURE = "no-figure"  # "how many" of an entry that gives no number
    FACT_KIND = "fact-kind"  # asks a kind of fact (place, person, opinion) the entry lacks
    UNEXPLAINED = "unexplained"  # uses words the entry does not explain
    TABLE_MISSING = "table-missing"  # a row, column or year the table does not list
    ASKED_STAFF = "asked-staff"  # the user sent it to staff themselves


class Action(StrEnum):
    """What the bot does with a question."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    ESCALATE = "escalate"
    SMALLTALK = "smalltalk"


@dataclass(frozen=True)
class MatcherSettings:
    """Thresholds (scores are 0-100) that separate answering, clarifying and escalating."""

    answer_threshold: float = 52.0
    clarify_threshold: float = 45.0
    margin: float = 2.0
    # An entry that may not answer (it lacks what is asked) is passed over for one that may,
    # if that one scores within this many points of it; otherwise the question goes to staff.
    fallback_band: float = 15.0
    clarify_band: float = 15.0
    max_suggestions: int = 3
    max_question_chars: int = 1500


@dataclass(frozen=True)
class Candidate:
    """An entry the matcher considered, with its score."""

    entry_id: str
    title: str
    score: float

    def to_json(self) -> dict[str, Any]:
        """Plain data for JSON output and storage."""
        return {"entry_id": self.entry_id, "title": self.title, "score": round(self.score, 1)}


@dataclass(frozen=True)
class Decision:
    """The outcome for one question: what to do, and the exact text to send."""

    question: str
    action: Action
    answer: str = ""
    entry_id: str | None = None
    title: str | None = None
    score: float = 0.0
    suggestions: tuple[Candidate, ...] = ()
    related: tuple[str, ...] = ()
    reason: str = ""
    code: Reason = Reason.NO_MATCH
    language: str = ENGLISH
    considered: tuple[Candidate, ...] = field(default=(), compare=False)
    # A message that asks several things: every entry that answered a part, and the parts
    # the knowledge base cannot answer, which go to staff beside the answer.
    entry_ids: tuple[str, ...] = ()
    forwarded: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON object `clair-bot ask --json` prints."""
        return {
            "question": self.question,
            "action": self.action.value,
            "language": self.language,
            "entry_id": self.entry_id,
            "title": self.title,
            "score": round(self.score, 1),
            "answer": self.answer,
            "suggestions": [s.to_json() for s in self.suggestions],
            "related": list(self.related),
            "reason": self.reason,
            "code": self.code.value,
            "entry_ids": list(self.entry_ids),
            "forwarded": list(self.forwarded),
        }
