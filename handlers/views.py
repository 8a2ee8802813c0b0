"""What the bot shows on Telegram: the core's screens (bot.screens) as texts and keyboards.

The decisions a user sees (which buttons, how a long answer is split, where a deep link
leads) are made in bot.screens, shared with the terminal chat; here a screen's buttons
become an inline keyboard, their actions callback data. Everything is built without the
network, so it is unit-tested without Telegram.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import screens
from bot.callback_data import Feedback, parse
from bot.knowledge import Entry, KnowledgeBase
from bot.screens import Rows, Screen, escaped_parts
from bot.storage.records import Enquiry
from bot.users import Reply

_DEEP_LINK = re.compile(r"[A-Za-z0-9_-]{1,64}")

__all__ = ["View", "escaped_parts"]


@dataclass(frozen=True)
class View:
    """One reply: its HTML parts (each a message of at most 4096 characters) and keyboard."""

    parts: tuple[str, ...]
    keyboard: InlineKeyboardMarkup | None = None


def keyboard(rows: Rows) -> InlineKeyboardMarkup | None:
    """A screen's buttons as an inline keyboard; None when it has none."""
    buttons = [
        [InlineKeyboardButton(b.label, callback_data=b.action.data) for b in row] for row in rows
    ]
    buttons = [row for row in buttons if row]
    return InlineKeyboardMarkup(buttons) if buttons else None


def view(screen: Screen) -> View:
    """A screen as Telegram shows it."""
    return View(screen.parts, keyboard(screen.rows))


def topics_view(kb: KnowledgeBase, language: str, intro: str | None = None) -> View:
    """The list of categories, one button each."""
    return view(screens.topics(kb, language, intro))


def category_view(kb: KnowledgeBase, index: int, language: str) -> View:
    """The entries of one category, one button each, and a Back button."""
    return view(screens.category(kb, index, language))


def answer_keyboard(
    kb: KnowledgeBase,
    entry_id: str | None,
    language: str,
    related: Sequence[str] = (),
    question_number: int | None = None,
) -> InlineKeyboardMarkup | None:
    """Related entries, "Ask staff" (for a remembered question), then 👍 / 👎 (for an entry)."""
    return keyboard(screens.answer_rows(kb, entry_id, language, related, question_number))


def entry_view(
    kb: KnowledgeBase,
    entry: Entry,
    language: str,
    answer: str | None = None,
    question_number: int | None = None,
) -> View:
    """An entry opened from a button or deep link: bold title, its answer, its keyboard."""
    return view(screens.entry(kb, entry, language, answer, question_number))


def reply_views(kb: KnowledgeBase, reply: Reply, question_number: int) -> list[View]:
    """The reply to a typed message, whatever became of it (one or two messages)."""
    return [view(screen) for screen in screens.replies(kb, reply, question_number)]


def text_view(text: str) -> View:
    """A plain-text message (escaped), e.g. an acknowledgement."""
    return view(screens.plain(text))


def status_view(enquiries: Sequence[Enquiry], language: str) -> View:
    """A user's enquiries: reference, state and the start of the question."""
    return view(screens.status(enquiries, language))


def contact_view(kb: KnowledgeBase, entry_ids: Sequence[str], language: str) -> View:
    """The answers of the contact entries, each under its title."""
    return view(screens.contact(kb, language, entry_ids))


def forget_view(language: str) -> View:
    """The /forget confirmation with its two buttons."""
    return view(screens.forget(language))


def language_view(language: str) -> View:
    """/language: one button per language the bot speaks."""
    return view(screens.language_choice(language))


def without_feedback(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The same keyboard minus its 👍 / 👎 row (after the user rated the answer)."""
    if markup is None:
        return None
    rows = [
        [b for b in row if not isinstance(parse(str(b.callback_data or "")), Feedback)]
        for row in markup.inline_keyboard
    ]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


def resolve_deep_link(kb: KnowledgeBase, payload: str) -> Entry | int | None:
    """Where a ``/start <payload>`` link leads: an entry, a category index, or nowhere.

    The payload is an entry id (``jet-overview``), a category slug (``jet-programme``), the
    first word of one (``jet``), or a programme whose ``<payload>-overview`` entry exists.
    Underscores count as hyphens, since some clients mangle hyphens in links.
    """
    if not _DEEP_LINK.fullmatch(payload):
        return None
    key = payload.lower().replace("_", "-")
    if key in kb.entries:
        return kb.entries[key]
    for index, name in enumerate(kb.categories):
        slug = slugify(name)
        if slug == key or slug.startswith(f"{key}-"):
            return index
    return kb.entries.get(f"{key}-overview")


def slugify(name: str) -> str:
    """A category name as a link-safe slug: "JET Programme" -> "jet-programme"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
