"""Countries and years named in a question.

The bot must never answer a number for a country or year the seeds do not list, so it
needs to notice *any* country, not only the ones in its tables: names come from pycountry
(every ISO 3166 country) plus the region's own spellings and demonyms.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import cache

import pycountry

from bot.language import has_japanese
from bot.normalize import COUNTRY_TOKEN, YEAR_TOKEN, basic_normalize
from bot.phrases import PhraseFinder, Span

# Everyday names and demonyms that pycountry does not carry. "japanese" is left out on
# purpose: it nearly always means the language or culture, not people from Japan.
_EXTRA_NAMES: dict[str, str] = {
    "philippine": "Philippines",
    "philippines": "Philippines",
    "the philippines": "Philippines",
    "filipino": "Philippines",
    "filipinos": "Philippines",
    "pinoy": "Philippines",
    "vietnam": "Vietnam",
    "viet nam": "Vietnam",
    "vietnamese": "Vietnam",
    "laos": "Laos",
    "lao": "Laos",
    "lao pdr": "Laos",
    "laotian": "Laos",
    "burma": "Myanmar",
    "burmese": "Myanmar",
    "myanmar": "Myanmar",
    "brunei": "Brunei",
    "brunei darussalam": "Brunei",
    "bruneian": "Brunei",
    "sri lankan": "Sri Lanka",
    "srilanka": "Sri Lanka",
    "indonesian": "Indonesia",
    "indonesians": "Indonesia",
    "thai": "Thailand",
    "thais": "Thailand",
    "malaysian": "Malaysia",
    "malaysians": "Malaysia",
    "singaporean": "Singapore",
    "singaporeans": "Singapore",
    "cambodian": "Cambodia",
    "cambodians": "Cambodia",
    "indian": "India",
    "indians": "India",
    "chinese": "China",
    "japanese officials": "Japan",
    "japanese participants": "Japan",
    "japanese trainees": "Japan",
    "japanese people": "Japan",
    "japanese nationals": "Japan",
    "korea": "South Korea",
    "south korea": "South Korea",
    "korean": "South Korea",
    "usa": "United States",
    "us": "United States",
    "america": "United States",
    "american": "United States",
    "uk": "United Kingdom",
    "britain": "United Kingdom",
    "british": "United Kingdom",
    "england": "United Kingdom",
    "russia": "Russia",
    "taiwan": "Taiwan",
    "iran": "Iran",
    "bolivia": "Bolivia",
    "venezuela": "Venezuela",
    "tanzania": "Tanzania",
    "syria": "Syria",
    "moldova": "Moldova",
    "timor leste": "Timor-Leste",
    "east timor": "Timor-Leste",
    "nepali": "Nepal",
    # Japanese forms the ISO translations lack or spell formally.
    "ブルネイ": "Brunei",
    "ラオス": "Laos",
    "韓国": "South Korea",
    "アメリカ": "United States",
    "イギリス": "United Kingdom",
    "英国": "United Kingdom",
    "ベトナム": "Vietnam",
    "フィリピン": "Philippines",
    "タイ王国": "Thailand",
    "bangladeshi": "Bangladesh",
    "pakistani": "Pakistan",
    "mongolian": "Mongolia",
}


# Digits, not word boundaries, delimit years: "2024年度" has no boundary after "2024".
_YEAR = re.compile(r"(?<![\d])(?:fy\s?)?((?:19|20)\d{2})(?!\d)")
_SHORT_FY = re.compile(r"\bfy\s?(\d{2})\b")
_APOSTROPHE_YEAR = re.compile(r"[’']\s?(\d{2})\b")


@cache
def country_names() -> dict[str, str]:
    """Normalised name -> canonical country name, for every country pycountry knows."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        canonical = getattr(country, "common_name", None) or country.name
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                names[basic_normalize(value)] = canonical
    # Japanese names, from the ISO 3166 translations pycountry ships.
    japanese = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ja"])
    for country in pycountry.countries:
        canonical = getattr(country, "common_name", None) or country.name
        for attr in ("name", "common_name"):
            value = getattr(country, attr, None)
            if value and has_japanese(translated := japanese.gettext(value)):
                for part in re.split(r"[()（）]", translated):
                    if part.strip() and len(part.strip()) > 1:
                        names[basic_normalize(part)] = canonical
    # Our own names win over pycountry's official forms ("Viet Nam" is "Vietnam" here).
    for name, canonical in _EXTRA_NAMES.items():
        names[basic_normalize(name)] = canonical
    names = {k: _EXTRA_NAMES.get(v.casefold(), v) for k, v in names.items()}
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


@cache
def _countries() -> PhraseFinder:
    # "tell us", "contact us": too common to be the United States.
    names = {name: canonical for name, canonical in country_names().items() if name != "us"}
    return PhraseFinder(names, standalone)


def _country_spans(normalized: str) -> list[Span]:
    return _countries().spans(normalized)


def find_countries(normalized: str) -> tuple[str, ...]:
    """Canonical names of the countries in a normalised text, in order, without repeats."""
    return tuple(dict.fromkeys(name for _, _, name in _country_spans(normalized)))


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


def mask(normalized: str, countries: bool = True) -> str:
    """Replace countries and years with placeholder tokens, to match template questions.

    `countries=False` skips looking for countries, for a text known to name none.
    """
    spans = _country_spans(normalized) if countries else []
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
