"""Changes to the knowledge base from the staff console: the learning loop closed.

Staff add a group of unanswered questions (bot.suggestions) to an entry as alternate
questions, or draft a new entry in both languages. A change is made to the YAML text itself,
so the file keeps its comments and layout and the diff shows only the new lines; it is then
checked with everything `clair-bot kb check` checks, on a copy of the knowledge folder, and
written and reloaded only when that finds no error. Nothing that fails the checks is saved.
"""

from __future__ import annotations

import difflib
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core import Knowledge
from bot.knowledge import KnowledgeBase, KnowledgeError, Problem, check_knowledge
from bot.language import JAPANESE, has_japanese
from bot.normalize import basic_normalize
from bot.storage.enquiries import EnquiryStore
from bot.suggestions import group_questions
from bot.yamlfile import LineDict, LineList, load_yaml

logger = logging.getLogger(__name__)


class EditRefused(ValueError):
    """The change cannot even be written down (an unknown entry, no questions)."""


@dataclass(frozen=True)
class Question:
    """One unanswered question of a suggestion group."""

    ref: int
    text: str
    language: str  # "en" or "ja": the list it would join


@dataclass(frozen=True)
class Suggestion:
    """Similar unanswered questions, and the entry the bot found closest to the first."""

    questions: tuple[Question, ...]
    closest_entry: str | None

    @property
    def example(self) -> str:
        """The first question, as the group's name."""
        return self.questions[0].text

    @property
    def count(self) -> int:
        """How many questions the group holds."""
        return len(self.questions)


@dataclass(frozen=True)
class NewEntry:
    """A draft entry, in both languages, as staff typed it."""

    id: str
    category: str
    source: str
    title: str
    title_ja: str
    questions: tuple[str, ...]
    questions_ja: tuple[str, ...]
    answer: str
    answer_ja: str
    facets: tuple[str, ...] = ()


@dataclass
class Edit:
    """A change to one knowledge file: its diff, and what the checks found."""

    file: str  # relative to the knowledge folder's parent, as kb check names it
    diff: str
    problems: list[Problem] = field(default_factory=list)
    saved: bool = False
    skipped: tuple[str, ...] = ()  # questions the entry already had

    @property
    def errors(self) -> list[Problem]:
        """The problems that keep it from being saved."""
        return [p for p in self.problems if not p.warning]


class KnowledgeEditor:
    """Suggestions from the unanswered questions, and the changes staff make from them."""

    def __init__(self, knowledge: Knowledge, enquiries: EnquiryStore) -> None:
        self._knowledge = knowledge
        self._enquiries = enquiries

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base in use."""
        return self._knowledge.kb

    async def suggestions(self) -> list[Suggestion]:
        """Unanswered questions grouped by similarity, most frequent first; questions the
        knowledge base now lists (added since) are left out."""
        known = {
            basic_normalize(q)
            for entry in self.kb.entries.values()
            for q in (*entry.questions, *entry.questions_ja)
        }
        enquiries = {e.ref: e for e in await self._enquiries.all()}
        pending = [
            (ref, e.text) for ref, e in enquiries.items() if basic_normalize(e.text) not in known
        ]
        texts = dict(pending)
        found = []
        for group in group_questions(pending):
            questions = tuple(
                Question(ref, texts[ref], _language(texts[ref])) for ref in group.refs
            )
            first = enquiries[group.refs[0]]
            closest = first.candidates[0].entry_id if first.candidates else None
            found.append(Suggestion(questions, closest if closest in self.kb.entries else None))
        return found

    def add_questions(self, entry_id: str, questions: Sequence[Question], save: bool) -> Edit:
        """Add `questions` to an entry's alternate questions (each to its language's list);
        checked, and written and reloaded if `save` and the checks pass."""
        entry = self.kb.entries.get(entry_id)
        if entry is None:
            raise EditRefused(f"there is no entry {entry_id!r}")
        path = self.kb.root.parent / entry.file
        text = path.read_text(encoding="utf-8")
        raw = _raw_entry(load_yaml(path), entry_id)
        lines = text.splitlines(keepends=True)
        additions: list[tuple[int, list[str]]] = []
        skipped: list[str] = []
        for key, language in (("questions", "en"), ("questions_ja", JAPANESE)):
            have = {basic_normalize(q) for q in getattr(entry, key)}
            new: list[str] = []
            for question in questions:
                cleaned = " ".join(question.text.split())
                if question.language != language or not cleaned:
                    continue
                if basic_normalize(cleaned) in have:
                    skipped.append(cleaned)
                    continue
                have.add(basic_normalize(cleaned))
                new.append(cleaned)
            if new:
                additions.append(_after_sequence(lines, raw, key, new))
        if not additions:
            raise EditRefused("the entry already has every one of these questions")
        changed = _insert(lines, additions)
        edit = self._check_and_save(path, entry.file, text, changed, save)
        edit.skipped = tuple(skipped)
        if edit.saved:
            logger.info("knowledge: %d question(s) added to entry %s", len(questions), entry_id)
        return edit

    def add_entry(self, draft: NewEntry, file: str, save: bool) -> Edit:
        """Append a new entry to a knowledge file (one the knowledge base loads); checked,
        and written and reloaded if `save` and the checks pass."""
        files = self.content_files()
        if file not in files:
            raise EditRefused(f"{file!r} is not one of the knowledge files")
        path = self.kb.root.parent / file
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        raw = load_yaml(path)
        entries = raw.get("entries") if isinstance(raw, LineDict) else None
        if not isinstance(entries, LineList) or not entries:
            raise EditRefused(f"{file} has no entries to add to")
        indent = _indent(lines[entries.item_lines[0] - 1])
        block = _entry_yaml(draft, indent)
        end = _block_end(lines, raw, "entries")
        if end < len(lines) and lines[end].strip():  # a blank line before what follows
            block.append("\n")
        changed = _insert(lines, [(end, block)])
        edit = self._check_and_save(path, file, text, changed, save)
        if edit.saved:
            logger.info("knowledge: entry %s added to %s", draft.id, file)
        return edit

    def content_files(self) -> list[str]:
        """The files that hold entries, as kb check names them."""
        return sorted({entry.file for entry in self.kb.entries.values()})

    def file_of_category(self, category: str) -> str | None:
        """The file holding a category's first entry."""
        return next((e.file for e in self.kb.entries.values() if e.category == category), None)

    def _check_and_save(self, path: Path, file: str, before: str, after: str, save: bool) -> Edit:
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                f"a/{file}",
                f"b/{file}",
            )
        )
        root = self.kb.root
        with tempfile.TemporaryDirectory(prefix="clair-bot-kb-") as scratch:
            copy = Path(scratch) / root.name
            shutil.copytree(root, copy, ignore=shutil.ignore_patterns("suggestions"))
            (copy / path.relative_to(root)).write_text(after, encoding="utf-8")
            report = check_knowledge(copy)
        edit = Edit(file, diff, list(report.problems))
        if report.kb is None or not save:
            return edit
        _write(path, after)
        try:
            self._knowledge.reload()
        except KnowledgeError:  # changed on disk meanwhile: put it back as it was
            _write(path, before)
            self._knowledge.reload()
            raise
        edit.saved = True
        return edit


def _language(text: str) -> str:
    """Which alternate-question list a question belongs in: Japanese if it has kana or kanji
    (whatever the asker's language: the list is about the words)."""
    return JAPANESE if has_japanese(text) else "en"


def _raw_entry(raw: Any, entry_id: str) -> LineDict:
    entries = raw.get("entries") if isinstance(raw, LineDict) else None
    for item in entries or ():
        if isinstance(item, LineDict) and item.get("id") == entry_id:
            return item
    raise EditRefused(f"entry {entry_id!r} is not in its file any more")


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _after_sequence(
    lines: list[str], entry: LineDict, key: str, items: list[str]
) -> tuple[int, list[str]]:
    """Where new items of `entry[key]` go (after its last item), and their lines."""
    sequence = entry[key]
    if not isinstance(sequence, LineList) or not sequence.item_lines:
        raise EditRefused(f"{key} of entry {entry.get('id')!r} is not a list")
    item_line = lines[sequence.item_lines[0] - 1]
    if not item_line.lstrip().startswith("- "):  # a flow list: [a, b]
        raise EditRefused(f"{key} of entry {entry.get('id')!r} is not written one per line")
    indent = _indent(item_line)
    later = [line for k, line in entry.key_lines.items() if line > entry.key_lines[key]]
    end = _last_content(lines, sequence.item_lines[-1], min(later) - 1 if later else None)
    return end, [f"{indent}- {_scalar(item)}\n" for item in items]


def _block_end(lines: list[str], raw: LineDict, key: str) -> int:
    """The line after which a top-level block (`entries:`) ends."""
    later = [line for k, line in raw.key_lines.items() if line > raw.key_lines[key]]
    return _last_content(lines, raw.key_lines[key], min(later) - 1 if later else None)


def _last_content(lines: list[str], start: int, stop: int | None) -> int:
    """The last line (1-based) from `start` to `stop` (or the end) that is neither blank nor
    a comment at the start of a line."""
    last = start
    for number in range(start, (stop or len(lines)) + 1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            last = number
    return last


def _insert(lines: list[str], additions: list[tuple[int, list[str]]]) -> str:
    """`lines` with each block inserted after its line (later lines first, so the earlier
    positions hold)."""
    result = list(lines)
    if result and not result[-1].endswith("\n"):
        result[-1] += "\n"
    for after, block in sorted(additions, key=lambda a: a[0], reverse=True):
        result[after:after] = block
    return "".join(result)


def _scalar(text: str) -> str:
    """One YAML scalar on one line, quoted only when it must be."""
    dumped = yaml.safe_dump(text, allow_unicode=True, width=1_000_000, default_flow_style=True)
    return dumped.removesuffix("\n...\n").strip()


class _Dumper(yaml.SafeDumper):
    """Block style for lists, `|` for answers of several lines."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _entry_yaml(draft: NewEntry, indent: str) -> list[str]:
    data: dict[str, object] = {
        "id": draft.id,
        "title": draft.title,
        "title_ja": draft.title_ja,
        "category": draft.category,
    }
    if draft.facets:
        data["facets"] = list(draft.facets)
    data |= {
        "questions": list(draft.questions),
        "questions_ja": list(draft.questions_ja),
        "answer": _block_text(draft.answer),
        "answer_ja": _block_text(draft.answer_ja),
        "source": draft.source,
    }
    text = yaml.dump(
        [data], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, indent=2
    )
    return ["\n", *(f"{indent}{line}\n" if line else "\n" for line in text.splitlines())]


def _block_text(text: str) -> str:
    """An answer as typed, lines stripped of trailing spaces (a `|` block cannot keep them)."""
    lines = [line.rstrip() for line in text.strip().replace("\r\n", "\n").split("\n")]
    joined = "\n".join(lines)
    return f"{joined}\n" if len(lines) > 1 else joined


def _write(path: Path, text: str) -> None:
    """Replace a file at once: a reader sees the old text or the new, never half."""
    temporary = path.with_name(f".{path.name}.console")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
