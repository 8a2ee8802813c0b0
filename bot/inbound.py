"""Text and numbers as people type them, made safe before anything else reads them.

Telegram's JSON can carry lone UTF-16 surrogates (``"\\ud800"``), and a terminal can hand
over bytes that are not UTF-8 (Python keeps them as surrogates); neither can be stored,
encoded or sent back, so on the way in each becomes U+FFFD, the replacement character (a
message of nothing else still is a message, and gets an answer). A number a person types is
ASCII digits only: ``'²'.isdigit()`` is true, and ``int('²')`` raises.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATES = re.compile("[\ud800-\udfff]")
_NUMBER = re.compile(r"#?([0-9]{1,12})")


REPLACEMENT = "\ufffd"


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (pairs were joined when decoded)."""
    return _SURROGATES.sub(REPLACEMENT, text)


def clean(value: Any) -> Any:
    """A decoded JSON value with every lone surrogate in its strings (and keys) replaced."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {clean(key): clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def number(text: str) -> int | None:
    """A typed number (``12`` or ``#12``, ASCII digits, at most 12 of them), else None."""
    match = _NUMBER.fullmatch(text.strip())
    return int(match[1]) if match else None
