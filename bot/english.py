"""English words: stems for matching, and which words are real words rather than typos.

A word the knowledge base has never seen is either a typo of one it has ("trainning") or a
real word for something it does not cover ("famous", "hours"). Only typos may be corrected
towards the knowledge base; a real word must stay what it is, so that a question about
something the sources never mention is not taken for one they do. wordfreq's frequency list
(shipped inside the package) tells the two apart.
"""

from __future__ import annotations

from functools import cache, lru_cache

import snowballstemmer

# The most frequent English words (wordfreq's combined sources): down to a Zipf frequency of
# about 2.7, i.e. words seen about once in two million, which leaves typos out.
COMMON_WORDS = 40_000

_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a lower-case word: arrive, arrival, arriving -> arriv."""
    if not word.isalpha() or len(word) <= 2:
        return word
    return str(_STEMMER.stemWord(word))


@cache
def _common() -> frozenset[str]:
    import wordfreq  # imported late: the offline commands that never need it start faster

    words = frozenset(wordfreq.top_n_list("en", COMMON_WORDS))
    # The list is all that is needed: drop wordfreq's cached frequency tables (about 25 MB).
    for name in ("get_frequency_dict", "get_frequency_list", "_word_frequency"):
        cached = getattr(wordfreq, name, None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()
    return words


def is_real_word(word: str) -> bool:
    """Whether a lower-case word is a common English word (not a typo, not a made-up word)."""
    return word in _common()


def warm_up() -> None:
    """Load the word list now rather than on the first question."""
    _common()
