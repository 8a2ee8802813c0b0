"""Finding known phrases (names, terms) in normalised text, fast."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.language import is_cjk

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
            if is_cjk(phrase):
                self._cjk[phrase] = value
                cjk_lengths.setdefault(phrase[0], set()).add(len(phrase))
            else:
                words = tuple(phrase.split())
                self._latin[words] = value
                latin_lengths.setdefault(words[0], set()).add(len(words))
        self._latin_lengths = {k: sorted(v, reverse=True) for k, v in latin_lengths.items()}
        self._cjk_lengths = {k: sorted(v, reverse=True) for k, v in cjk_lengths.items()}
        self._standalone = standalone

    def spans(self, normalized: str) -> list[Span]:
        """(start, end, value) of each phrase found, in order, not overlapping."""
        found: list[Span] = []
        if self._latin:
            matches = list(_WORD.finditer(normalized))
            words = [m.group(0) for m in matches]
            index = 0
            while index < len(words):
                for length in self._latin_lengths.get(words[index], ()):
                    key = tuple(words[index : index + length])
                    if len(key) == length and key in self._latin:
                        end = matches[index + length - 1].end()
                        found.append((matches[index].start(), end, self._latin[key]))
                        index += length
                        break
                else:
                    index += 1
        if self._cjk and is_cjk(normalized):
            found.extend(self._cjk_spans(normalized))
            found.sort()
        return found

    def _cjk_spans(self, text: str) -> list[Span]:
        found: list[Span] = []
        position = 0
        while position < len(text):
            for length in self._cjk_lengths.get(text[position], ()):
                name = text[position : position + length]
                if (
                    len(name) == length
                    and name in self._cjk
                    and (self._standalone is None or self._standalone(text, position, name))
                ):
                    found.append((position, position + length, self._cjk[name]))
                    position += length
                    break
            else:
                position += 1
        return found

    def find(self, normalized: str) -> tuple[str, ...]:
        """The values of the phrases found, in order, without repeats."""
        return tuple(dict.fromkeys(value for _, _, value in self.spans(normalized)))
