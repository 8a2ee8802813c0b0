"""Countries and years named in a question.

The bot must never answer a number for a country or year the seeds do not list, so it
needs to notice *any* country, not only the ones in its tables: names come from pycountry
(every ISO 3166 country) plus the everyday spellings and demonyms of knowledge/places.yaml.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Mapping
from functools import cache

import pycountry

from bot.language import has_japanese
from bot.normalize import COUNTRY_TOKEN, YEAR_TOKEN, basic_normalize
from bot.phrases import PhraseFinder, Span

# Digits, not word boundaries, delimit years: "2024年度" has no boundary after "2024".
_YEAR = re.compile(r"(?<![\d])(?:fy\s?)?((?:19|20)\d{2})(?!\d)")
_SHORT_FY = re.compile(r"\bfy\s?(\d{2})\b")
_APOSTROPHE_YEAR = re.compile(r"[’']\s?(\d{2})\b")


@cache
def iso_country_names() -> dict[str, str]:
    """Normalised name -> canonical country name, for every country pycountry knows, in
    English and in Japanese (the ISO 3166 translations pycountry ships)."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        canonical = getattr(country, "common_name", None) or country.name
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                names[basic_normalize(value)] = canonical
    japanese = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ja"])
    for country in pycountry.countries:
        canonical = getattr(country, "common_name", None) or country.name
        for attr in ("name", "common_name"):
            value = getattr(country, attr, None)
            if value and has_japanese(translated := japanese.gettext(value)):
                for part in re.split(r"[()（）]", translated):
                    if part.strip() and len(part.strip()) > 1:
                        names[basic_normalize(part)] = canonical
    return names


_KATAKANA = re.compile("[ァ-ヺー]")


def standalone(text: str, start: int, name: str) -> bool:
    """Whether a Japanese country name stands for the country here: "X語" is a language
    (日本語, タイ語), and a katakana name inside a longer katakana word is not a name
    ("タイ" in "タイトル")."""
    end = start + len(name)
    if text[end : end + 1] == "語":
        return False
    if all(_KATAKANA.match(c) for c in name):
        before = text[start - 1 : start] if start else ""
        after = text[end : end + 1]
        return not (_KATAKANA.match(before or " ") or _KATAKANA.match(after or " "))
    return True


class Countries:
    """Finds the countries a text names: pycountry's names, and the everyday names and
    demonyms of knowledge/places.yaml (`countries`), which win ("Viet Nam" is "Vietnam")."""

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        extra = {basic_normalize(k): v for k, v in (extra or {}).items()}
        names = dict(iso_country_names())
        names.update(extra)
        # pycountry's official forms renamed to ours: "Viet Nam" -> "Vietnam".
        self.names = {k: extra.get(v.casefold(), v) for k, v in names.items()}
        # "tell us", "contact us": too common to be the United States.
        self._finder = PhraseFinder(
            {name: canonical for name, canonical in self.names.items() if name != "us"},
            standalone,
        )

    def spans(self, normalized: str) -> list[Span]:
        """(start, end, canonical name) of each country named."""
        return self._finder.spans(normalized)

    def find(self, normalized: str) -> tuple[str, ...]:
        """Canonical names of the countries in a normalised text, in order, no repeats."""
        return tuple(dict.fromkeys(name for _, _, name in self.spans(normalized)))

    def mask(self, normalized: str, countries: bool = True) -> str:
        """Countries and years replaced by placeholder tokens, to match template questions.

        `countries=False` skips looking for countries, for a text known to name none.
        """
        spans = self.spans(normalized) if countries else []
        if not spans and not _DIGIT.search(normalized):
            return normalized  # the common case: nothing to mask
        pieces: list[str] = []
        last = 0
        for start, end, _ in spans:
            pieces += [normalized[last:start], f" {COUNTRY_TOKEN} "]
            last = end
        masked = "".join(pieces) + normalized[last:]
        if _DIGIT.search(masked):
            masked = _YEAR_IN_TEXT.sub(f" {YEAR_TOKEN} ", masked)
        return " ".join(masked.split())


def find_years(text: str) -> tuple[int, ...]:
    """Years named in raw text: 2024, FY2024, FY24, '24."""
    lowered = unicodedata.normalize("NFKC", text).casefold()
    if not _DIGIT.search(lowered):
        return ()
    years: list[int] = [int(m.group(1)) for m in _YEAR.finditer(lowered)]
    years += [2000 + int(m.group(1)) for m in _SHORT_FY.finditer(lowered)]
    years += [_two_digit_year(int(m.group(1))) for m in _APOSTROPHE_YEAR.finditer(lowered)]
    return tuple(dict.fromkeys(years))


def _two_digit_year(value: int) -> int:
    return 1900 + value if value >= 50 else 2000 + value


_DIGIT = re.compile(r"\d")
_YEAR_IN_TEXT = re.compile(r"(?<!\d)(?:fy )?(?:19|20)\d{2}(?!\d)|\bfy \d{2}\b")
