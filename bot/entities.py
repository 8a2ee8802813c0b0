"""Countries and years named in a question.

The bot must never answer a number for a country or year the seeds do not list, so it
needs to notice *any* country, not only the ones in its tables: names come from pycountry
(every ISO 3166 country) plus the region's own spellings and demonyms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pycountry

from bot.normalize import COUNTRY_TOKEN, YEAR_TOKEN, basic_normalize

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
    "bangladeshi": "Bangladesh",
    "pakistani": "Pakistan",
    "mongolian": "Mongolia",
}


_YEAR = re.compile(r"\b(?:fy\s?)?((?:19|20)\d{2})\b")
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
    # Our own names win over pycountry's official forms ("Viet Nam" is "Vietnam" here).
    for name, canonical in _EXTRA_NAMES.items():
        names[basic_normalize(name)] = canonical
    names = {k: _EXTRA_NAMES.get(v.casefold(), v) for k, v in names.items()}
    return names


@cache
def _country_pattern() -> re.Pattern[str]:
    variants = sorted(country_names(), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(v) for v in variants) + r")\b")


@dataclass(frozen=True)
class Mentions:
    """What a question names: countries (canonical names) and years (four digits)."""

    countries: tuple[str, ...]
    years: tuple[int, ...]


def find_countries(normalized: str) -> tuple[str, ...]:
    """Canonical names of the countries in a normalised text, in order, without repeats."""
    found: list[str] = []
    for match in _country_pattern().finditer(normalized):
        if match.group(1) == "us":
            continue  # "tell us", "contact us": too common to be the United States
        name = country_names()[match.group(1)]
        if name not in found:
            found.append(name)
    return tuple(found)


def find_years(text: str) -> tuple[int, ...]:
    """Years named in raw text: 2024, FY2024, FY24, '24."""
    lowered = text.casefold()
    years: list[int] = [int(m.group(1)) for m in _YEAR.finditer(lowered)]
    years += [2000 + int(m.group(1)) for m in _SHORT_FY.finditer(lowered)]
    years += [_two_digit_year(int(m.group(1))) for m in _APOSTROPHE_YEAR.finditer(lowered)]
    return tuple(dict.fromkeys(years))


def _two_digit_year(value: int) -> int:
    return 1900 + value if value >= 50 else 2000 + value


def find_mentions(raw: str, normalized: str) -> Mentions:
    """Countries from the normalised text and years from the raw text."""
    return Mentions(countries=find_countries(normalized), years=find_years(raw))


def mask(normalized: str) -> str:
    """Replace countries and years with placeholder tokens, to match template questions."""
    masked = _country_pattern().sub(
        lambda m: m.group(1) if m.group(1) == "us" else COUNTRY_TOKEN, normalized
    )
    masked = re.sub(r"\b(?:fy )?(?:19|20)\d{2}\b|\bfy \d{2}\b", YEAR_TOKEN, masked)
    return " ".join(masked.split())
