"""Stage 3 of the decision: may this entry answer this question, and with what text?

An entry that matches a question well may still not answer it: "Where exactly is JIAM?"
matches the entry about JIAM training, which never says where JIAM is. An entry answers only
when it gives what is asked:

- no guard topic (fees, visas, deadlines, ...) the entry does not cover, nothing its `gaps`
  list, and no kind of fact (place, person, date, opinion, ...) outside its `facets`;
- every programme, role, country, place and year the question names is one the entry (or its
  table's rows and columns) speaks of; a count needs a figure for what was named;
- every topic word of the question is explained by the entry's own texts. A word the
  knowledge base uses elsewhere belongs to another entry; a real word it never uses
  ("famous", "hours") is something the sources do not cover.

Each refusal carries a stable reason code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot import japanese
from bot.decision import Reason
from bot.english import is_real_word, stem
from bot.entities import Countries
from bot.knowledge import Column, Entry, KnowledgeBase
from bot.language import ENGLISH, JAPANESE
from bot.normalize import basic_normalize
from bot.phrases import PhraseFinder
from bot.query import Query
from bot.retrieval import EntryView, Scored
from bot.tables import TableQuestion, answer_from_table

# Kinds any entry about the topic gives: "what is X", "list the Xs".
ALWAYS = frozenset({"definition", "list"})
# Numbers that are not years, in digits or words: what a count question needs an answer to
# contain.
_FIGURE = re.compile(
    r"(?<![\d,])(?!(?:19|20)\d\d(?!\d))\d[\d,]*|"
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|thousand)\b",
    re.IGNORECASE,
)
# The country every programme is in: "how many months in Japan" does not count Japan.
HOST = "Japan"


@dataclass(frozen=True)
class Verdict:
    """Whether an entry may answer: the text to send, or the reason code and detail."""

    answer: str = ""
    code: Reason | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """The entry may answer."""
        return self.code is None


class Checker:
    """The answerability checks of one knowledge base."""

    def __init__(
        self,
        kb: KnowledgeBase,
        vocabulary: Mapping[str, frozenset[str]],
        countries: Countries | None = None,
    ) -> None:
        self.kb = kb
        self.countries = countries or Countries(kb.country_names)
        find_countries = self.countries.find
        self.vocabulary = vocabulary
        self._gaps = {
            entry.id: PhraseFinder({gap: gap for gap in (*entry.gaps, *entry.gaps_ja)})
            for entry in kb.entries.values()
            if entry.gaps or entry.gaps_ja
        }
        self.row_countries = {
            table.id: {
                row.key: frozenset(
                    c
                    for name in (row.key, row.label, *row.aliases, row.label_ja, *row.aliases_ja)
                    if name
                    for c in find_countries(basic_normalize(name))
                )
                for row in table.rows
            }
            for table in kb.tables.values()
        }
        self._column_names: dict[tuple[str, str], PhraseFinder] = {}

    def set_column_names(self, names: dict[tuple[str, str], PhraseFinder]) -> None:
        """How each non-total table column is named in questions (built by the matcher)."""
        self._column_names = names

    # -- the checks -----------------------------------------------------------------------
    def guard(self, query: Query, covers: frozenset[str] = frozenset()) -> Verdict | None:
        """A topic the sources never cover, unless the entry answering does (`covers`)."""
        uncovered = [topic for topic in query.guards if topic not in covers]
        if uncovered:
            return Verdict(
                code=Reason.GUARD_TOPIC,
                detail=f"the knowledge base does not cover: {', '.join(uncovered)}",
            )
        return None

    def gap(self, query: Query, entry: Entry) -> Verdict | None:
        """What the entry's `gaps` say the sources leave out."""
        gaps = self._gaps.get(entry.id)
        if gaps is None:
            return None
        found = gaps.find(query.basic) or gaps.find(query.normalized)
        if found:
            return Verdict(code=Reason.ENTRY_GAP, detail=f"'{entry.id}' does not say: {found[0]}")
        return None

    def kinds(self, query: Query, facets: frozenset[str], entry_id: str) -> Verdict | None:
        """The kind of fact asked for must be one the entry (or entries) give."""
        missing = sorted(query.kinds - facets - ALWAYS)
        if missing:
            return Verdict(
                code=Reason.FACT_KIND,
                detail=f"'{entry_id}' gives no {', '.join(missing)}",
            )
        return None

    def unnamed(self, query: Query, knows: Mapping[str, float], entry_id: str) -> Verdict | None:
        """Every programme or role the question names must be one the entry speaks of."""
        missing = sorted(t for t in query.named if t not in knows)
        if missing:
            return Verdict(
                code=Reason.NOT_COVERED,
                detail=f"'{entry_id}' says nothing about {', '.join(missing)}",
            )
        return None

    def unexplained(self, query: Query, scored: Scored) -> tuple[list[str], list[str]]:
        """(words the knowledge base uses elsewhere, real words it never uses) left unexplained."""
        vocabulary = self.vocabulary[query.language]
        elsewhere = [w for w in scored.unexplained if w in vocabulary]
        foreign = [
            w
            for w in scored.unexplained
            if w not in vocabulary
            and (
                is_real_word(query.surfaces.get(w, w))
                if query.language == ENGLISH
                else japanese.names_a_thing(w)
            )
        ]
        return elsewhere, foreign

    def check(self, query: Query, scored: Scored, language: str) -> Verdict:
        """The checks of one entry on its own (the kind of fact asked for, the programmes
        named and the words left unexplained are the matcher's: two entries may answer them
        together); the answer text when all pass."""
        entry, view = scored.entry, scored.view
        for refusal in (self.guard(query, entry.covers), self.gap(query, entry)):
            if refusal is not None:
                return refusal
        if entry.table is not None:
            return self._table(query, entry, view, language)
        missing = sorted(query.places - view.places)
        missing += [c for c in query.countries if c not in view.countries]
        missing += [str(y) for y in query.years if y not in view.years]
        if missing:
            return Verdict(
                code=Reason.NOT_COVERED,
                detail=f"'{entry.id}' says nothing about {', '.join(missing)}",
            )
        if query.most or query.fewest:
            return Verdict(code=Reason.NO_FIGURE, detail=f"'{entry.id}' has no table to rank")
        if query.counting and not _figure_for(entry.answer, query.countries, self.countries):
            return Verdict(code=Reason.NO_FIGURE, detail=f"'{entry.id}' gives no figure for this")
        if (
            query.counting
            and query.counted
            and not _counts(entry.answer_in(query.language), query.counted, query.language)
        ):
            return Verdict(code=Reason.NO_FIGURE, detail=f"'{entry.id}' gives no figure for this")
        return Verdict(answer=entry.answer_in(language))

    def _table(self, query: Query, entry: Entry, view: EntryView, language: str) -> Verdict:
        assert entry.table is not None
        table = self.kb.tables[entry.table]
        missing_places = sorted(query.places - view.places)
        if missing_places:
            return Verdict(
                code=Reason.NOT_COVERED,
                detail=f"'{entry.id}' says nothing about {', '.join(missing_places)}",
            )
        if query.cumulative and table.years:
            listed = ", ".join(str(y) for y in sorted(table.years))
            return Verdict(
                code=Reason.TABLE_MISSING,
                detail=f"the table '{table.title}' gives {listed} only, not a running total",
            )
        result = answer_from_table(
            table,
            TableQuestion(
                countries=() if query.region and not query.countries else query.countries,
                years=query.years,
                columns=tuple(
                    c for c in table.columns if not c.total and self._names(table.id, c, query)
                ),
                before=query.before,
                most=query.most,
                fewest=query.fewest,
                total=query.total or query.region,
            ),
            self.row_countries[table.id],
            language,
        )
        if result is None:
            return Verdict(answer=entry.answer_in(language))
        if result.refusal:
            return Verdict(code=Reason.TABLE_MISSING, detail=result.refusal)
        return Verdict(answer=result.text)

    def _names(self, table_id: str, column: Column, query: Query) -> bool:
        names = self._column_names.get((table_id, column.key))
        return bool(names and (names.spans(query.normalized) or names.spans(query.basic)))


def _counts(answer: str, counted: str, language: str) -> bool:
    """Whether the answer gives a number of `counted`: a figure next to the word (within
    three words in English, in the same sentence in Japanese)."""
    if language == JAPANESE:
        sentences = re.split(r"[。\n]", answer)
        return any(counted in japanese.content_words(s) and re.search(r"\d", s) for s in sentences)
    tokens = basic_normalize(answer).split()
    stems = [stem(t) for t in tokens]
    wanted = set(counted.split())
    for index, word in enumerate(stems):
        if word not in wanted:
            continue
        near = tokens[max(0, index - 3) : index] + tokens[index + 1 : index + 4]
        if any(_FIGURE.fullmatch(t) for t in near):
            return True
    return False


def _figure_for(answer: str, countries: tuple[str, ...], finder: Countries) -> bool:
    """Whether the answer gives a figure, on a line naming each country asked about."""
    if not [c for c in countries if c != HOST]:
        return bool(_FIGURE.search(answer))
    lines = answer.splitlines()
    for country in (c for c in countries if c != HOST):
        naming = [line for line in lines if country in finder.find(basic_normalize(line))]
        if not any(_FIGURE.search(line) for line in naming):
            return False
    return True
