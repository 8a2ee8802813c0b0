"""What a user sees: HTML texts and buttons, the same for Telegram and the terminal chat.

A `Screen` is one reply: its HTML parts (each within Telegram's 4,096 characters) and rows
of buttons, each a label and the action it stands for (bot.callback_data). Telegram sends
the actions as callback data (handlers.views); the terminal chat offers them as numbered
choices (bot.terminal). Every function here is pure. Text from a person or from the
knowledge base (plain text) is html-escaped here and nowhere else.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot import callback_data as cd
from bot import texts
from bot.answers import finish
from bot.conversation import Topics
from bot.decision import Action
from bot.knowledge import Entry, KnowledgeBase
from bot.markup import shorten, split_html
from bot.storage.records import Enquiry
from bot.users import Reply

#: What /contact shows: the contact entries, in this order.
CONTACT_ENTRIES = ("contact-tokyo-division", "contact-jclair-singapore", "contact-online")
STATUS_TEXT_CHARS = 60


@dataclass(frozen=True)
class Button:
    """One button: what it says, and what pressing (or choosing) it does."""

    label: str
    action: cd.ButtonAction


Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Screen:
    """One reply: HTML parts, and rows of buttons under the last part."""

    parts: tuple[str, ...]
    rows: Rows = ()


def escaped_parts(text: str, header: str = "") -> tuple[str, ...]:
    """Plain text html-escaped and split for Telegram; `header` (HTML) goes before part one."""
    body = html.escape(text)
    return tuple(split_html(f"{header}\n{body}" if header else body))


def plain(text: str) -> Screen:
    """A plain-text message (escaped), e.g. an acknowledgement."""
    return Screen((html.escape(text),))


def _column(buttons: Iterable[Button]) -> tuple[tuple[Button, ...], ...]:
    return tuple((button,) for button in buttons)


def topics(kb: KnowledgeBase, language: str, intro: str | None = None) -> Screen:
    """The list of categories, one button each."""
    return Screen((intro or texts.get(language).topics,), _category_rows(kb, language))


def _category_rows(
    kb: KnowledgeBase, language: str, indices: Iterable[int] | None = None
) -> tuple[tuple[Button, ...], ...]:
    chosen = range(len(kb.categories)) if indices is None else indices
    return _column(
        Button(kb.category_in(kb.categories[i], language), cd.OpenCategory(i)) for i in chosen
    )


def category(kb: KnowledgeBase, index: int, language: str) -> Screen:
    """The entries of one category, one button each, and a Back button."""
    name = kb.categories[index]
    rows = _column(Button(e.title_in(language), cd.OpenEntry(e.id)) for e in kb.in_category(name))
    back = ((Button(texts.get(language).button_back, cd.ShowTopics()),),)
    return Screen((f"<b>{html.escape(kb.category_in(name, language))}</b>",), rows + back)


def answer_rows(
    kb: KnowledgeBase,
    entry_id: str | None,
    language: str,
    related: Sequence[str] = (),
    question_number: int | None = None,
) -> Rows:
    """Related entries, "Ask staff" (for a remembered question), then 👍 / 👎 (for an entry)."""
    words = texts.get(language)
    rows = _column(
        Button(kb.entries[r].title_in(language), cd.OpenEntry(r))
        for r in related
        if r in kb.entries
    )
    if question_number is not None:
        rows += ((Button(words.button_ask_staff, cd.AskStaff(question_number)),),)
    if entry_id is not None:
        rows += (
            (
                Button(words.button_helpful, cd.Feedback(True, entry_id)),
                Button(words.button_not_helpful, cd.Feedback(False, entry_id)),
            ),
        )
    return rows


def entry(
    kb: KnowledgeBase,
    shown: Entry,
    language: str,
    answer: str | None = None,
    question_number: int | None = None,
) -> Screen:
    """An entry opened from a button or link: bold title, the answer (its own, ending with
    its source, unless a finished `answer` is given), its buttons."""
    header = f"<b>{html.escape(shown.title_in(language))}</b>"
    if answer is None:
        answer = finish(kb, (shown.id,), shown.answer_in(language), language)
    rows = answer_rows(kb, shown.id, language, shown.related, question_number)
    return Screen(escaped_parts(answer, header), rows)


def replies(kb: KnowledgeBase, reply: Reply, question_number: int) -> tuple[Screen, ...]:
    """What a typed message gets, whatever became of it: one screen, or two when an answer
    comes with the question whether the rest is new or part of an open enquiry; none when
    all it gets is an acknowledgement the outbox brings (`Reply.queued`)."""
    decision = reply.decision
    language = reply.answer_language
    words = texts.get(language)
    if reply.rephrase:
        return (Screen((html.escape(words.rephrase),), _category_rows(kb, language)),)
    if reply.broad is not None:
        return (broad(kb, reply.broad, language),)
    screens: list[Screen] = []
    answered = decision is not None and decision.action is Action.ANSWER
    # An acknowledgement queued in the outbox with what was stored comes from there.
    acknowledgement = "" if reply.queued else reply.acknowledgement
    if decision is not None and answered and decision.entry_id in kb.entries:
        parts = escaped_parts(reply.answer or decision.answer)
        if acknowledgement:  # answered in part: the rest went to staff, or could not
            parts = (*parts, html.escape(acknowledgement))
        rows = answer_rows(kb, decision.entry_id, language, decision.related, question_number)
        screens.append(Screen(parts, rows))
    elif acknowledgement:
        screens.append(plain(acknowledgement))
    if reply.belongs is not None:
        screens.append(which_enquiry(reply.belongs.ref, question_number, language))
    if screens or reply.queued:  # queued: the outbox brings the acknowledgement
        return tuple(screens)
    if decision is None:
        return (Screen((words.ask_usage,)),)
    if decision.action is Action.CLARIFY and decision.suggestions:
        rows = _column(
            Button(s.title, cd.Choose(question_number, s.entry_id)) for s in decision.suggestions
        )
        none = Button(words.none_of_these, cd.AskStaff(question_number, none_of_these=True))
        return (Screen((html.escape(decision.answer),), (*rows, (none,))),)
    if decision.action is Action.ESCALATE:  # not stored: let the user send it themselves
        return (Screen((words.ask_usage,)),)
    return (Screen(escaped_parts(decision.answer or words.empty_question)),)


def broad(kb: KnowledgeBase, found: Topics, language: str) -> Screen:
    """The categories and entries one broad word names, as buttons."""
    rows = _category_rows(kb, language, found.categories) + _column(
        Button(kb.entries[i].title_in(language), cd.OpenEntry(i))
        for i in found.entries
        if i in kb.entries
    )
    return Screen((html.escape(texts.get(language).broad_topics),), rows)


def which_enquiry(ref: int, question_number: int, language: str) -> Screen:
    """Is this message a new question, or part of open enquiry `ref`? Two buttons."""
    words = texts.get(language)
    row = (
        Button(words.button_new_question, cd.NewEnquiry(question_number)),
        Button(words.button_same_enquiry.format(ref=ref), cd.JoinEnquiry(question_number, ref)),
    )
    return Screen((html.escape(words.which_enquiry.format(ref=ref)),), (row,))


def status(enquiries: Sequence[Enquiry], language: str) -> Screen:
    """A user's enquiries: reference, state and the start of the question."""
    words = texts.get(language)
    if not enquiries:
        return Screen((words.no_enquiries,))
    lines = [words.enquiries_header]
    for enquiry in enquiries:
        text = shorten(enquiry.text, STATUS_TEXT_CHARS)
        lines.append(f"#{enquiry.ref} ({words.states[enquiry.state]}): {html.escape(text)}")
    return Screen(tuple(split_html("\n".join(lines))))


def contact(
    kb: KnowledgeBase, language: str, entry_ids: Sequence[str] = CONTACT_ENTRIES
) -> Screen:
    """The answers of the contact entries, each under its title."""
    sections = [texts.get(language).contact_header]
    for entry_id in entry_ids:
        if (found := kb.entries.get(entry_id)) is not None:
            title = html.escape(found.title_in(language))
            sections.append(f"<b>{title}</b>\n{html.escape(found.answer_in(language))}")
    return Screen(tuple(split_html("\n".join(sections))))


def forget(language: str) -> Screen:
    """The /forget confirmation with its two buttons."""
    words = texts.get(language)
    row = (
        Button(words.button_forget_yes, cd.Forget(True)),
        Button(words.button_forget_no, cd.Forget(False)),
    )
    return Screen((words.forget_confirm,), (row,))


def language_choice(language: str) -> Screen:
    """/language: one button per language the bot speaks."""
    row = tuple(Button(name, cd.SetLanguage(code)) for code, name in texts.LANGUAGE_NAMES.items())
    return Screen((texts.get(language).language_prompt,), (row,))
