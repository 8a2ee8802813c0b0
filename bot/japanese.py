"""Japanese words: SudachiPy's morphological analysis with its core dictionary.

Japanese has no spaces, so the matcher needs an analyser to know which words a question
uses. Sudachi's normalised forms fold spelling variants (難しかった -> 難しい, 分かる/わかる),
so a question and an entry that say the same thing in different forms meet. Only content
words count (nouns, verbs, adjectives, adverbs); particles, auxiliaries and symbols do not.
The dictionary is memory-mapped read-only, so it is shared and costs little private memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from sudachipy import Dictionary, SplitMode

# Parts of speech that carry content (Sudachi's first-level categories).
CONTENT = frozenset({"名詞", "動詞", "形容詞", "形状詞", "副詞", "連体詞"})
# Second-level categories that do not: numerals are read as numbers elsewhere.
NOT_CONTENT = frozenset({"数詞"})


@dataclass(frozen=True)
class Morpheme:
    """One word of a Japanese text."""

    surface: str
    form: str  # Sudachi's normalised form, lower case
    pos: str  # first-level part of speech
    content: bool


class _Analyser:
    """One Sudachi tokenizer per thread (they are not shareable), created on first use."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._dictionary: Dictionary | None = None
        self._lock = threading.Lock()

    def tokenizer(self):  # type: ignore[no-untyped-def]
        tokenizer = getattr(self._local, "tokenizer", None)
        if tokenizer is None:
            with self._lock:
                if self._dictionary is None:
                    self._dictionary = Dictionary(dict="core")
            # Only the fields read here: a smaller share of the dictionary is touched.
            tokenizer = self._dictionary.tokenizer(
                mode=SplitMode.A, fields={"pos", "normalized_form"}
            )
            self._local.tokenizer = tokenizer
        return tokenizer


_ANALYSER = _Analyser()


@lru_cache(maxsize=8192)
def morphemes(text: str) -> tuple[Morpheme, ...]:
    """The words of a (normalised) Japanese text, in order."""
    result: list[Morpheme] = []
    for m in _ANALYSER.tokenizer().tokenize(text):
        surface = m.surface()
        if not surface.strip():
            continue
        pos = m.part_of_speech()
        content = pos[0] in CONTENT and pos[1] not in NOT_CONTENT and pos[1] != "非自立可能"
        result.append(Morpheme(surface, m.normalized_form().casefold(), pos[0], content))
    return tuple(result)


def content_words(text: str) -> list[str]:
    """The normalised forms of a text's content words, in order."""
    return [m.form for m in morphemes(text) if m.content]


def names_a_thing(word: str) -> bool:
    """Whether a content word is a noun written with kanji or katakana: a thing a question
    may ask about. Verbs and adjectives are how it is asked ("訪れる", "働く"), and words in
    hiragana alone are as often pieces of a word spelt out in kana ("けんしゅう")."""
    found = morphemes(word)
    return (
        len(found) == 1
        and found[0].pos == "名詞"
        and not all("\u3040" <= c <= "\u309f" for c in word)
    )


def warm_up() -> None:
    """Load the dictionary now rather than on the first question."""
    morphemes("研修の期間")


def dictionary_words(text: str) -> list[str]:
    """The content words of a text that Sudachi's dictionary knows (none made up on the spot
    for an unknown run of characters): whether a message has any real Japanese word."""
    return [
        m.surface()
        for m in _ANALYSER.tokenizer().tokenize(text)
        if not m.is_oov()
        and m.part_of_speech()[0] in CONTENT
        and m.part_of_speech()[1] not in NOT_CONTENT
    ]
