"""The matcher: decides whether to answer a question, ask "did you mean", or escalate.

The index is built once from the knowledge base, one per language (English by words,
Japanese by two-character pieces). A question is scored against the entries that share
a term with it, by two signals:

- coverage: how much of the question's meaning (its terms, weighted by rarity) the entry's
  alternate questions and title contain;
- similarity: rapidfuzz's best score between the question and one alternate question.

Then the safety rules apply, in this order, because a wrong answer is worse than none:
a topic the seeds never cover (fees, visas, ...) is escalated; a country, place or year
the chosen entry does not mention is escalated; only a clear winner is answered.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot import texts
from bot.decision import Action, Candidate, Decision, MatcherSettings, Reason
from bot.entities import (
    country_names,
    find_countries,
    find_years,
    mask,
    standalone,
)
from bot.knowledge import Column, Entry, KnowledgeBase
from bot.language import (
    ENGLISH,
    JAPANESE,
    detect_language,
    fold_japanese,
    has_japanese,
    japanese_terms,
)
from bot.normalize import (
    COUNTRY_TOKEN,
    STOPWORDS,
    YEAR_TOKEN,
    Normalizer,
    basic_normalize,
    content_terms,
    stem,
)
from bot.phrases import PhraseFinder
from bot.tables import answer_from_table

# An entry's answer text counts for less than its questions and title: it mentions many
# things in passing that the entry is not *about*.
ANSWER_WEIGHT = 0.5
COVERAGE_SHARE = {ENGLISH: 0.6, JAPANESE: 0.6}
# The rest of the score is similarity to the closest alternate question: mostly of the
# meaningful words, a little of the whole wording, which breaks ties between entries whose
# questions share all their keywords ("what is clair" vs "what does clair singapore do").
WORDING_SHARE = 0.1
# A question naming a country that a table lists is most likely about that table's figures,
# all the more when it asks for a count.
TABLE_BONUS = 4.0
COUNT_TABLE_BONUS = 10.0
_COUNT = re.compile(r"\bhow many\b|\bnumber of\b|\btotal\b|何人|何名|人数|合計|累計|総数")
# The whole region, not one country: in a table question it means the table's total.
_REGION = re.compile(r"\basean\b|\bthe region\b|アセアン|東南アジア")
# Numbers that are not years: what a count question needs an answer to contain.
_FIGURE = re.compile(r"(?<![\d,])(?!(?:19|20)\d\d(?!\d))\d[\d,]*")
# How many entries, best by term coverage, are compared by string similarity.
SHORTLIST = 40
# Points lost by an entry that never mentions a programme the question names (key_terms).
KEY_TERM_PENALTY = 10.0
# Japanese questions carry much polite phrasing that no entry repeats, so pieces the
# knowledge base has never seen weigh less there than unknown English words do.
UNKNOWN_WEIGHT = {ENGLISH: 1.0, JAPANESE: 0.5}
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
_BEFORE = re.compile(r"\b(?:before|prior to|until|up to)\b|以前|より前|までの")


@dataclass
class _Side:
    """One language's view of an entry."""

    alternates: list[str]  # compared with rapidfuzz's ratio
    wordings: list[str]  # whole wordings, for the tie-breaking share
    terms: dict[str, float]  # term -> weight (1 from questions/title, less from the answer)
    pieces: list[frozenset[str]] = field(default_factory=list)  # each alternate's terms


@dataclass
class _Facts:
    """What an entry's texts name: countries, places and years (for the safety rules)."""

    countries: set[str]
    places: set[str]
    years: set[int]


@dataclass
class _IndexedEntry:
    entry: Entry
    sides: dict[str, _Side]
    countries: frozenset[str]
    years: frozenset[int]
    places: frozenset[str]
    table_countries: frozenset[str]


class _Index:
    """Postings and term rarity for one language, over every entry."""

    def __init__(self, sides: list[_Side], unknown_weight: float = 1.0) -> None:
        # term -> [(entry index, weight of the term in that entry)]
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, side in enumerate(sides):
            for term, weight in side.terms.items():
                self.postings[term].append((index, weight))
        count = len(sides)
        self.idf = {
            term: math.log((count + 1) / (len(posting) + 1)) + 1.0
            for term, posting in self.postings.items()
        }
        # A term no entry has counts as the rarest there is (times `unknown_weight`): a
        # question full of words the knowledge base never uses is likely out of scope.
        self.unknown_idf = (math.log(count + 1) + 1.0) * unknown_weight

    def coverage(self, term_lists: list[list[str]]) -> dict[int, float]:
        """For every entry sharing a term with the question: the share of the question's
        meaning (terms weighted by rarity) the entry contains, best over the variants."""
        best: dict[int, float] = {}
        for terms in term_lists:
            if not terms:
                continue
            total = sum(self.idf.get(t, self.unknown_idf) for t in terms)
            found: dict[int, float] = defaultdict(float)
            for term in terms:
                idf = self.idf.get(term, self.unknown_idf)
                for index, weight in self.postings.get(term, ()):
                    found[index] += idf * weight
            for index, value in found.items():
                share = value / total
                if share > best.get(index, 0.0):
                    best[index] = share
        return best


@dataclass(frozen=True)
class _Query:
    """A question prepared for one language's index."""

    language: str
    basic: str  # lower case, no punctuation
    normalized: str  # typos fixed, names folded
    term_lists: list[list[str]]  # as written, and with countries/years masked
    keys: list[str]  # what is compared with the alternates
    wording: str
    countries: tuple[str, ...]
    years: tuple[int, ...]
    places: frozenset[str]
    named: frozenset[str]  # programme names (key_terms) the question names
    counting: bool  # asks "how many"
    region: bool  # names the whole region ("ASEAN") rather than one country


class Matcher:
    """Answers questions from one knowledge base. Build once; `decide` is cheap."""

    def __init__(self, kb: KnowledgeBase, settings: MatcherSettings | None = None) -> None:
        self.kb = kb
        self.settings = settings or MatcherSettings()
        self.normalizer = Normalizer(kb.lexicon)
        # Words of the entries, collected while indexing them (their own text is folded
        # without typo correction, so the vocabulary is only needed for questions).
        self._words: set[str] = set()
        self._places = PhraseFinder(kb.places)
        # Countries and places together, for reading what an entry names in one scan.
        self._named = PhraseFinder(
            {
                **{name: f"place:{place}" for name, place in kb.places.items()},
                **{n: f"country:{c}" for n, c in country_names().items() if n != "us"},
            },
            lambda text, start, name: name in kb.places or standalone(text, start, name),
        )
        self._row_countries = {
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
        self._entries = [self._index_entry(e) for e in kb.entries.values()]
        self._position = {item.entry.id: i for i, item in enumerate(self._entries)}
        self.normalizer.set_vocabulary(self._vocabulary())
        self._indexes = {
            language: _Index(
                [item.sides[language] for item in self._entries], UNKNOWN_WEIGHT[language]
            )
            for language in (ENGLISH, JAPANESE)
        }
        self._key_terms = frozenset(stem(t) for t in kb.key_terms)
        self._gaps = {
            entry.id: PhraseFinder({gap: gap for gap in (*entry.gaps, *entry.gaps_ja)})
            for entry in kb.entries.values()
            if entry.gaps or entry.gaps_ja
        }
        self._smalltalk = {
            basic_normalize(phrase): intent
            for intent in kb.smalltalk
            for phrase in (*intent.phrases, *intent.phrases_ja)
        }
        # Japanese small talk has no spaces to split on: matched as prefixes and suffixes.
        self._smalltalk_ja = sorted(
            (p for p in self._smalltalk if has_japanese(p)), key=len, reverse=True
        )
        self._smalltalk_words = max((len(p.split()) for p in self._smalltalk), default=0)
        guard_terms: dict[str, str] = {}
        for topic, terms in (*kb.guards.items(), *kb.guards_ja.items()):
            for term in terms:
                guard_terms.setdefault(term, topic)
                guard_terms.setdefault(self.normalizer.normalize(term, correct=False), topic)
        self._guards = PhraseFinder(guard_terms)
        self._column_names = {
            (table.id, column.key): PhraseFinder(
                dict.fromkeys(
                    {self.normalizer.normalize(a, correct=False) for a in column.aliases}
                    | {basic_normalize(a) for a in column.aliases_ja}
                    | ({column.key.casefold()} if column.key.isalpha() else set()),
                    column.key,
                )
            )
            for table in kb.tables.values()
            for column in table.columns
            if not column.total
        }

    # -- building ------------------------------------------------------------------------
    def _vocabulary(self) -> set[str]:
        words = set(self._words)
        for terms in self.kb.guards.values():
            for term in terms:
                words.update(term.split())
        for intent in self.kb.smalltalk:
            for phrase in intent.phrases:
                words.update(basic_normalize(phrase).split())
        for name in country_names():
            words.update(name.split())
        return words

    def _fold(self, text: str, language: str, basic: str | None = None) -> str:
        """Normalised text for an entry: names folded (typos are only fixed in questions)."""
        basic = basic_normalize(text) if basic is None else basic
        if language == JAPANESE:
            basic = fold_japanese(basic, self.kb.lexicon.phrases_ja)
        return self.normalizer.fold(basic, correct=False)

    def _terms(self, normalized: str, language: str) -> list[str]:
        if language == JAPANESE:
            return [stem(t) for t in japanese_terms(normalized, STOPWORDS)]
        return content_terms(normalized)

    def _side(self, entry: Entry, language: str, facts: _Facts) -> _Side:
        """One language's index of an entry; what its texts name goes into `facts`."""
        if language == JAPANESE:
            questions, title, answer = entry.questions_ja, entry.title_ja, entry.answer_ja
        else:
            questions, title, answer = entry.questions, entry.title, entry.answer

        def prepare(text: str) -> str:
            # What a text names is read before names are folded: "J.CLAIR Singapore" is
            # about Singapore even though it matches as "jclair".
            basic = basic_normalize(text)
            if language == ENGLISH:
                self._words.update(basic.split())
            names_country = False
            for kind_and_name in self._named.find(basic):
                kind, _, name = kind_and_name.partition(":")
                names_country = names_country or kind == "country"
                (facts.countries if kind == "country" else facts.places).add(name)
            if _REGION.search(basic):
                facts.countries.update(ASEAN)
            facts.years.update(find_years(text))
            # Folding Japanese only drops and shortens phrases: it cannot make a country name
            # appear, so a text that named none needs no second look. (English folding fixes
            # misspellings, which can: "phillipines".)
            look = names_country or language == ENGLISH
            return mask(self._fold(text, language, basic), countries=look)

        wordings = [prepare(q) for q in (*questions, title) if q]
        term_lists = [self._terms(w, language) for w in wordings]
        if language == JAPANESE:
            alternates = wordings
        else:
            # Words sorted, so plain ratio on them is rapidfuzz's token_sort_ratio.
            alternates = [" ".join(sorted(t)) for t in term_lists]
        terms: dict[str, float] = {}
        if answer:
            for term in self._terms(prepare(answer), language):
                terms[term] = ANSWER_WEIGHT
        pieces = [frozenset(t) for t in term_lists]
        for piece in pieces:
            terms.update(dict.fromkeys(piece, 1.0))
        if entry.table is not None:
            for column in self.kb.tables[entry.table].columns:
                names = (column.label_ja, *column.aliases_ja) if language == JAPANESE else ()
                for alias in (column.key, *column.aliases, *names):
                    for term in self._terms(self._fold(alias, language), language):
                        terms.setdefault(term, 1.0)
        return _Side(alternates, wordings, terms, pieces)

    def _index_entry(self, entry: Entry) -> _IndexedEntry:
        facts = _Facts(set(), set(), set(entry.years))
        sides = {language: self._side(entry, language, facts) for language in (ENGLISH, JAPANESE)}
        table_countries: set[str] = set()
        if entry.table is not None:
            table = self.kb.tables[entry.table]
            facts.years |= table.years
            for column in table.columns:
                facts.years.update(y for y in (column.year, column.from_year, column.to_year) if y)
            for names in self._row_countries[table.id].values():
                table_countries.update(names)
        return _IndexedEntry(
            entry,
            sides,
            frozenset(facts.countries),
            frozenset(facts.years),
            frozenset(facts.places),
            frozenset(table_countries),
        )

    def _find_places(self, basic: str) -> frozenset[str]:
        return frozenset(self._places.find(basic))

    def _query(self, text: str, language: str) -> _Query:
        basic = basic_normalize(text)
        if language == JAPANESE:
            normalized = self._fold(text, JAPANESE, basic)
        else:
            normalized = self.normalizer.fold(basic)
        masked = mask(normalized)
        variants = [normalized] if masked == normalized else [normalized, masked]
        term_lists = [self._terms(v, language) for v in variants]
        if language == JAPANESE:
            keys = variants
        else:
            keys = [" ".join(sorted(terms)) for terms in term_lists]
        return _Query(
            language,
            basic,
            normalized,
            term_lists,
            keys,
            masked,
            # After names are folded: a question about "J.CLAIR Singapore" (the office) is not
            # about the country, and "phillipines" is corrected. (What an entry names is read
            # before folding, so an entry about the office does count as naming Singapore.)
            countries=find_countries(normalized),
            years=find_years(text),
            places=self._find_places(basic),
            named=frozenset(t for terms in term_lists for t in terms if t in self._key_terms),
            counting=bool(_COUNT.search(basic) or _COUNT.search(normalized)),
            region=bool(_REGION.search(basic)),
        )

    # -- deciding ------------------------------------------------------------------------
    def decide(
        self, question: str, hint: str | None = None, reply_language: str | None = None
    ) -> Decision:
        """Answer, clarify, escalate or reply to small talk, for one question.

        `hint` is the user's language code (Telegram's, or the one they chose), used when
        the text alone does not tell; the answer comes in `reply_language` if given, else
        in the language of the question.
        """
        text = question.strip()[: self.settings.max_question_chars]
        language = detect_language(text, hint)
        reply = reply_language or language
        basic = basic_normalize(text)
        if not any(ch.isalnum() for ch in basic):
            return Decision(
                question, Action.SMALLTALK, answer=texts.get(reply).empty_question,
                reason="no words", code=Reason.EMPTY, language=reply,
            )  # fmt: skip
        smalltalk_reply, remainder = self._split_smalltalk(basic, reply)
        if smalltalk_reply is not None and not remainder:
            return Decision(
                question, Action.SMALLTALK, answer=smalltalk_reply, reason="smalltalk",
                code=Reason.SMALLTALK,
                language=reply,
            )  # fmt: skip
        if remainder != basic:
            text = remainder
        query = self._query(text, language)
        ranked = self._rank(query, reply)
        considered = tuple(ranked[:5])
        best = ranked[0].score if ranked else 0.0
        if best < self.settings.clarify_threshold:
            return Decision(
                question, Action.ESCALATE, score=best, considered=considered,
                reason="no entry matches well enough", code=Reason.NO_MATCH,
                language=reply,
            )  # fmt: skip
        top_entry = self.kb.entries[ranked[0].entry_id]
        uncovered = self._uncovered_topics(query, top_entry)
        if uncovered:
            return Decision(
                question, Action.ESCALATE, score=best, considered=considered,
                reason=f"the knowledge base does not cover: {', '.join(uncovered)}",
                code=Reason.GUARD_TOPIC,
                language=reply,
            )  # fmt: skip
        if gap := self._gap(query, top_entry):
            # The question is about this entry's topic, asking what the seeds leave out
            # (JIAM's address): no other entry may stand in for it.
            return Decision(
                question, Action.ESCALATE, score=best, considered=considered,
                reason=f"'{top_entry.id}' does not say: {gap}", code=Reason.ENTRY_GAP,
                language=reply,
            )  # fmt: skip
        # Only entries that can speak to the countries, places and years the question names
        # may answer it. If the best such entry is clearly behind one that cannot, the
        # question is about what the seeds do not say: escalate rather than change subject.
        grounded: list[tuple[Candidate, str]] = []
        first_refusal = ""
        for candidate in ranked:
            if candidate.score < self.settings.clarify_threshold:
                break
            answer, refusal = self._answer_text(self.kb.entries[candidate.entry_id], query, reply)
            if refusal:
                first_refusal = first_refusal or refusal
            else:
                grounded.append((candidate, answer))
        if not grounded or grounded[0][0].score < best - self.settings.margin:
            return Decision(
                question, Action.ESCALATE, score=best, considered=considered,
                reason=first_refusal or "no entry can answer this", code=Reason.NOT_COVERED,
                language=reply,
            )  # fmt: skip
        top, answer = grounded[0]
        runner_up = grounded[1][0].score if len(grounded) > 1 else 0.0
        if (
            top.score >= self.settings.answer_threshold
            and top.score - runner_up >= self.settings.margin
        ):
            entry = self.kb.entries[top.entry_id]
            return Decision(
                question, Action.ANSWER, answer=answer, entry_id=entry.id,
                title=entry.title_in(reply), score=top.score, related=entry.related,
                considered=considered, reason="clear match", code=Reason.ANSWERED,
                language=reply,
            )  # fmt: skip
        band = top.score - self.settings.clarify_band
        suggestions = tuple(c for c, _ in grounded if c.score >= band)
        return Decision(
            question, Action.CLARIFY, answer=texts.get(reply).did_you_mean, score=top.score,
            suggestions=suggestions[: self.settings.max_suggestions], considered=considered,
            reason="several entries match" if top.score >= self.settings.answer_threshold
            else "match is not confident",
            code=Reason.CLARIFY_CLOSE if top.score >= self.settings.answer_threshold
            else Reason.CLARIFY_WEAK,
            language=reply,
        )  # fmt: skip

    def answer_for(self, entry_id: str, question: str = "", language: str = ENGLISH) -> str:
        """The answer text of an entry, for a question that chose it (e.g. from a button)."""
        entry = self.kb.entries[entry_id]
        if not question:
            return entry.answer_in(language)
        query = self._query(question, detect_language(question, language))
        answer, refusal = self._answer_text(entry, query, language)
        return entry.answer_in(language) if refusal else answer

    def rank(self, question: str, hint: str | None = None) -> list[Candidate]:
        """The entries in the running for a question, best first (for tools and tests)."""
        language = detect_language(question, hint)
        return self._rank(self._query(question, language), language)

    def _rank(self, query: _Query, reply: str) -> list[Candidate]:
        index = self._indexes[query.language]
        countries = set(query.countries)
        coverage = index.coverage(query.term_lists)
        # Term coverage is cheap and decides who is in the running; the costlier string
        # similarity is computed only for the best few, which keeps big knowledge bases fast.
        shortlist = heapq.nlargest(SHORTLIST, coverage.items(), key=lambda kv: (kv[1], -kv[0]))
        scored: list[Candidate] = []
        for position, cover in shortlist:
            item = self._entries[position]
            side = item.sides[query.language]
            if not side.alternates:
                continue
            if query.language == JAPANESE:
                similarity = self._contained(query, side)
            else:
                similarity = max(
                    process.extractOne(key, side.alternates, scorer=fuzz.ratio)[1]
                    for key in query.keys
                )
            wording = process.extractOne(query.wording, side.wordings, scorer=fuzz.ratio)[1]
            share = COVERAGE_SHARE[query.language]
            score = (
                share * cover * 100
                + (1 - share - WORDING_SHARE) * similarity
                + WORDING_SHARE * wording
            )
            if countries and countries <= item.table_countries:
                bonus = COUNT_TABLE_BONUS if query.counting else TABLE_BONUS
                score = min(100.0, score + bonus)
            score -= KEY_TERM_PENALTY * sum(1 for t in query.named if t not in side.terms)
            scored.append(Candidate(item.entry.id, item.entry.title_in(reply), score))
        scored.sort(key=lambda c: (-c.score, c.entry_id))
        return scored

    def _contained(self, query: _Query, side: _Side) -> float:
        """How much of the closest alternate question the question contains (0-100).

        Japanese questions wrap a few key words in long polite phrasing, so a character-level
        ratio against a short alternate is low even for a perfect match; the share of the
        alternate's pieces (weighted by rarity) found in the question is what tells.
        """
        idf = self._indexes[JAPANESE].idf
        present = {t for terms in query.term_lists for t in terms}
        best = 0.0
        for pieces in side.pieces:
            total = sum(idf.get(t, 1.0) for t in pieces)
            if total:
                found = sum(idf.get(t, 1.0) for t in pieces if t in present)
                best = max(best, found / total)
        return best * 100

    def _split_smalltalk(self, basic: str, language: str) -> tuple[str | None, str]:
        """The small-talk reply, if the message starts or ends with small talk, and the rest."""
        if basic in self._smalltalk:
            return self._smalltalk[basic].reply_in(language), ""
        reply: str | None = None
        rest = basic
        # Peel greetings and thanks off both ends: "hi, when do trainees arrive? thanks".
        for at_start in (True, False):
            while rest and (peeled := self._peel(rest, at_start)) is not None:
                phrase, rest = peeled
                reply = reply or self._smalltalk[phrase].reply_in(language)
        return reply, rest

    def _peel(self, text: str, at_start: bool) -> tuple[str, str] | None:
        """(small-talk phrase, the rest) if `text` starts (or ends) with one."""
        words = text.split()
        for count in range(min(len(words), self._smalltalk_words), 0, -1):
            part = words[:count] if at_start else words[-count:]
            phrase = " ".join(part)
            if phrase in self._smalltalk:
                remaining = words[count:] if at_start else words[:-count]
                return phrase, " ".join(remaining)
        for phrase in self._smalltalk_ja:
            if text.startswith(phrase) if at_start else text.endswith(phrase):
                rest = text[len(phrase) :] if at_start else text[: -len(phrase)]
                return phrase, rest.strip()
        return None

    def _uncovered_topics(self, query: _Query, entry: Entry) -> list[str]:
        found = dict.fromkeys(
            (*self._guards.find(query.basic), *self._guards.find(query.normalized))
        )
        return [topic for topic in found if topic not in entry.covers]

    def _answer_text(self, entry: Entry, query: _Query, language: str) -> tuple[str, str]:
        """(answer, refusal): the text for this entry, or why it may not answer."""
        countries, years = query.countries, query.years
        if entry.table is not None:
            table = self.kb.tables[entry.table]
            result = answer_from_table(
                table,
                () if query.region else countries,  # "ASEAN and India": the whole table
                years,
                lambda column: self._mentions_column(table.id, column, query.normalized),
                self._row_countries[table.id],
                before=bool(_BEFORE.search(query.normalized)),
                language=language,
            )
            if result is None:
                return entry.answer_in(language), ""
            return result.text, result.refusal
        item = self._entries[self._position[entry.id]]
        if gap := self._gap(query, entry):
            return "", f"'{entry.id}' does not say: {gap}"
        unnamed = [t for t in query.named if t not in item.sides[query.language].terms]
        if unnamed:  # "where is JIAM" is not answered by an entry that never mentions JIAM
            return "", f"'{entry.id}' says nothing about {', '.join(sorted(unnamed))}"
        missing_places = query.places - item.places
        if missing_places:
            return "", f"'{entry.id}' says nothing about {', '.join(sorted(missing_places))}"
        missing_countries = [c for c in countries if c not in item.countries]
        if missing_countries:
            return "", f"'{entry.id}' says nothing about {', '.join(missing_countries)}"
        missing_years = [y for y in years if y not in item.years]
        if missing_years:
            listed = ", ".join(str(y) for y in missing_years)
            return "", f"'{entry.id}' says nothing about {listed}"
        if query.counting and not _FIGURE.search(entry.answer):
            return "", f"'{entry.id}' gives no figure to count with"
        return entry.answer_in(language), ""

    def _gap(self, query: _Query, entry: Entry) -> str:
        """What the question asks of `entry` that its `gaps` say the seeds leave out, if any."""
        gaps = self._gaps.get(entry.id)
        if gaps is None:
            return ""
        found = gaps.find(query.basic) or gaps.find(query.normalized)
        return found[0] if found else ""

    def _mentions_column(self, table_id: str, column: Column, normalized: str) -> bool:
        names = self._column_names.get((table_id, column.key))
        return bool(names and names.spans(normalized))


__all__ = ["COUNTRY_TOKEN", "YEAR_TOKEN", "Matcher"]
