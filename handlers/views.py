"""What the bot shows: message texts (HTML) and inline keyboards, built without the network.

Every function here is pure, so the decisions a user sees (which buttons, how a long answer
is split, where a deep link leads) are unit-tested without Telegram. Text from a person or
from the knowledge base (plain text) is html-escaped here and nowhere else.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.callback_data import (
    AskStaff,
    Choose,
    Feedback,
    Forget,
    OpenCategory,
    OpenEntry,
    SetLanguage,
    ShowTopics,
    parse,
)
from bot.decision import Action
from bot.knowledge import Entry, KnowledgeBase
from bot.markup import shorten, split_html
from bot.storage.records import Enquiry
from bot.users import Reply

STATUS_TEXT_CHARS = 60
_DEEP_LINK = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class View:
    """One reply: its HTML parts (each a message of at most 4096 characters) and keyboard."""

    parts: tuple[str, ...]
    keyboard: InlineKeyboardMarkup | None = None


def escaped_parts(text: str, header: str = "") -> tuple[str, ...]:
    """Plain text html-escaped and split for Telegram; `header` (HTML) goes before part one."""
    body = html.escape(text)
    return tuple(split_html(f"{header}\n{body}" if header else body))


def _rows(buttons: Iterable[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [[button] for button in buttons]


def topics_view(kb: KnowledgeBase, language: str, intro: str | None = None) -> View:
    """The list of categories, one button each."""
    buttons = (
        InlineKeyboardButton(kb.category_in(name, language), callback_data=OpenCategory(i).data)
        for i, name in enumerate(kb.categories)
    )
    return View((intro or texts.get(language).topics,), InlineKeyboardMarkup(_rows(buttons)))


def category_view(kb: KnowledgeBase, index: int, language: str) -> View:
    """The entries of one category, one button each, and a Back button."""
    name = kb.categories[index]
    rows = _rows(
        InlineKeyboardButton(e.title_in(language), callback_data=OpenEntry(e.id).data)
        for e in kb.in_category(name)
    )
    back = texts.get(language).button_back
    rows.append([InlineKeyboardButton(back, callback_data=ShowTopics().data)])
    return View(
        (f"<b>{html.escape(kb.category_in(name, language))}</b>",), InlineKeyboardMarkup(rows)
    )


def answer_keyboard(
    kb: KnowledgeBase,
    entry_id: str | None,
    language: str,
    related: Sequence[str] = (),
    question_number: int | None = None,
) -> InlineKeyboardMarkup | None:
    """Related entries, "Ask staff" (for a remembered question), then 👍 / 👎 (for an entry)."""
    words = texts.get(language)
    rows = _rows(
        InlineKeyboardButton(kb.entries[r].title_in(language), callback_data=OpenEntry(r).data)
        for r in related
        if r in kb.entries
    )
    if question_number is not None:
        data = AskStaff(question_number).data
        rows.append([InlineKeyboardButton(words.button_ask_staff, callback_data=data)])
    if entry_id is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    words.button_helpful, callback_data=Feedback(True, entry_id).data
                ),
                InlineKeyboardButton(
                    words.button_not_helpful, callback_data=Feedback(False, entry_id).data
                ),
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


def entry_view(
    kb: KnowledgeBase,
    entry: Entry,
    language: str,
    answer: str | None = None,
    question_number: int | None = None,
) -> View:
    """An entry opened from a button or deep link: bold title, its answer, its keyboard."""
    header = f"<b>{html.escape(entry.title_in(language))}</b>"
    parts = escaped_parts(entry.answer_in(language) if answer is None else answer, header)
    keyboard = answer_keyboard(kb, entry.id, language, entry.related, question_number)
    return View(parts, keyboard)


def reply_view(kb: KnowledgeBase, reply: Reply, question_number: int) -> View:
    """The reply to a typed message, whatever became of it."""
    decision = reply.decision
    language = reply.answer_language
    words = texts.get(language)
    answered = decision is not None and decision.action is Action.ANSWER
    if reply.limited and not answered:
        return View((html.escape(words.daily_limit),))
    if reply.enquiry is not None and not answered:
        return View((html.escape(reply.acknowledgement),))
    if decision is None:  # only a message that joined an enquiry comes without a decision
        return View((words.ask_usage,))
    if decision.action is Action.ANSWER and decision.entry_id in kb.entries:
        keyboard = answer_keyboard(
            kb, decision.entry_id, language, decision.related, question_number
        )
        parts = escaped_parts(decision.answer)
        # Answered in part: the rest went to staff (or could not, over the daily cap).
        if reply.enquiry is not None:
            parts = (*parts, html.escape(reply.acknowledgement))
        elif reply.limited:
            parts = (*parts, html.escape(words.daily_limit))
        return View(parts, keyboard)
    if decision.action is Action.CLARIFY and decision.suggestions:
        rows = _rows(
            InlineKeyboardButton(s.title, callback_data=Choose(question_number, s.entry_id).data)
            for s in decision.suggestions
        )
        none = AskStaff(question_number, none_of_these=True).data
        rows.append([InlineKeyboardButton(words.none_of_these, callback_data=none)])
        return View((html.escape(decision.answer),), InlineKeyboardMarkup(rows))
    if decision.action is Action.ESCALATE:  # not stored: let the user send it themselves
        return View((words.ask_usage,))
    return View(escaped_parts(decision.answer or words.empty_question))


def text_view(text: str) -> View:
    """A plain-text message (escaped), e.g. an acknowledgement."""
    return View((html.escape(text),))


def status_view(enquiries: Sequence[Enquiry], language: str) -> View:
    """A user's enquiries: reference, state and the start of the question."""
    words = texts.get(language)
    if not enquiries:
        return View((words.no_enquiries,))
    lines = [words.enquiries_header]
    for enquiry in enquiries:
        text = shorten(enquiry.text, STATUS_TEXT_CHARS)
        state = words.states[enquiry.state]
        lines.append(f"#{enquiry.ref} ({state}): {html.escape(text)}")
    return View(tuple(split_html("\n".join(lines))))


def contact_view(kb: KnowledgeBase, entry_ids: Sequence[str], language: str) -> View:
    """The answers of the contact entries, each under its title."""
    sections = [texts.get(language).contact_header]
    for entry_id in entry_ids:
        if (entry := kb.entries.get(entry_id)) is not None:
            title = html.escape(entry.title_in(language))
            sections.append(f"<b>{title}</b>\n{html.escape(entry.answer_in(language))}")
    return View(tuple(split_html("\n".join(sections))))


def forget_view(language: str) -> View:
    """The /forget confirmation with its two buttons."""
    words = texts.get(language)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(words.button_forget_yes, callback_data=Forget(True).data),
                InlineKeyboardButton(words.button_forget_no, callback_data=Forget(False).data),
            ]
        ]
    )
    return View((words.forget_confirm,), keyboard)


def language_view(language: str) -> View:
    """/language: one button per language the bot speaks."""
    buttons = [
        InlineKeyboardButton(name, callback_data=SetLanguage(code).data)
        for code, name in texts.LANGUAGE_NAMES.items()
    ]
    return View((texts.get(language).language_prompt,), InlineKeyboardMarkup([buttons]))


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
