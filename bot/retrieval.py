"""Stage 2 of the decision: find the entries that could answer a question, and score them.

Each entry is indexed once per language from its alternate questions, title, answer and
table labels. Retrieval is BM25 over those terms, which a long message does not dilute: an
extra word adds nothing, where a share-of-the-question score would fall. The shortlist is
then scored on three signals, each from 0 to 1:

- explained: how much of the question's topic words (weighted by rarity) the entry's own
  words explain; what is left unexplained is what the entry does not talk about;
- contained: how much of the entry's closest alternate question the question contains;
- similar: rapidfuzz's ratio between the question's and the closest alternate's words.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.knowledge import Entry, KnowledgeBase
from bot.language import ENGLISH, JAPANESE
from bot.query import Analyser, Query

# An entry's answer counts for less than its questions and title: it mentions many things in
# passing that the entry is not *about*.
ANSWER_WEIGHT = 0.5
BM25_K1 = 1.2
BM25_B = 0.5
SHORTLIST = 12
# Points for an entry with a table when the question asks what a table gives.
TABLE_BONUS = 8.0
# Points lost by an entry whose title names a programme or body the question does not, when
# the question names another.
SUBJECT_PENALTY = 10.0


@dataclass
class EntryView:
    """One language's view of an entry."""

    entry: Entry
    terms: dict[str, float]  # weighted term frequencies, for BM25
    length: float
    knows: dict[str, float]  # every word its texts use, weighted: what it can explain
    alternates: list[frozenset[str]]  # each alternate question's topic words
    keys: list[str]  # each alternate's words, sorted and joined, for rapidfuzz
    countries: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    years: frozenset[int] = frozenset()
    table_countries: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()  # programme and body names its title names
    masses: list[float] = field(default_factory=list)  # each alternate's summed word rarity


@dataclass(frozen=True)
class Scored:
    """An entry in the running for a question, with its signals and score (0-100)."""

    view: EntryView
    bm25: float
    explained: float
    overlap: float
    similar: float
    score: float
    unexplained: tuple[str, ...] = ()

    @property
    def entry(self) -> Entry:
        """The entry."""
        return self.view.entry


@dataclass
class Weights:
    """How the signals make one score."""

    explained: float = 0.4
    overlap: float = 0.3
    bm25: float = 0.2
    similar: float = 0.1


@dataclass
class _LanguageIndex:
    views: list[EntryView]
    postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    word_idf: dict[str, float] = field(default_factory=dict)
    unknown_idf: float = 1.0
    average_length: float = 1.0


class Retriever:
    """The index of one knowledge base, both languages."""

    def __init__(
        self, kb: KnowledgeBase, analyser: Analyser, views: dict[str, list[EntryView]]
    ) -> None:
        self.kb = kb
        self.analyser = analyser
        self.weights = Weights()
        self._indexes = {language: _build(views[language]) for language in (ENGLISH, JAPANESE)}
        for language in (ENGLISH, JAPANESE):
            for view in views[language]:  # each alternate's weight, now that rarity is known
                view.masses = [
                    sum(self._weights(tuple(a), language).values()) for a in view.alternates
                ]
        # Every word any entry knows, per language: an unexplained word the knowledge base
        # knows elsewhere is about another entry; one it never uses is about something else.
        self.vocabulary = {
            language: frozenset(w for v in views[language] for w in v.knows)
            for language in (ENGLISH, JAPANESE)
        }

    def views(self, language: str) -> list[EntryView]:
        """Every entry's view in a language, in knowledge-base order."""
        return self._indexes[language].views

    def view(self, entry_id: str, language: str) -> EntryView:
        """One entry's view."""
        return next(v for v in self._indexes[language].views if v.entry.id == entry_id)

    def word_weight(self, word: str, language: str) -> float:
        """How rare a word is among the entries (unknown words are the rarest)."""
        index = self._indexes[language]
        return index.word_idf.get(word, index.unknown_idf)

    def _weights(self, words: tuple[str, ...], language: str) -> dict[str, float]:
        index = self._indexes[language]
        return {w: index.word_idf.get(w, index.unknown_idf) for w in words}

    def search(self, query: Query, limit: int = SHORTLIST) -> list[Scored]:
        """The entries sharing a term with the question, best first."""
        index = self._indexes[query.language]
        found: dict[int, float] = defaultdict(float)
        for term, count in Counter(query.terms).items():
            idf = index.idf.get(term)
            if idf is None:
                continue
            for position, tf in index.postings[term]:
                length = index.views[position].length
                norm = (
                    tf
                    * (BM25_K1 + 1)
                    / (tf + BM25_K1 * (1 - BM25_B + BM25_B * length / index.average_length))
                )
                found[position] += idf * norm * min(count, 2)
        best = heapq.nlargest(limit, found.items(), key=lambda kv: (kv[1], -kv[0]))
        top = best[0][1] if best else 1.0
        scored = [
            self.score(query, index.views[position], bm25, bm25 / top) for position, bm25 in best
        ]
        scored.sort(key=lambda s: (-s.score, s.entry.id))
        return scored

    def score(
        self, query: Query, view: EntryView, bm25: float = 0.0, relative: float = 1.0
    ) -> Scored:
        """The signals and score of one entry for a question."""
        language = query.language
        weight = self._weights(query.topic, language)
        total = sum(weight.values())
        unexplained = tuple(w for w in weight if w not in view.knows)
        explained = 1.0 - sum(weight[w] for w in unexplained) / total if total else 0.0
        asked_weight = self._weights(query.match, language)
        asked = set(asked_weight)
        asked_mass = sum(asked_weight.values())
        overlap = 0.0
        if asked_mass:
            for alternate, mass in zip(view.alternates, view.masses, strict=True):
                shared = alternate & asked
                if mass and shared:
                    share = sum(asked_weight[w] for w in shared)
                    overlap = max(overlap, 2 * share / (mass + asked_mass))
        similar = 0.0
        if view.keys and asked:
            key = " ".join(sorted(asked))
            similar = (process.extractOne(key, view.keys, scorer=fuzz.ratio) or ("", 0.0))[1] / 100
        w = self.weights
        score = 100 * (
            w.explained * explained + w.overlap * overlap + w.similar * similar + w.bm25 * relative
        )
        if view.entry.table is not None and _asks_table(query, view):
            score += TABLE_BONUS
        if query.named and view.subjects and not view.subjects & query.named:
            score -= SUBJECT_PENALTY  # "when was CLAIR set up" is not about J.CLAIR Singapore
        return Scored(view, bm25, explained, overlap, similar, score, unexplained)


def _asks_table(query: Query, view: EntryView) -> bool:
    """Whether a question asks what a table gives: a count, a ranking, a sum, or a row."""
    if query.countries and set(query.countries) <= view.table_countries:
        return True
    return query.counting or query.most or query.fewest or query.total


def merged(first: EntryView, second: EntryView) -> EntryView:
    """Two entries read as one, for a question that asks something of each."""
    knows = dict(second.knows)
    for word, weight in first.knows.items():
        knows[word] = max(weight, knows.get(word, 0.0))
    return EntryView(
        entry=first.entry,
        terms=first.terms,
        length=first.length,
        knows=knows,
        alternates=[*first.alternates, *second.alternates],
        keys=[*first.keys, *second.keys],
        masses=[*first.masses, *second.masses],
        countries=first.countries | second.countries,
        places=first.places | second.places,
        years=first.years | second.years,
        table_countries=first.table_countries | second.table_countries,
        subjects=first.subjects | second.subjects,
    )


def _build(views: list[EntryView]) -> _LanguageIndex:
    index = _LanguageIndex(views)
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for position, view in enumerate(views):
        for term, tf in view.terms.items():
            postings[term].append((position, tf))
    count = len(views)
    index.postings = dict(postings)
    index.idf = {
        term: math.log(1 + (count - len(p) + 0.5) / (len(p) + 0.5)) for term, p in postings.items()
    }
    frequency: Counter[str] = Counter(w for v in views for w in v.knows)
    index.word_idf = {w: math.log((count + 1) / (n + 1)) + 1.0 for w, n in frequency.items()}
    index.unknown_idf = math.log(count + 1) + 1.0
    index.average_length = sum(v.length for v in views) / count if count else 1.0
    return index


def build_views(kb: KnowledgeBase, analyser: Analyser, language: str) -> list[EntryView]:
    """Every entry's view in one language."""
    return [_view(kb, analyser, entry, language) for entry in kb.entries.values()]


def _view(kb: KnowledgeBase, analyser: Analyser, entry: Entry, language: str) -> EntryView:
    if language == JAPANESE:
        questions, title, answer = entry.questions_ja, entry.title_ja, entry.answer_ja
    else:
        questions, title, answer = entry.questions, entry.title, entry.answer
    terms: dict[str, float] = {}
    knows: dict[str, float] = {}
    alternates: list[frozenset[str]] = []
    keys: list[str] = []

    def read(text: str) -> tuple[list[str], list[str]]:
        folded = analyser.fold(text, language, correct=False)
        words = analyser.words_of(folded, language)
        return words, analyser.terms_of(words, folded, language)

    for text in (*questions, title):
        if not text:
            continue
        words, text_terms = read(text)
        for term in text_terms:
            terms[term] = terms.get(term, 0.0) + 1.0
        knows.update(dict.fromkeys(words, 1.0))
        match = analyser.match_of(words, language)
        alternates.append(frozenset(match))
        keys.append(" ".join(sorted(set(match))))
    if answer:
        words, text_terms = read(answer)
        for term in text_terms:
            terms[term] = terms.get(term, 0.0) + ANSWER_WEIGHT
        for word in words:
            knows.setdefault(word, ANSWER_WEIGHT)
    for label in _table_labels(kb, entry, language):
        words, text_terms = read(label)
        for word in words:
            knows[word] = 1.0
        for term in text_terms:
            terms[term] = terms.get(term, 0.0) + ANSWER_WEIGHT
    title_words = read(title)[0] if title else []
    return EntryView(
        entry=entry,
        subjects=frozenset(w for w in title_words if w in analyser.key_terms),
        terms=terms,
        length=float(sum(terms.values())),
        knows=knows,
        alternates=alternates,
        keys=keys,
    )


def _table_labels(kb: KnowledgeBase, entry: Entry, language: str) -> Iterable[str]:
    if entry.table is None:
        return ()
    table = kb.tables[entry.table]
    labels: list[str] = [table.title_in(language), table.unit_in(language)]
    for column in table.columns:
        labels += [column.key, column.label, *column.aliases]
        if language == JAPANESE:
            labels += [column.label_ja, *column.aliases_ja]
    for row in table.rows:
        labels += [row.key, row.label, *row.aliases]
        if language == JAPANESE:
            labels += [row.label_ja, *row.aliases_ja]
    return [label for label in labels if label]
