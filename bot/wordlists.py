"""The word lists the matcher reads messages with, from ``knowledge/language.yaml``.

They are content, not code: staff review them like the entries. Each language has its own
lists; `Cues` finds any of a list's phrases in normalised text (whole words in English,
substrings in Japanese).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from bot.normalize import basic_normalize
from bot.phrases import PhraseFinder

# The kinds of fact a question can ask for (the `kinds` of language.yaml and the `facets`
# of an entry). `definition` is what "what is X" asks: any entry about X gives it.
FACT_KINDS = (
    "definition",
    "place",
    "who",
    "date",
    "duration",
    "month",
    "count",
    "reason",
    "name",
    "list",
    "contact",
    "procedure",
    "opinion",
    "advice",
    "person",
)

# The lists every language has, in language.yaml's order.
LIST_NAMES = (
    "stopwords",
    "generic",
    "fillers",
    "asking",
    "intro",
    "closings",
    "frames",
    "context",
    "split",
    "count",
    "region",
    "before",
    "most",
    "fewest",
    "sum",
    "cumulative",
    "people",
    "pronouns",
    "own",
)


class Cues:
    """Finds the phrases of one list in normalised text."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = tuple(dict.fromkeys(p for p in (basic_normalize(x) for x in phrases) if p))
        self._finder = PhraseFinder({p: p for p in self.phrases})

    def find(self, normalized: str) -> tuple[str, ...]:
        """The phrases found, in order."""
        return self._finder.find(normalized)

    def spans(self, normalized: str) -> list[tuple[int, int, str]]:
        """(start, end, phrase) of each phrase found."""
        return self._finder.spans(normalized)

    def __contains__(self, normalized: str) -> bool:
        return bool(self._finder.spans(normalized))

    def starts(self, normalized: str) -> str | None:
        """The phrase `normalized` starts with, if any (the longest)."""
        spans = self._finder.spans(normalized)
        return spans[0][2] if spans and spans[0][0] == 0 else None


@dataclass(frozen=True)
class Wording:
    """One language's word lists."""

    stopwords: frozenset[str] = frozenset()
    generic: frozenset[str] = frozenset()
    fillers: frozenset[str] = frozenset()
    replacements: Mapping[str, str] = field(default_factory=dict)
    asking: tuple[str, ...] = ()
    intro: tuple[str, ...] = ()
    closings: tuple[str, ...] = ()
    frames: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    split: tuple[str, ...] = ()
    count: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    most: tuple[str, ...] = ()
    fewest: tuple[str, ...] = ()
    sum: tuple[str, ...] = ()
    cumulative: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    pronouns: tuple[str, ...] = ()
    own: tuple[str, ...] = ()
    kinds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def cues(self) -> dict[str, Cues]:
        """A `Cues` for every phrase list (intro, frames, count, ...)."""
        return {
            name: Cues(getattr(self, name))
            for name in LIST_NAMES
            if name not in ("stopwords", "generic", "fillers")
        }

    @cached_property
    def kind_cues(self) -> dict[str, Cues]:
        """A `Cues` for every fact kind."""
        return {kind: Cues(phrases) for kind, phrases in self.kinds.items()}

    @cached_property
    def replacer(self) -> PhraseFinder:
        """Finds the phrases `replacements` rewrites."""
        return PhraseFinder(
            {basic_normalize(k): basic_normalize(v) for k, v in self.replacements.items()}
        )


@dataclass(frozen=True)
class LanguageLists:
    """Both languages' word lists, and the Japanese era years."""

    english: Wording = field(default_factory=Wording)
    japanese: Wording = field(default_factory=Wording)
    eras: Mapping[str, int] = field(default_factory=dict)
    region_countries: tuple[str, ...] = ()

    def for_language(self, language: str) -> Wording:
        """The lists of "en" or "ja"."""
        return self.japanese if language == "ja" else self.english
