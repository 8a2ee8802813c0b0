"""Text normalisation shared by the knowledge base index and incoming questions.

Both sides go through the same steps, so a question matches however it is written:
Unicode NFKC and case folding, punctuation to spaces, known misspellings fixed, unknown
words corrected to the nearest known word, and synonyms and long names folded into one
short form ("Japan Exchange and Teaching Programme" -> "jet").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.phrases import PhraseFinder

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_POSSESSIVE = re.compile(r"(\w)'s\b")
_NON_WORD = re.compile(r"[^\w{}]+|_")
_DIGIT = re.compile(r"\d")
_LETTERS_DIGITS = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
# Where Latin letters or digits meet Japanese ("jetの参加者", "2024年度"): a word boundary.
_SCRIPTS = re.compile(
    r"(?<=[a-z0-9])(?=[\u3040-\u30ff\u3400-\u9fff])|(?<=[\u3040-\u30ff\u3400-\u9fff])(?=[a-z0-9])"
)

# Placeholders in alternate questions, and what detected entities are replaced by.
COUNTRY_TOKEN = "xcountry"
YEAR_TOKEN = "xyear"
_PLACEHOLDERS = {"{country}": COUNTRY_TOKEN, "{year}": YEAR_TOKEN}


# Loading checks every question and the index reads it again: the second time is free.
@lru_cache(maxsize=1 << 16)
def basic_normalize(text: str) -> str:
    """Case-fold, NFKC, and reduce punctuation to single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()
    if "{" in text:
        for placeholder, token in _PLACEHOLDERS.items():
            text = text.replace(placeholder, f" {token} ")
    if "'" in text:
        text = _POSSESSIVE.sub(r"\1", text).replace("'", "")
    text = _NON_WORD.sub(" ", text)
    if _DIGIT.search(text):
        text = _LETTERS_DIGITS.sub(" ", text)
    if not text.isascii():
        text = _SCRIPTS.sub(" ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Lexicon:
    """Synonyms and misspellings from ``knowledge/synonyms.yaml``."""

    phrases: Mapping[str, str] = field(default_factory=dict)
    typos: Mapping[str, str] = field(default_factory=dict)
    phrases_ja: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_groups(
        cls,
        phrases: Mapping[str, Iterable[str]],
        typos: Mapping[str, Iterable[str]],
        phrases_ja: Mapping[str, Iterable[str]] | None = None,
    ) -> Lexicon:
        """Build from ``canonical: [variants]`` groups as written in the YAML file."""
        phrase_map: dict[str, str] = {}
        for canonical, variants in phrases.items():
            for variant in variants:
                phrase_map[basic_normalize(variant)] = basic_normalize(canonical)
        typo_map: dict[str, str] = {}
        for correct, wrongs in typos.items():
            for wrong in wrongs:
                typo_map[basic_normalize(wrong)] = basic_normalize(correct)
        japanese: dict[str, str] = {}
        for canonical, variants in (phrases_ja or {}).items():
            for variant in variants:
                japanese[basic_normalize(variant)] = basic_normalize(canonical)
        return cls(phrases=phrase_map, typos=typo_map, phrases_ja=japanese)


class Normalizer:
    """Turns any text into the canonical token string the matcher compares."""

    def __init__(
        self,
        lexicon: Lexicon,
        vocabulary: Iterable[str] = (),
        keep: Callable[[str], bool] | None = None,
    ) -> None:
        self._lexicon = lexicon
        # Words never corrected, though unknown to the knowledge base: real words of the
        # language ("hours" must not become "tours").
        self._keep = keep or (lambda word: False)
        self._phrases = PhraseFinder(lexicon.phrases)
        self._by_initial: dict[str, tuple[str, ...]] = {}
        self._known: frozenset[str] = frozenset()
        self.set_vocabulary(vocabulary)

    def set_vocabulary(self, vocabulary: Iterable[str]) -> None:
        """Words that count as known; other words of 4+ letters are corrected towards them."""
        words = {w for w in vocabulary if w.isalpha()}
        words.update(w for phrase in self._lexicon.phrases for w in phrase.split())
        words.update(self._lexicon.phrases.values())
        self._known = frozenset(words)
        # People rarely get the first letter wrong; bucketing by it avoids silly corrections
        # ("name" -> "nam") and keeps the search small.
        buckets: dict[str, list[str]] = {}
        for word in sorted(words):
            if len(word) >= 4:
                buckets.setdefault(word[0], []).append(word)
        self._by_initial = {k: tuple(v) for k, v in buckets.items()}
        self._correct.cache_clear()

    def normalize(self, text: str, *, correct: bool = True) -> str:
        """Canonical form: fixed typos, corrected unknown words, folded synonyms."""
        return self.fold(basic_normalize(text), correct=correct)

    def fold(self, basic: str, *, correct: bool = True) -> str:
        """`normalize` for text already through `basic_normalize`."""
        tokens = [self._lexicon.typos.get(t, t) for t in basic.split()]
        if correct and self._by_initial:
            tokens = [self._correct(t) for t in tokens]
        joined = " ".join(tokens)
        pieces: list[str] = []
        last = 0
        for start, end, canonical in self._phrases.spans(joined):
            pieces += [joined[last:start], canonical]
            last = end
        return "".join(pieces) + joined[last:] if pieces else joined

    @lru_cache(maxsize=8192)  # noqa: B019 - one normaliser lives as long as its index
    def _correct(self, token: str) -> str:
        if len(token) < 4 or token in self._known or not token.isalpha() or self._keep(token):
            return token
        # Short words tolerate one edit; longer words a little more.
        cutoff = 85.0 if len(token) <= 5 else 80.0
        candidates = self._by_initial.get(token[0], ())
        found = process.extractOne(token, candidates, scorer=fuzz.ratio, score_cutoff=cutoff)
        return found[0] if found else token
