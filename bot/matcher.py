"""The matcher: decides whether to answer a question, ask "did you mean", or escalate.

The index is built once from the knowledge base. A question is scored against every entry
that shares a word with it, by two signals:

- coverage: how much of the question's meaning (its words, weighted by rarity) the entry's
  alternate questions and title contain;
- similarity: rapidfuzz's best score between the question and one alternate question.

Then the safety rules apply, in this order, because a wrong answer is worse than none:
a topic the seeds never cover (fees, visas, ...) is escalated; a country or year the
chosen entry does not mention is escalated; only a clear winner is answered.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz, process

from bot import texts
from bot.entities import country_names, find_countries, find_years, mask
from bot.knowledge import Column, Entry, KnowledgeBase
from bot.normalize import (
    COUNTRY_TOKEN,
    YEAR_TOKEN,
    Normalizer,
    basic_normalize,
    content_terms,
    stem,
)
from bot.tables import answer_from_table

# An entry's answer text counts for less than its questions and title: it mentions many
# things in passing that the entry is not *about*.
ANSWER_WEIGHT = 0.5
COVERAGE_SHARE = 0.6
# The rest of the score is similarity to the closest alternate question: mostly of the
# meaningful words, a little of the whole wording, which breaks ties between entries whose
# questions share all their keywords ("what is clair" vs "what does clair singapore do").
WORDING_SHARE = 0.1
# A question naming a country that a table lists is most likely about that table's figures.
TABLE_BONUS = 4.0
# How many entries, best by word coverage, are compared by string similarity.
SHORTLIST = 40
# Points lost by an entry that never mentions a programme the question names (key_terms).
KEY_TERM_PENALTY = 10.0
ASEAN = (
    "Brunei",
    "Cambodia",
    "Indonesia",
    "Laos",
    "Malaysia",
    "Myanmar",
    "Philippines",
    "Singapore",
    "Thailand",
    "Vietnam",
)


class Action(StrEnum):
    """What the bot does with a question."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    ESCALATE = "escalate"
    SMALLTALK = "smalltalk"


@dataclass(frozen=True)
class MatcherSettings:
    """Thresholds (scores are 0-100) that separate answering, clarifying and escalating."""

    answer_threshold: float = 55.0
    clarify_threshold: float = 45.0
    margin: float = 3.0
    clarify_band: float = 15.0
    max_suggestions: int = 3
    max_question_chars: int = 500


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
    considered: tuple[Candidate, ...] = field(default=(), compare=False)

    def to_json(self) -> dict[str, Any]:
        """The JSON object `clair-bot ask --json` prints."""
        return {
            "question": self.question,
            "action": self.action.value,
            "entry_id": self.entry_id,
            "title": self.title,
            "score": round(self.score, 1),
            "answer": self.answer,
            "suggestions": [s.to_json() for s in self.suggestions],
            "related": list(self.related),
            "reason": self.reason,
        }


@dataclass
class _IndexedEntry:
    entry: Entry
    alternates: list[str]
    wordings: list[str]
    terms: dict[str, float]
    countries: frozenset[str]
    years: frozenset[int]
    places: frozenset[str]
    table_countries: frozenset[str]


class Matcher:
    """Answers questions from one knowledge base. Build once; `decide` is cheap."""

    def __init__(self, kb: KnowledgeBase, settings: MatcherSettings | None = None) -> None:
        self.kb = kb
        self.settings = settings or MatcherSettings()
        self.normalizer = Normalizer(kb.lexicon)
        self.normalizer.set_vocabulary(self._vocabulary())
        self._places_re = _phrase_pattern(kb.places)
        self._entries = [self._index_entry(e) for e in kb.entries.values()]
        self._position = {item.entry.id: i for i, item in enumerate(self._entries)}
        # term -> [(entry index, weight of the term in that entry)]
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, item in enumerate(self._entries):
            for term, weight in item.terms.items():
                self._postings[term].append((index, weight))
        count = len(self._entries)
        self._idf = {
            term: math.log((count + 1) / (len(posting) + 1)) + 1.0
            for term, posting in self._postings.items()
        }
        self._unknown_idf = math.log(count + 1) + 1.0
        self._key_terms = frozenset(stem(t) for t in kb.key_terms)
        self._gaps = {
            entry.id: _phrase_pattern(entry.gaps) for entry in kb.entries.values() if entry.gaps
        }
        self._smalltalk = {
            basic_normalize(phrase): intent for intent in kb.smalltalk for phrase in intent.phrases
        }
        self._smalltalk_re = _phrase_pattern(self._smalltalk)
        self._guards = {
            topic: _phrase_pattern(
                {self.normalizer.normalize(t, correct=False) for t in terms} | set(terms)
            )
            for topic, terms in kb.guards.items()
        }
        self._row_countries = {
            table.id: {
                row.key: frozenset(
                    c
                    for name in (row.key, row.label, *row.aliases)
                    for c in find_countries(basic_normalize(name))
                )
                for row in table.rows
            }
            for table in kb.tables.values()
        }
        self._column_patterns = {
            (table.id, column.key): _phrase_pattern(
                {self.normalizer.normalize(a, correct=False) for a in column.aliases}
                | ({column.key.casefold()} if column.key.isalpha() else set())
            )
            for table in kb.tables.values()
            for column in table.columns
            if not column.total
        }

    # -- building ------------------------------------------------------------------------
    def _vocabulary(self) -> set[str]:
        words: set[str] = set()
        for entry in self.kb.entries.values():
            for text in (entry.title, entry.answer, *entry.questions):
                words.update(basic_normalize(text).split())
        for terms in self.kb.guards.values():
            for term in terms:
                words.update(term.split())
        for intent in self.kb.smalltalk:
            for phrase in intent.phrases:
                words.update(basic_normalize(phrase).split())
        for name in country_names():
            words.update(name.split())
        return words

    def _index_entry(self, entry: Entry) -> _IndexedEntry:
        normalize = self.normalizer.normalize
        masked = [mask(normalize(q, correct=False)) for q in (*entry.questions, entry.title)]
        # Words sorted, so plain ratio on them is rapidfuzz's token_sort_ratio, precomputed.
        alternates = [" ".join(sorted(content_terms(m))) for m in masked]
        terms: dict[str, float] = {}
        for term in content_terms(mask(normalize(entry.answer, correct=False))):
            terms[term] = ANSWER_WEIGHT
        for alternate in alternates:
            for term in alternate.split():
                terms[term] = 1.0
        if entry.table is not None:
            for column in self.kb.tables[entry.table].columns:
                for alias in (column.key, *column.aliases):
                    for term in content_terms(normalize(alias, correct=False)):
                        terms.setdefault(term, 1.0)
        everything = " ".join((entry.title, entry.answer, *entry.questions))
        normalized = normalize(everything, correct=False)
        countries = set(find_countries(normalized))
        if re.search(r"\basean\b", normalized):
            countries.update(ASEAN)
        years = set(entry.years) | set(find_years(everything))
        table_countries: set[str] = set()
        if entry.table is not None:
            table = self.kb.tables[entry.table]
            years |= table.years
            for column in table.columns:
                years.update(y for y in (column.year, column.from_year, column.to_year) if y)
            for row in table.rows:
                for name in (row.key, row.label, *row.aliases):
                    table_countries.update(find_countries(basic_normalize(name)))
        return _IndexedEntry(
            entry,
            alternates,
            masked,
            terms,
            frozenset(countries),
            frozenset(years),
            self._find_places(basic_normalize(everything)),
            frozenset(table_countries),
        )

    def _find_places(self, basic: str) -> frozenset[str]:
        if self._places_re is None:
            return frozenset()
        return frozenset(self.kb.places[m.group(1)] for m in self._places_re.finditer(basic))

    # -- deciding ------------------------------------------------------------------------
    def decide(self, question: str) -> Decision:
        """Answer, clarify, escalate or reply to small talk, for one question."""
        text = question.strip()[: self.settings.max_question_chars]
        basic = basic_normalize(text)
        if not any(ch.isalnum() for ch in basic):
            return Decision(
                question, Action.SMALLTALK, answer=texts.EMPTY_QUESTION, reason="no words"
            )
        smalltalk_reply, remainder = self._split_smalltalk(basic)
        if smalltalk_reply is not None and not remainder:
            return Decision(question, Action.SMALLTALK, answer=smalltalk_reply, reason="smalltalk")
        if remainder != basic:
            text = remainder
        normalized = self.normalizer.normalize(text)
        ranked = self._rank(normalized)
        considered = tuple(ranked[:5])
        best = ranked[0].score if ranked else 0.0
        if best < self.settings.clarify_threshold:
            return Decision(
                question,
                Action.ESCALATE,
                score=best,
                considered=considered,
                reason="no entry matches well enough",
            )
        uncovered = self._uncovered_topics(basic, normalized, self.kb.entries[ranked[0].entry_id])
        if uncovered:
            return Decision(
                question,
                Action.ESCALATE,
                score=best,
                considered=considered,
                reason=f"the knowledge base does not cover: {', '.join(uncovered)}",
            )
        # Only entries that can speak to the countries, places and years the question names
        # may answer it. If the best such entry is clearly behind one that cannot, the
        # question is about what the seeds do not say: escalate rather than change subject.
        countries = find_countries(normalized)
        years = find_years(text)
        grounded: list[tuple[Candidate, str]] = []
        first_refusal = ""
        for candidate in ranked:
            if candidate.score < self.settings.clarify_threshold:
                break
            answer, refusal = self._answer_text(
                self.kb.entries[candidate.entry_id], normalized, countries, years
            )
            if refusal:
                first_refusal = first_refusal or refusal
            else:
                grounded.append((candidate, answer))
        if not grounded or grounded[0][0].score < best - self.settings.margin:
            return Decision(
                question,
                Action.ESCALATE,
                score=best,
                considered=considered,
                reason=first_refusal or "no entry can answer this",
            )
        top, answer = grounded[0]
        runner_up = grounded[1][0].score if len(grounded) > 1 else 0.0
        if (
            top.score >= self.settings.answer_threshold
            and top.score - runner_up >= self.settings.margin
        ):
            entry = self.kb.entries[top.entry_id]
            return Decision(
                question,
                Action.ANSWER,
                answer=answer,
                entry_id=entry.id,
                title=entry.title,
                score=top.score,
                related=entry.related,
                considered=considered,
                reason="clear match",
            )
        band = top.score - self.settings.clarify_band
        suggestions = tuple(c for c, _ in grounded if c.score >= band)
        return Decision(
            question,
            Action.CLARIFY,
            answer=texts.DID_YOU_MEAN,
            score=top.score,
            suggestions=suggestions[: self.settings.max_suggestions],
            considered=considered,
            reason="several entries match"
            if top.score >= self.settings.answer_threshold
            else "match is not confident",
        )

    def answer_for(self, entry_id: str, question: str = "") -> str:
        """The answer text of an entry, for a question that chose it (e.g. from a button)."""
        entry = self.kb.entries[entry_id]
        if not question:
            return entry.answer
        normalized = self.normalizer.normalize(question)
        answer, refusal = self._answer_text(
            entry, normalized, find_countries(normalized), find_years(question)
        )
        return entry.answer if refusal else answer

    def rank(self, question: str) -> list[Candidate]:
        """The entries in the running for a question, best first (for tools and tests)."""
        return self._rank(self.normalizer.normalize(question))

    def _rank(self, normalized: str) -> list[Candidate]:
        countries = set(find_countries(normalized))
        masked = mask(normalized)
        variants = [normalized] if masked == normalized else [normalized, masked]
        term_lists = [content_terms(v) for v in variants]
        named = {t for terms in term_lists for t in terms if t in self._key_terms}
        coverage = self._coverage(term_lists)
        # Word coverage is cheap and decides who is in the running; the costlier string
        # similarity is computed only for the best few, which keeps big knowledge bases fast.
        shortlist = heapq.nlargest(SHORTLIST, coverage.items(), key=lambda kv: (kv[1], -kv[0]))
        queries = [" ".join(sorted(terms)) for terms in term_lists]
        scored: list[Candidate] = []
        for index, cover in shortlist:
            item = self._entries[index]
            similarity = max(
                process.extractOne(q, item.alternates, scorer=fuzz.ratio)[1] for q in queries
            )
            wording = process.extractOne(masked, item.wordings, scorer=fuzz.ratio)[1]
            score = (
                COVERAGE_SHARE * cover * 100
                + (1 - COVERAGE_SHARE - WORDING_SHARE) * similarity
                + WORDING_SHARE * wording
            )
            if countries and countries <= item.table_countries:
                score = min(100.0, score + TABLE_BONUS)
            score -= KEY_TERM_PENALTY * sum(1 for t in named if t not in item.terms)
            scored.append(Candidate(item.entry.id, item.entry.title, score))
        scored.sort(key=lambda c: (-c.score, c.entry_id))
        return scored

    def _coverage(self, term_lists: list[list[str]]) -> dict[int, float]:
        """For every entry sharing a word with the question: the share of the question's
        meaning (words weighted by rarity) that the entry contains, best over the variants."""
        best: dict[int, float] = {}
        for terms in term_lists:
            if not terms:
                continue
            total = sum(self._idf.get(t, self._unknown_idf) for t in terms)
            found: dict[int, float] = defaultdict(float)
            for term in terms:
                idf = self._idf.get(term, self._unknown_idf)
                for index, weight in self._postings.get(term, ()):
                    found[index] += idf * weight
            for index, value in found.items():
                share = value / total
                if share > best.get(index, 0.0):
                    best[index] = share
        return best

    def _split_smalltalk(self, basic: str) -> tuple[str | None, str]:
        """The small-talk reply, if the message starts with small talk, and what is left."""
        if basic in self._smalltalk:
            return self._smalltalk[basic].reply, ""
        if self._smalltalk_re is None:
            return None, basic
        reply: str | None = None
        rest = basic
        # Peel greetings and thanks off both ends: "hi, when do trainees arrive? thanks".
        while match := self._smalltalk_re.match(rest):
            reply = reply or self._smalltalk[match.group(1)].reply
            rest = rest[match.end() :].strip()
        while rest and (
            match := re.search(r"(?:^|\s)(" + self._smalltalk_re.pattern[3:-3] + r")$", rest)
        ):
            reply = reply or self._smalltalk[match.group(1)].reply
            rest = rest[: match.start()].strip()
        return reply, rest

    def _uncovered_topics(self, basic: str, normalized: str, entry: Entry) -> list[str]:
        found = [
            topic
            for topic, pattern in self._guards.items()
            if pattern is not None and (pattern.search(basic) or pattern.search(normalized))
        ]
        return [topic for topic in found if topic not in entry.covers]

    def _answer_text(
        self, entry: Entry, normalized: str, countries: tuple[str, ...], years: tuple[int, ...]
    ) -> tuple[str, str]:
        """(answer, refusal): the text for this entry, or why it may not answer."""
        if entry.table is not None:
            table = self.kb.tables[entry.table]
            result = answer_from_table(
                table,
                countries,
                years,
                lambda column: self._mentions_column(table.id, column, normalized),
                self._row_countries[table.id],
                before=bool(re.search(r"\b(?:before|prior to|until|up to)\b", normalized)),
            )
            if result is None:
                return entry.answer, ""
            return result.text, result.refusal
        item = self._entries[self._position[entry.id]]
        gaps = self._gaps.get(entry.id)
        if gaps is not None and (found := gaps.search(basic_normalize(normalized))):
            return "", f"'{entry.id}' does not say: {found.group(1)}"
        missing_places = self._find_places(basic_normalize(normalized)) - item.places
        if missing_places:
            return "", f"'{entry.id}' says nothing about {', '.join(sorted(missing_places))}"
        missing_countries = [c for c in countries if c not in item.countries]
        if missing_countries:
            return "", f"'{entry.id}' says nothing about {', '.join(missing_countries)}"
        missing_years = [y for y in years if y not in item.years]
        if missing_years:
            listed = ", ".join(str(y) for y in missing_years)
            return "", f"'{entry.id}' says nothing about {listed}"
        return entry.answer, ""

    def _mentions_column(self, table_id: str, column: Column, normalized: str) -> bool:
        pattern = self._column_patterns.get((table_id, column.key))
        return bool(pattern and pattern.search(normalized))


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """A whole-word regex for any of `phrases`, longest first; None for no phrases."""
    ordered = sorted({p for p in phrases if p}, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile(r"\b(" + "|".join(re.escape(p) for p in ordered) + r")\b")


__all__ = [
    "COUNTRY_TOKEN",
    "YEAR_TOKEN",
    "Action",
    "Candidate",
    "Decision",
    "Matcher",
    "MatcherSettings",
]
