"""Which language a question is in, and how Japanese text is cut into comparable pieces.

Kana mean Japanese. Kanji without kana may be Chinese, so then the user's Telegram
language (or the language they chose) decides, as it does for short Latin-letter text
such as "JET" from a Japanese user. Japanese has no spaces between words, so the matcher
compares it by overlapping two-character pieces (bigrams) rather than by words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

ENGLISH = "en"
JAPANESE = "ja"

_KANA = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\uff66-\uff9f]")
_KANJI = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
SHORT_LATIN_WORDS = 3


def has_japanese(text: str) -> bool:
    """Whether the text contains any kana or kanji (which Chinese shares)."""
    return bool(_CJK.search(text))


def detect_language(text: str, hint: str | None = None) -> str:
    """ "en" or "ja" for a message; `hint` is the user's chosen or Telegram language code."""
    prefers_japanese = (hint or "").lower().startswith("ja")
    if _KANA.search(text):
        return JAPANESE
    if _KANJI.search(text):
        # Kanji alone could be Chinese: the user's language breaks the tie, and with no
        # hint at all (the command line) Japanese is the likelier reading here.
        return JAPANESE if prefers_japanese or not hint else ENGLISH
    words = re.findall(r"[A-Za-z]+", text)
    if prefers_japanese and len(words) <= SHORT_LATIN_WORDS:
        return JAPANESE
    return ENGLISH


def fold_japanese(text: str, phrases: Mapping[str, str], frames: Iterable[str] = ()) -> str:
    """Normalised Japanese: names folded to their canonical short forms, frames dropped.

    `text` must already be through `basic_normalize` (NFKC, case, punctuation);
    `phrases` maps Japanese variants to canonical forms ("語学指導等を...事業" -> "jet");
    `frames` are the polite endings and question frames (language.yaml) to drop.
    """
    for variant in sorted(phrases, key=len, reverse=True):
        if variant in text:
            text = text.replace(variant, f" {phrases[variant]} ")
    for frame in sorted(frames, key=len, reverse=True):
        if frame in text:
            text = text.replace(frame, " ")
    return " ".join(text.split())


def nfkc(text: str) -> str:
    """Unicode NFKC: full-width digits and letters to ASCII, half-width kana to full."""
    return unicodedata.normalize("NFKC", text)
