"""HTML text as Telegram shows it: visible length, plain text, shortening, splitting.

Telegram counts a message's 4,096 characters after parsing its HTML, so lengths here are of
the visible text. One splitter serves every long message (answers, /show, /status, lists of
problems), and one `shorten` every preview.
"""

from __future__ import annotations

import html
import re
from typing import Literal, overload

MAX_MESSAGE = 4096  # Telegram's limit, counted on the text after HTML parsing
_TAG = re.compile(r"<[^>]*>")


def strip_tags(markup: str) -> str:
    """The text Telegram shows for `markup`: tags removed, entities decoded."""
    return html.unescape(_TAG.sub("", markup))


def visible_length(markup: str) -> int:
    """How many characters Telegram counts in `markup`."""
    return len(strip_tags(markup))


def shorten(text: str, limit: int) -> str:
    """`text` on one line (runs of white space folded), cut to `limit` characters with "…"."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_html(markup: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split HTML into messages of at most `limit` visible characters.

    Lines are kept whole where they fit, and a message is cut at a line break where it can;
    a longer line is cut after its last space within the limit (hard where it has none),
    never inside an entity such as ``&amp;`` or a tag. Nothing but the line break at a cut is
    lost, and no message starts or ends with a line break. Tags must not span lines (the
    bot only bolds short headers).
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    current, shown = "", 0  # the message being filled, and its visible length
    for line in markup.split("\n"):
        length = visible_length(line)
        if length <= limit:
            if current and shown + 1 + length > limit:
                parts.append(current)
                current, shown = "", 0
            current, shown = (
                (f"{current}\n{line}", shown + 1 + length) if current else (line, length)
            )
            continue
        # Longer than a message: fill what is left of this one (at a space), then whole ones.
        if current:
            room = limit - shown - 1
            taken = _take(line, room, hard=False) if room > 0 else None
            if taken is not None:
                head, line = taken
                current = f"{current}\n{head}"
            parts.append(current)
        while visible_length(line) > limit:
            head, line = _take(line, limit, hard=True)
            parts.append(head)
        current, shown = line, visible_length(line)
    parts.append(current)
    return [p.strip("\n") for p in parts if strip_tags(p).strip()]


@overload
def _take(line: str, visible: int, hard: Literal[True]) -> tuple[str, str]: ...
@overload
def _take(line: str, visible: int, hard: bool) -> tuple[str, str] | None: ...
def _take(line: str, visible: int, hard: bool) -> tuple[str, str] | None:
    """(the start of `line` showing at most `visible` characters, the rest): cut after the
    last space, else hard (if `hard`, otherwise None)."""
    end = _raw_index(line, visible)
    space = line.rfind(" ", 1, end)
    if space > 0:
        return line[: space + 1], line[space + 1 :]
    return (line[:end], line[end:]) if hard else None


def _raw_index(line: str, visible: int) -> int:
    """The longest prefix of `line` showing at most `visible` characters, ending between
    entities and tags."""
    shown = index = 0
    while index < len(line):
        if line[index] == "<" and (close := line.find(">", index)) != -1:
            index = close + 1
            continue
        step = 1
        if line[index] == "&" and (semi := line.find(";", index)) != -1 and semi - index <= 10:
            step = semi + 1 - index
        if shown + 1 > visible:
            break
        shown += 1
        index += step
    return index
