"""Finding known phrases (names, terms) in normalised text, fast."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.language import has_japanese

_WORD = re.compile(r"\S+")

Span = tuple[int, int, str]


class PhraseFinder:
    """Finds known phrases in normalised text with one dictionary look-up per candidate.

    Latin-script phrases match whole words ("sri lanka" in "from sri lanka"); Japanese ones
    match anywhere (Japanese has no spaces), subject to `standalone`. The longest phrase at
    a position wins. This replaces regex alternations of hundreds of phrases, which Python
    tries one by one at every position.
    """

    def __init__(
        self,
        phrases: Mapping[str, str],
        standalone: Callable[[str, int, str], bool] | None = None,
    ) -> None:
        self._latin: dict[tuple[str, ...], str] = {}
        self._cjk: dict[str, str] = {}
        latin_lengths: dict[str, set[int]] = {}
        cjk_lengths: dict[str, set[int]] = {}
        for phrase, value in phrases.items():
            if not phrase:
                continue
            if has_japanese(phrase):
                self._cjk[phrase] = value
                cjk_lengths.setdefault(phrase[0], set()).add(len(phrase))
            else:
                words = tuple(phrase.split())
                self._latin[words] = value
                latin_lengths.setdefault(words[0], set()).add(len(words))
        self._latin_lengths = {k: sorted(v, reverse=True) for k, v in latin_lengths.items()}
        self._cjk_lengths = {k: sorted(v, reverse=True) for k, v in cjk_lengths.items()}
        # Where a Japanese phrase could start: only those positions are looked at.
        self._cjk_starts = (
            re.compile("[" + "".join(re.escape(c) for c in sorted(cjk_lengths)) + "]")
            if cjk_lengths
            else None
        )
        self._standalone = standalone

    def spans(self, normalized: str) -> list[Span]:
        """(start, end, value) of each phrase found, in order, not overlapping."""
        found: list[Span] = []
        words = normalized.split()
        # Most texts name nothing: find the words that could start a phrase first.
        starts = [i for i, word in enumerate(words) if word in self._latin_lengths]
        if starts:
            matches = list(_WORD.finditer(normalized))
            resume = 0
            for index in starts:
                if index < resume:
                    continue  # inside a phrase already found
                for length in self._latin_lengths[words[index]]:
                    key = tuple(words[index : index + length])
                    if len(key) == length and key in self._latin:
                        end = matches[index + length - 1].end()
                        found.append((matches[index].start(), end, self._latin[key]))
                        resume = index + length
                        break
        if self._cjk and has_japanese(normalized):
            found.extend(self._cjk_spans(normalized))
            found.sort()
        return found

    def _cjk_spans(self, text: str) -> list[Span]:
        found: list[Span] = []
        if self._cjk_starts is None:
            return found
        resume = 0
        for start in self._cjk_starts.finditer(text):
            position = start.start()
            if position < resume:
                continue  # inside a phrase already found
            for length in self._cjk_lengths[text[position]]:
                name = text[position : position + length]
                if (
                    len(name) == length
                    and name in self._cjk
                    and (self._standalone is None or self._standalone(text, position, name))
                ):
                    found.append((position, position + length, self._cjk[name]))
                    resume = position + length
                    break
        return found

    def find(self, normalized: str) -> tuple[str, ...]:
        """The values of the phrases found, in order, without repeats."""
        return tuple(dict.fromkeys(value for _, _, value in self.spans(normalized)))
