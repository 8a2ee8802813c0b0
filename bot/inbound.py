"""Text and numbers as people type them, made safe before anything else reads them.

Telegram's JSON can carry lone UTF-16 surrogates (``"\\ud800"``), and a terminal can hand
over bytes that are not UTF-8 (Python keeps them as surrogates); neither can be stored,
encoded or sent back, so they are dropped on the way in. A number a person types is
ASCII digits only: ``'²'.isdigit()`` is true, and ``int('²')`` raises.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATES = re.compile("[\ud800-\udfff]")
_NUMBER = re.compile(r"#?([0-9]{1,12})")


def without_surrogates(text: str) -> str:
    """`text` without lone surrogates (paired ones were already joined by the decoder)."""
    return _SURROGATES.sub("", text)


def clean(value: Any) -> Any:
    """A decoded JSON value with every string (and key) freed of lone surrogates."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {clean(key): clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def has_surrogates(text: str) -> bool:
    """Whether `text` holds a lone surrogate."""
    return _SURROGATES.search(text) is not None


def number(text: str) -> int | None:
    """A typed number (``12`` or ``#12``, ASCII digits, at most 12 of them), else None."""
    match = _NUMBER.fullmatch(text.strip())
    return int(match[1]) if match else None
