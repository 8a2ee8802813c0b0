"""Turning text into what the matcher compares: words, terms and what a question names.

The same steps read the knowledge base's texts and the questions, so both meet in one form:
English is folded (misspellings, synonyms, long names to short forms) and stemmed; Japanese is
folded (its names to the same short forms) and cut into words by Sudachi. Countries and years
become placeholder tokens in the terms, and are read separately, with places, programme
names, guard topics, the kind of fact asked for and table operations ("the most", "in total").
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

from bot import japanese
from bot.english import is_real_word, stem
from bot.entities import COUNTRY_TOKEN, YEAR_TOKEN, Countries, find_years
from bot.knowledge import KnowledgeBase
from bot.language import ENGLISH, JAPANESE, fold_japanese
from bot.normalize import Normalizer, basic_normalize
from bot.phrases import PhraseFinder
from bot.wordlists import Cues, Wording

PLACEHOLDERS = frozenset({COUNTRY_TOKEN, YEAR_TOKEN})
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff々〆ヵヶー]+")
_NUMBER = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Query:
    """One question (one part of a message), analysed."""

    language: str
    text: str  # as read
    basic: str  # lower case, no punctuation
    normalized: str  # names folded, typos fixed; countries and years still as written
    terms: tuple[str, ...]  # what retrieval scores: stems / Japanese words, placeholders in
    words: tuple[str, ...]  # the content words, placeholders in, no stop words
    topic: tuple[str, ...]  # the words an answer must explain: no generic words, no numbers
    match: tuple[str, ...] = ()  # topic words and question words, compared with alternates
    countries: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    places: frozenset[str] = frozenset()
    named: frozenset[str] = frozenset()  # programme and role names (synonyms.yaml key_terms)
    guards: tuple[str, ...] = ()  # guard topics (guards.yaml) the question touches
    kinds: frozenset[str] = frozenset()  # the kinds of fact asked for
    counting: bool = False
    region: bool = False  # the whole region, not one country
    before: bool = False
    most: bool = False
    fewest: bool = False
    total: bool = False  # a sum: "in total", "since 1995", 累計
    cumulative: bool = False  # over every year: "so far", "since it started", これまで
    # What a count question counts, if it names it: "staff" in "how many staff work ..."
    # (English: the stems of the words after "how many"; Japanese: the word before 何人).
    counted: str = ""
    refers: bool = False  # uses a pronoun ("their", "there", その) for something named earlier
    mine: bool = False  # speaks of the writer's own country or city ("our officers", 当市)
    # The words as written, for each stem: whether a word is a real word is read on these.
    surfaces: dict[str, str] = field(default_factory=dict, compare=False)

    def inherit(self, previous: Query) -> Query:
        """A later part of a message that names no country, year or programme of its own
        speaks of the earlier part's: "Thailand in JET: how many ALTs, and how many CIRs?"."""
        named = self.named or previous.named
        return replace(
            self,
            countries=self.countries or previous.countries,
            years=self.years or previous.years,
            places=self.places or previous.places,
            named=named,
            terms=self.terms
            + tuple(t for t in previous.named if t not in self.terms and t in named),
        )


class Analyser:
    """Reads texts of one knowledge base, in either language."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.normalizer = Normalizer(kb.lexicon, keep=is_real_word)
        self.countries = Countries(kb.country_names)
        self._places = PhraseFinder(kb.places)
        guard_terms: dict[str, str] = {}
        for topic, terms in (*kb.guards.items(), *kb.guards_ja.items()):
            for term in terms:
                guard_terms.setdefault(term, topic)
                guard_terms.setdefault(self.normalizer.normalize(term, correct=False), topic)
        self._guards = PhraseFinder(guard_terms)
        self.key_terms = frozenset(stem(t) for t in kb.key_terms)

    def wording(self, language: str) -> Wording:
        """The word lists of a language."""
        return self.kb.language.for_language(language)

    def set_vocabulary(self, words: set[str]) -> None:
        """The English words of the knowledge base: unknown words are corrected towards them."""
        wording = self.kb.language.english
        self.normalizer.set_vocabulary(words | wording.stopwords | wording.generic)

    # -- folding ------------------------------------------------------------------------------
    def fold(self, text: str, language: str, *, correct: bool) -> str:
        """Names folded to short forms (and, for questions, typos fixed); not masked."""
        basic = basic_normalize(text)
        if language == JAPANESE:
            basic = fold_japanese(basic, self.kb.lexicon.phrases_ja, self.wording(JAPANESE).frames)
        return self.normalizer.fold(basic, correct=correct and language == ENGLISH)

    def words_of(self, folded: str, language: str) -> list[str]:
        """Content words of folded text, countries and years as placeholders."""
        masked = self.countries.mask(folded)
        wording = self.wording(language)
        if language == JAPANESE:
            return [w for w in _japanese_words(masked) if w not in wording.stopwords]
        return [
            t if t in PLACEHOLDERS else stem(t)
            for t in masked.split()
            if t not in wording.stopwords
        ]

    def terms_of(self, words: list[str], folded: str, language: str) -> list[str]:
        """Retrieval terms: the words, and for Japanese also two-character pieces."""
        if language != JAPANESE:
            return words
        pieces = [
            a + b
            for run in _CJK_RUN.findall(self.countries.mask(folded))
            for a, b in itertools.pairwise(run)
        ]
        return [*words, *pieces]

    def topic_of(self, words: list[str], language: str) -> list[str]:
        """The words an answer must explain: not generic, not a placeholder or a number."""
        generic = self._generic(language)
        return [
            w for w in words if w not in PLACEHOLDERS and not _NUMBER.match(w) and w not in generic
        ]

    @cached_property
    def _generic_by_language(self) -> dict[str, frozenset[str]]:
        """Per language: the generic words, and the single words of the question cues (where,
        how, fewest, total, ...): what they ask is checked by the kind and table rules."""
        result: dict[str, frozenset[str]] = {}
        for language in (ENGLISH, JAPANESE):
            wording = self.wording(language)
            words = set(wording.generic) | set(wording.stopwords) | set(wording.asking)
            for phrases in (
                *wording.kinds.values(), wording.count, wording.most, wording.fewest,
                wording.sum, wording.region, wording.before,
            ):  # fmt: skip
                for phrase in phrases:
                    words.update(phrase.split())
            if language == ENGLISH:
                words |= {stem(w) for w in words}
            else:
                words |= {w for phrase in words for w in japanese.content_words(phrase)}
            result[language] = frozenset(words)
        return result

    def _generic(self, language: str) -> frozenset[str]:
        return self._generic_by_language[language]

    @cached_property
    def _plain_by_language(self) -> dict[str, frozenset[str]]:
        result: dict[str, frozenset[str]] = {}
        for language in (ENGLISH, JAPANESE):
            wording = self.wording(language)
            words = set(wording.generic) | set(wording.stopwords)
            if language == ENGLISH:
                words |= {stem(w) for w in words}
            else:
                words |= {w for phrase in words for w in japanese.content_words(phrase)}
            result[language] = frozenset(words)
        return result

    def match_of(self, words: list[str], language: str) -> list[str]:
        """The words compared with alternate questions: the topic words and the question
        words ("when", "where", "how many"), which tell "when" from "where" questions."""
        plain = self._plain_by_language[language]
        return [
            w for w in words if w not in PLACEHOLDERS and not _NUMBER.match(w) and w not in plain
        ]

    # -- questions --------------------------------------------------------------------------
    def query(self, text: str, language: str) -> Query:
        """Everything the later stages need to know about one question."""
        basic = basic_normalize(text)
        normalized = self.fold(text, language, correct=True)
        words = self.words_of(normalized, language)
        surfaces = (
            {stem(t): t for t in self.countries.mask(normalized).split()}
            if language == ENGLISH
            else {}
        )
        wording = self.wording(language)
        cues = wording.cues
        look = f"{basic} {normalized}" if language == ENGLISH else basic

        def has(name: str) -> bool:
            return look in cues[name]

        # After folding, "telephone number of" is "phone of": not a count.
        counting_text = normalized if language == ENGLISH else basic

        kinds = _kinds(look, wording)
        if kinds & {"who", "name"} and look in cues["people"]:
            kinds |= {"person"}  # "who is the mayor", "name of the governor": a person's name
        guards = tuple(dict.fromkeys((*self._guards.find(basic), *self._guards.find(normalized))))
        return Query(
            language=language,
            text=text,
            basic=basic,
            normalized=normalized,
            terms=tuple(self.terms_of(words, normalized, language)),
            words=tuple(words),
            topic=tuple(self.topic_of(words, language)),
            match=tuple(self.match_of(words, language)),
            countries=self.countries.find(normalized),
            years=find_years(text),
            places=frozenset(self._places.find(basic)),
            named=frozenset(w for w in words if w in self.key_terms),
            guards=guards,
            kinds=kinds,
            counting="count" in kinds
            or (counting_text in cues["count"] and not kinds & {"duration", "date"}),
            region=has("region"),
            before=has("before"),
            most=has("most"),
            fewest=has("fewest"),
            total=has("sum") or has("cumulative"),
            cumulative=has("cumulative"),
            surfaces=surfaces,
            counted=self._counted(counting_text, language),
            refers=basic in cues["pronouns"],
            mine=basic in cues["own"],
        )

    def _counted(self, basic: str, language: str) -> str:
        """The thing a count question counts, when it names one that is not generic."""
        wording = self.wording(language)
        spans = wording.cues["count"].spans(basic)
        if not spans:
            return ""
        generic = self._generic(language)
        start, end, _ = spans[0]
        if language == JAPANESE:
            before = [w for w in japanese.content_words(basic[:start]) if w not in generic]
            return before[-1] if before else ""
        words = [
            stem(token)
            for token in basic[end:].split()[:3]
            if token not in wording.stopwords and not token.isdigit()
        ]
        if not words or words[0] in generic:
            return ""
        return " ".join(w for w in words if w not in generic)

    def names_topic(self, text: str, language: str, topics: frozenset[str]) -> bool:
        """Whether a piece of text names a topic word, a guard topic or a known name."""
        normalized = self.fold(text, language, correct=True)
        words = self.words_of(normalized, language)
        topic = self.topic_of(words, language)
        if any(w in topics for w in topic):
            return True
        # A real word the knowledge base never uses still names something ("vaccinations").
        if language == ENGLISH:
            surfaces = {stem(t): t for t in self.countries.mask(normalized).split()}
            if any(is_real_word(surfaces.get(w, w)) and len(w) > 3 for w in topic):
                return True
        elif topic:
            return True
        basic = basic_normalize(text)
        return bool(self._guards.find(basic) or self._places.find(basic))


def cue_found(cues: Cues, *texts: str) -> bool:
    """Whether any of `texts` contains one of the cues."""
    return any(text in cues for text in texts)


def _kinds(text: str, wording: Wording) -> frozenset[str]:
    """The kinds of fact asked for. A cue inside a longer cue of another kind counts as
    that one: "how many days" asks for a duration, not a count."""
    spans = [
        (start, end, kind)
        for kind, cues in wording.kind_cues.items()
        for start, end, _ in cues.spans(text)
    ]
    return frozenset(
        kind
        for start, end, kind in spans
        if not any(
            s <= start and end <= e and (e - s) > (end - start) and k != kind for s, e, k in spans
        )
    )


def _japanese_words(text: str) -> list[str]:
    """Japanese content words and the Latin words among them (acronyms such as JET)."""
    words: list[str] = []
    for run in re.findall(r"[a-z0-9]+|[^\sa-z0-9]+", text):
        if run.isascii():
            words.append(run)
        else:
            words += japanese.content_words(run)
    return words
