"""Saved replies: reusable staff answers in English and Japanese, from one YAML file.

The file (``staff.saved_replies``) maps a key to a title and a text in each language::

    replies:
      deadline:
        title: Application deadlines
        title_ja: 応募締切
        text: Dear {name}, about your enquiry #{ref}: ...
        text_ja: "{name} 様 お問い合わせ #{ref} について ..."

The texts may use the placeholders {name} (the user's name), {ref} (the enquiry number) and
{office_hours} (the division's office hours, in the text's language). The file is validated
like the knowledge base: every problem is reported with its file, key and line, and an invalid
file stops the bot (and keeps the old replies on /reload).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr, ValidationError

from bot.callback_data import KEY_MAX, KEY_PATTERN
from bot.knowledge import Problem
from bot.language import JAPANESE
from bot.markup import MAX_MESSAGE
from bot.workhours import OfficeHours
from bot.yamlfile import LineDict, YamlSyntaxError, line_of, load_yaml

PLACEHOLDERS = ("name", "ref", "office_hours")
#: Room left for the "CLAIR staff (about your enquiry #N):" line above a saved reply.
MAX_TEXT = MAX_MESSAGE - 100
MAX_TITLE = 40

_DAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAYS_JA = "月火水木金土日"


def _filled(value: str) -> str:
    if not value.strip():
        raise ValueError("must be non-empty text")
    return value.strip()


Filled = Annotated[StrictStr, AfterValidator(_filled)]


class SavedReply(BaseModel):
    """One saved reply in both languages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: Filled
    title_ja: Filled
    text: Filled
    text_ja: Filled

    def title_in(self, language: str | None) -> str:
        """The title in a language."""
        return self.title_ja if (language or "")[:2] == JAPANESE else self.title

    def text_in(self, language: str | None) -> str:
        """The text in a language."""
        return self.text_ja if (language or "")[:2] == JAPANESE else self.text


@dataclass(frozen=True)
class SavedReplies:
    """Every saved reply, by key, in the file's order."""

    replies: dict[str, SavedReply] = field(default_factory=dict)

    def render(
        self, key: str, language: str | None, name: str, ref: int, hours: OfficeHours
    ) -> str:
        """The reply's text in `language` with its placeholders filled (KeyError if unknown)."""
        reply = self.replies[key]
        return reply.text_in(language).format(
            name=name, ref=ref, office_hours=office_hours_text(hours, language)
        )


class SavedRepliesError(Exception):
    """The saved replies file is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"the saved replies have {len(problems)} error(s):\n{lines}")


def load_saved_replies(path: Path) -> SavedReplies:
    """Load and validate the file, or raise `SavedRepliesError`."""
    replies, problems = check_saved_replies(path)
    if replies is None:
        raise SavedRepliesError(problems)
    return replies


def check_saved_replies(path: Path) -> tuple[SavedReplies | None, list[Problem]]:
    """The saved replies and every problem with them (None when there are any)."""
    name = path.name
    try:
        raw = load_yaml(path)
    except FileNotFoundError:
        return None, [Problem(str(path), 1, "the saved replies file does not exist")]
    except YamlSyntaxError as exc:
        return None, [Problem(name, exc.line, exc.message)]
    if not isinstance(raw, LineDict) or set(raw) != {"replies"}:
        return None, [Problem(name, line_of(raw), "expected one key, 'replies', at the top")]
    entries = raw["replies"]
    if not isinstance(entries, LineDict):
        return None, [Problem(name, line_of(raw, "replies"), "'replies' must be a mapping")]
    problems: list[Problem] = []
    found: dict[str, SavedReply] = {}
    for key, value in entries.items():
        line = entries.key_lines.get(key, entries.line)
        problems += _check_key(name, line, key)
        try:
            reply = SavedReply.model_validate(value)
        except ValidationError as exc:
            for error in exc.errors():
                where = str(error["loc"][0]) if error["loc"] else None
                known = isinstance(value, LineDict) and where in value.key_lines
                at = line_of(value, where, line) if known else line  # missing: the key's line
                what = f"{where}: " if where else ""
                problems.append(Problem(name, at, f"{what}{error['msg']}", entry=key))
            continue
        for field_name in ("text", "text_ja", "title", "title_ja"):
            at = line_of(value, field_name, line)
            problems += [
                Problem(name, at, f"{field_name}: {message}", entry=key)
                for message in _check_text(field_name, getattr(reply, field_name))
            ]
        found[key] = reply
    if problems:
        return None, problems
    return SavedReplies(found), []


def _check_key(file: str, line: int, key: Any) -> list[Problem]:
    if not isinstance(key, str) or not re.fullmatch(KEY_PATTERN, key) or len(key) > KEY_MAX:
        return [
            Problem(
                file,
                line,
                f"key {key!r}: use lower-case letters, digits and hyphens, at most {KEY_MAX}",
            )
        ]
    return []


def _check_text(field_name: str, text: str) -> list[str]:
    if field_name.startswith("title"):
        return [f"at most {MAX_TITLE} characters"] if len(text) > MAX_TITLE else []
    problems = []
    if len(text) > MAX_TEXT:
        problems.append(f"{len(text)} characters; at most {MAX_TEXT} fit in a message")
    try:
        fields = [part[1] for part in string.Formatter().parse(text) if part[1] is not None]
    except ValueError as exc:
        return [*problems, f"braces: {exc} (write {{{{ and }}}} for a literal brace)"]
    for name in fields:
        if name not in PLACEHOLDERS:
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            problems.append(f"unknown placeholder {{{name}}} (known: {known})")
    return problems


def office_hours_text(hours: OfficeHours, language: str | None) -> str:
    """Office hours in words: "Mon-Fri 09:00-17:45 (Asia/Tokyo)" or its Japanese."""
    days = sorted(hours.days)
    japanese = (language or "")[:2] == JAPANESE
    names = _DAYS_JA if japanese else _DAYS_EN
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        sep = "～" if japanese else "-"
        span = f"{names[days[0]]}{sep}{names[days[-1]]}"
    else:
        span = ("・" if japanese else ", ").join(names[d] for d in days)
    start, end = hours.start.strftime("%H:%M"), hours.end.strftime("%H:%M")
    zone = str(hours.timezone)
    if japanese:
        zone = "日本時間" if zone == "Asia/Tokyo" else zone
        return f"{span} {start}～{end}（{zone}）"
    return f"{span} {start}-{end} ({zone})"
