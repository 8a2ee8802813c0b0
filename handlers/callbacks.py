"""Inline buttons: parse the callback data, check it still makes sense, act.

Forged, unparseable or stale data (an entry that no longer exists) gets a polite
"this button has expired" answer instead of an exception.
"""

from __future__ import annotations

import logging

from telegram import Message, Update

from bot import texts
from bot.callback_data import (
    AskStaff,
    ButtonAction,
    Choose,
    Feedback,
    Forget,
    JoinEnquiry,
    NewEnquiry,
    OpenCategory,
    OpenEntry,
    Rate,
    SetLanguage,
    ShowTopics,
    parse,
)
from bot.knowledge import KnowledgeBase
from bot.storage.database import StorageUnavailable
from bot.users import Notice
from handlers import satisfaction
from handlers.replies import MessageGone, edit_view, record_sent, send_view, set_keyboard
from handlers.state import Context, asker_for, language_of, user_state
from handlers.views import (
    View,
    category_view,
    entry_view,
    text_view,
    topics_view,
    without_feedback,
)

logger = logging.getLogger(__name__)


def is_current(kb: KnowledgeBase, action: ButtonAction) -> bool:
    """Whether a parsed button still points at something in the knowledge base."""
    if isinstance(action, OpenEntry | Choose | Feedback):
        return action.entry_id in kb.entries
    if isinstance(action, OpenCategory):
        return action.index < len(kb.categories)
    return True


async def button(update: Update, context: Context) -> None:
    """Every inline button press."""
    query = update.callback_query
    if query is None:
        return
    kb = context.bot_data.core.kb
    language = await language_of(update, context)
    words = texts.get(language)
    action = parse(query.data)
    if action is None or not is_current(kb, action):
        await query.answer(words.button_expired)
        return
    if isinstance(action, AskStaff):
        await _ask_staff(update, context, action, language)
        return
    if isinstance(action, Feedback):
        await _feedback(update, context, action, language)
        return
    if isinstance(action, Rate):
        await satisfaction.rate(update, context, action)
        return
    if isinstance(action, JoinEnquiry | NewEnquiry):
        await _which_enquiry(update, context, action, language)
        return
    if isinstance(action, OpenEntry | Choose):
        await query.answer()
        await _open(update, context, action, language)
        return
    try:  # the rest edit the button's message, which may be gone: answered afterwards
        if isinstance(action, OpenCategory):
            await edit_view(update, context, category_view(kb, action.index, language))
        elif isinstance(action, ShowTopics):
            await edit_view(update, context, topics_view(kb, language))
        elif isinstance(action, Forget):
            await _forget(update, context, action.confirmed, language)
        elif isinstance(action, SetLanguage):
            await context.bot_data.core.users.choose_language(
                asker_for(update).user_id, action.language
            )
            words = texts.get(action.language)
            await edit_view(update, context, View((words.language_set,)))
    except MessageGone:
        logger.info("a button on a message that no longer exists: expired")
        await query.answer(words.button_expired)
        return
    await query.answer()


async def _open(
    update: Update, context: Context, action: OpenEntry | Choose, language: str
) -> None:
    """An entry from a related-topic button, or a "did you mean" choice, as a new message."""
    kb = context.bot_data.core.kb
    if isinstance(action, OpenEntry):
        await send_view(update, context, entry_view(kb, kb.entries[action.entry_id], language))
        return
    asked = user_state(context).question(action.number)
    answer, reply_in = await context.bot_data.core.users.answer_choice(
        asker_for(update).user_id, action.entry_id, asked, language
    )
    number = action.number if asked is not None else None
    entry = kb.entries[action.entry_id]
    await send_view(update, context, entry_view(kb, entry, reply_in, answer, number))


async def _feedback(update: Update, context: Context, action: Feedback, language: str) -> None:
    query = update.callback_query
    assert query is not None
    await context.bot_data.core.users.rate(
        asker_for(update).user_id, action.entry_id, action.helpful
    )
    await query.answer(texts.get(language).feedback_thanks)
    message = query.message  # rated: the 👍 / 👎 row goes, so it is not rated twice
    keyboard = message.reply_markup if isinstance(message, Message) else None
    await set_keyboard(query, without_feedback(keyboard))


async def _ask_staff(update: Update, context: Context, action: AskStaff, language: str) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    reason = "none of the suggestions" if action.none_of_these else "asked for staff"
    try:
        notice = await context.bot_data.core.users.forward_remembered(
            asker_for(update), user_state(context), action.number, reason, language
        )
    except StorageUnavailable:  # the database logged why, once
        await _cannot_forward(update, context, language)
        return
    if notice.ref is not None:
        logger.info("enquiry #%d: sent to staff from a button (%s)", notice.ref, reason)
    await _tell(update, context, notice)


async def _which_enquiry(
    update: Update, context: Context, action: JoinEnquiry | NewEnquiry, language: str
) -> None:
    """The answer to "a new question, or part of #N?": forward the message as told, once."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    ref = action.ref if isinstance(action, JoinEnquiry) else None
    try:
        notice = await context.bot_data.core.users.settle(
            asker_for(update), user_state(context), action.number, ref, language
        )
    except StorageUnavailable:  # the database logged why, once
        await _cannot_forward(update, context, language)
        return
    if notice.ref is not None:
        how = "joined" if ref is not None else "escalated"
        logger.info("enquiry #%d: %s from the user's choice", notice.ref, how)
    await _tell(update, context, notice)


async def _cannot_forward(update: Update, context: Context, language: str) -> None:
    await send_view(update, context, text_view(texts.get(language).cannot_forward))


async def _tell(update: Update, context: Context, notice: Notice) -> None:
    """Send a notice (unless the outbox brings it); one about an enquiry is part of its
    thread (replies to it join it)."""
    if notice.queued:
        return
    sent = await send_view(update, context, View((notice.html,)))
    if notice.ref is not None:
        await record_sent(context, notice.ref, sent)


async def _forget(update: Update, context: Context, confirmed: bool, language: str) -> None:
    words = texts.get(language)
    if not confirmed:
        await edit_view(update, context, View((words.forget_cancelled,)))
        return
    result = await context.bot_data.core.users.forget(asker_for(update).user_id)
    user_state(context).clear()
    logger.info("a user's data was deleted (%d enquiries)", result.enquiries)
    done = words.forgotten.format(
        enquiries=result.enquiries, messages=result.messages, feedback=result.feedback
    )
    await edit_view(update, context, View((done,)))
