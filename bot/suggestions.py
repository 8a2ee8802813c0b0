"""The learning loop: questions staff answered, kept for review, and unanswered ones grouped.

Suggestions go to ``knowledge/suggestions/suggestions.yaml``, outside the files the bot
loads, so nothing reaches users until a person writes a real entry from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from rapidfuzz import fuzz

from bot.normalize import basic_normalize
from bot.storage.records import Enquiry

HEADER = """\
# Questions the bot could not answer, with what staff replied, added from the staff chat
# ("Add to knowledge base"). Review them, then write real entries in the area files, faithful
# to the seed documents. The bot does not read this file.
"""
SIMILARITY = 75.0


def add_suggestion(path: Path, enquiry: Enquiry, staff_answers: Sequence[str]) -> None:
    """Append one suggestion (a YAML list item) to the suggestions file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    item = {
        "ref": enquiry.ref,
        "question": enquiry.text,
        "staff_answers": list(staff_answers),
        "closest_entry": enquiry.candidates[0].entry_id if enquiry.candidates else None,
        "added": datetime.now(UTC).date().isoformat(),
    }
    text = yaml.safe_dump([item], allow_unicode=True, sort_keys=False, width=100)
    fresh = not path.exists() or path.stat().st_size == 0
    with path.open("a", encoding="utf-8") as handle:
        if fresh:
            handle.write(HEADER)
        handle.write(text)


@dataclass
class SuggestionGroup:
    """Similar unanswered questions: one example and how often it was asked."""

    example: str
    refs: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many enquiries are in the group."""
        return len(self.refs)


def group_questions(questions: Sequence[tuple[int, str]]) -> list[SuggestionGroup]:
    """Group (ref, question) pairs whose wording is alike; most frequent groups first."""
    groups: list[tuple[str, SuggestionGroup]] = []
    for ref, question in questions:
        key = basic_normalize(question)
        for group_key, group in groups:
            if fuzz.token_set_ratio(key, group_key) >= SIMILARITY:
                group.refs.append(ref)
                break
        else:
            groups.append((key, SuggestionGroup(question, [ref])))
    ordered = [g for _, g in groups]
    ordered.sort(key=lambda g: (-g.count, g.refs[0]))
    return ordered
