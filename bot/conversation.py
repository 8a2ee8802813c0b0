"""How a message stands in the conversation, beyond what the matcher decides about it.

- `is_gibberish`: no word of either language in it ("asdfgh qwerty zxcv"); the user is asked
  to rephrase and nothing goes to staff.
- `broad_topics`: one word that names a category or several entries' titles ("seminar",
  "training", 「セミナー」); the user is offered those topics rather than one entry.
- `same_thing`: whether an unanswerable message is about the same thing as an open enquiry,
  measured with what the matcher gives (see `same_thing` for the rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.decision import Candidate
from bot.english import is_real_word, stem
from bot.japanese import content_words, dictionary_words
from bot.knowledge import KnowledgeBase
from bot.language import ENGLISH, JAPANESE, has_japanese
from bot.normalize import basic_normalize

#: A word in this many entries' titles is broad enough to offer them as topics.
BROAD_ENTRIES = 3
#: At most this many entries are offered for a broad word (categories come first).
MAX_TOPIC_ENTRIES = 8
#: A message's closest entry counts (for `same_thing`) from this score (0-100): the
#: matcher's default clarify threshold, below which it suggests nothing either.
CLOSE_SCORE = 45.0
#: How many of a message's closest entries another message's closest one may be among.
CLOSEST = 3


@dataclass(frozen=True)
class Topics:
    """The categories (indices into kb.categories) and entries a broad word names."""

    categories: tuple[int, ...]
    entries: tuple[str, ...]


class Conversation:
    """The three judgements above, on one knowledge base (built once, with its matcher)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._vocabulary = _english_words(
            text
            for entry in kb.entries.values()
            for text in (entry.title, entry.answer, *entry.questions)
        )
        english, japanese = kb.language.for_language(ENGLISH), kb.language.for_language(JAPANESE)
        self._ignored = {
            ENGLISH: english.stopwords | english.generic | english.fillers,
            JAPANESE: japanese.stopwords | japanese.generic | japanese.fillers,
        }

    # -- gibberish -------------------------------------------------------------------------
    def is_gibberish(self, text: str) -> bool:
        """No recognisable word in either language: no English word (wordfreq's common words
        or the knowledge base's own) and no Japanese word in Sudachi's dictionary."""
        words = [w for w in basic_normalize(text).split() if w.isascii() and w.isalpha()]
        if any(w in self._vocabulary or is_real_word(w) for w in words):
            return False
        return not (has_japanese(text) and dictionary_words(text))

    # -- broad words -----------------------------------------------------------------------
    def broad_topics(self, text: str) -> Topics | None:
        """The topics a one-word message names, when it names a category or at least
        BROAD_ENTRIES entries' titles; None for anything else."""
        words = basic_normalize(text).split()
        if len(words) != 1:
            return None
        word = words[0]
        kb = self.kb
        if has_japanese(word):
            if len(content_words(word)) != 1:
                return None

            def names(title: str) -> bool:
                return word in basic_normalize(title)

            categories = [i for i, c in enumerate(kb.categories) if names(kb.category_in(c, "ja"))]
            entries = [e.id for e in kb.entries.values() if names(e.title_ja)]
        else:
            if not word.isalpha():
                return None
            key = stem(word)

            def names(title: str) -> bool:
                return key in {stem(w) for w in basic_normalize(title).split()}

            categories = [i for i, c in enumerate(kb.categories) if names(c)]
            entries = [e.id for e in kb.entries.values() if names(e.title)]
        if not categories and len(entries) < BROAD_ENTRIES:
            return None
        return Topics(tuple(categories), tuple(entries[:MAX_TOPIC_ENTRIES]))

    # -- the same thing ----------------------------------------------------------------------
    def words(self, text: str) -> frozenset[str]:
        """The words of a message that say what it is about: stems of English words and
        Japanese content words, without stop words, generic words and numbers."""
        found: set[str] = set()
        basic = basic_normalize(text)
        if has_japanese(basic):
            ignored = self._ignored[JAPANESE]
            found.update(w for w in content_words(basic) if w not in ignored)
        ignored = self._ignored[ENGLISH]
        found.update(
            stem(w) for w in basic.split() if w.isascii() and w.isalpha() and w not in ignored
        )
        return frozenset(found)

    def same_thing(
        self,
        earlier: Iterable[str],
        earlier_closest: Sequence[Candidate],
        text: str,
        closest: Sequence[Candidate],
    ) -> bool:
        """Whether `text` is about the same thing as the `earlier` messages of an enquiry.

        The rule: more than half of the new message's words (see `words`) were used in the
        earlier messages, and the matcher does not point the two elsewhere, i.e. it is not
        the case that both have a close entry (CLOSE_SCORE or more) and neither's closest
        entry is among the other's CLOSEST closest. A message with no such words ("and?")
        is not plainly the same thing: the user is asked.
        """
        new = self.words(text)
        if not new:
            return False
        old = frozenset().union(*(self.words(t) for t in earlier))
        if len(new & old) * 2 <= len(new):
            return False
        return not _apart(earlier_closest, closest)


def _apart(first: Sequence[Candidate], second: Sequence[Candidate]) -> bool:
    """Both have a close entry, and neither's closest is among the other's closest."""
    if not first or not second or min(first[0].score, second[0].score) < CLOSE_SCORE:
        return False
    near_first = {c.entry_id for c in first[:CLOSEST]}
    near_second = {c.entry_id for c in second[:CLOSEST]}
    return first[0].entry_id not in near_second and second[0].entry_id not in near_first


def _english_words(texts: Iterable[str]) -> frozenset[str]:
    return frozenset(
        w for text in texts for w in basic_normalize(text).split() if w.isascii() and w.isalpha()
    )
