"""Handlers for people asking questions: commands, typed questions, and other messages."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop

from bot import texts
from bot.flood import Verdict
from bot.knowledge import Entry
from bot.screens import CONTACT_ENTRIES
from bot.storage.database import StorageUnavailable
from bot.users import DailyLimitReached
from handlers.groups import ADDRESSED, strip_mention
from handlers.replies import quoted_text, record_sent, send_view
from handlers.state import Context, asker_for, language_of, user_state
from handlers.views import (
    View,
    category_view,
    contact_view,
    entry_view,
    forget_view,
    language_view,
    reply_views,
    resolve_deep_link,
    status_view,
    text_view,
    topics_view,
)

logger = logging.getLogger(__name__)


async def flood_guard(update: Update, context: Context) -> None:
    """Before every other handler: over limits.messages_per_minute, say "too fast" once and
    handle nothing more from that user until their minute has room again. Staff are exempt."""
    user, query = update.effective_user, update.callback_query
    message = update.message or update.edited_message
    services = context.bot_data.core
    if user is None or services.staff.is_staff(user.id):
        return
    if message is not None and not _addressed(message):
        return  # group talk the bot does not read
    if message is None and query is None:
        return  # channel posts and the like: no handler acts on them
    verdict = await services.users.admit(user.id)
    if verdict is Verdict.ALLOW:
        return
    if verdict is Verdict.WARN:
        text = message.text if message is not None and message.text else ""
        language = await services.users.reply_language(asker_for(update), text)
        too_fast = texts.get(language).too_fast
        if query is not None:
            await query.answer(too_fast)
        else:
            await send_view(update, context, text_view(too_fast))
    elif query is not None:
        await query.answer()  # stop the button's spinner
    logger.info("flood limit: an update from a user was dropped")
    raise ApplicationHandlerStop


def _addressed(message: Message) -> bool:
    """A message the handlers below may act on: addressed to the bot, or a command."""
    return ADDRESSED.filter(message) or (message.text or "").startswith("/")


async def start(update: Update, context: Context) -> None:
    """/start: welcome and topics; /start <entry id or topic> opens that deep link."""
    kb = context.bot_data.core.kb
    language = await language_of(update, context)
    target = resolve_deep_link(kb, context.args[0]) if context.args else None
    if isinstance(target, Entry):
        view = entry_view(kb, target, language)
    elif target is not None:
        view = category_view(kb, target, language)
    else:
        view = topics_view(kb, language, intro=texts.get(language).welcome)
    await send_view(update, context, view)


async def help_command(update: Update, context: Context) -> None:
    """/help: what the bot does and its commands; staff also get theirs, in their language."""
    user = update.effective_user
    staff = context.bot_data.core.staff
    if user is not None and staff.is_staff(user.id):
        staff_words = await staff.words_for(user.id)
        words = texts.get(staff_words.language)
        await send_view(update, context, View((words.help + staff_words.help,)))
        return
    words = texts.get(await language_of(update, context))
    await send_view(update, context, View((words.help,)))


async def topics(update: Update, context: Context) -> None:
    """/topics: the categories as buttons."""
    language = await language_of(update, context)
    await send_view(update, context, topics_view(context.bot_data.core.kb, language))


async def contact(update: Update, context: Context) -> None:
    """/contact: the contact entries' answers."""
    language = await language_of(update, context)
    view = contact_view(context.bot_data.core.kb, CONTACT_ENTRIES, language)
    await send_view(update, context, view)


async def language(update: Update, context: Context) -> None:
    """/language: choose English or Japanese."""
    await send_view(update, context, language_view(await language_of(update, context)))


async def ask(update: Update, context: Context) -> None:
    """/ask <question>: straight to staff, without the matcher deciding."""
    message = update.effective_message
    words = (message.text or "").split(maxsplit=1) if message else []
    question = strip_mention(words[1], context.bot.username) if len(words) > 1 else ""
    chosen = await language_of(update, context)
    if not question:
        await send_view(update, context, View((texts.get(chosen).ask_usage,)))
        return
    users = context.bot_data.core.users
    asker = asker_for(update)
    try:
        enquiry = await users.ask_staff(asker, question, language=chosen)
    except DailyLimitReached as over:
        await send_view(update, context, text_view(users.limit_notice(over.resets_at, chosen)))
        return
    except StorageUnavailable:
        await _cannot_forward(update, context, chosen)
        return
    state = user_state(context)
    state.forwarded[state.remember(question)] = enquiry.ref
    logger.info("enquiry #%d: sent to staff with /ask", enquiry.ref)
    # The acknowledgement is in the outbox, queued with the enquiry (bot.users.acknowledged).


async def status(update: Update, context: Context) -> None:
    """/status: the sender's enquiries, newest first."""
    enquiries = await context.bot_data.core.users.status(asker_for(update).user_id)
    await send_view(update, context, status_view(enquiries, await language_of(update, context)))


async def privacy(update: Update, context: Context) -> None:
    """/privacy: what is stored, for how long, and how to delete it."""
    days = context.bot_data.core.settings.storage.retention_days
    words = texts.get(await language_of(update, context))
    await send_view(update, context, View((words.privacy.format(days=days),)))


async def forget(update: Update, context: Context) -> None:
    """/forget: ask for confirmation before deleting the sender's data."""
    await send_view(update, context, forget_view(await language_of(update, context)))


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have (private chats only)."""
    words = texts.get(await language_of(update, context))
    await send_view(update, context, View((words.unknown_command,)))


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice notes and the like: say that only text is read."""
    words = texts.get(await language_of(update, context))
    await send_view(update, context, View((words.not_text,)))


async def question(update: Update, context: Context) -> None:
    """A typed question: answer it, offer choices or topics, or forward it to staff.

    A reply to one of the bot's messages about an enquiry (its acknowledgement or a staff
    answer) is a follow-up of that enquiry, whatever it says; another unanswerable message
    may join it, open a new one, or ask the user which (see bot.users).
    """
    message = update.effective_message
    if message is None or message.text is None:
        return
    text = strip_mention(message.text, context.bot.username)
    services = context.bot_data.core
    asker = asker_for(update)
    replied = message.reply_to_message
    try:
        reply = await services.users.handle_message(
            asker,
            text,
            replied.message_id if replied is not None else None,
            quoted_text(message, context.bot.id),
        )
    except StorageUnavailable:  # it had to be stored for staff, and the disk takes no writes
        await _cannot_forward(update, context, await services.users.reply_language(asker, text))
        return
    state = user_state(context)
    number = state.remember(text)
    if reply.enquiry is not None:
        state.forwarded[number] = reply.enquiry.ref
        how = "follow-up" if reply.follow_up else "escalated"
        why = reply.decision.reason if reply.decision else "a reply in the user's chat"
        logger.info("enquiry #%d: %s (%s)", reply.enquiry.ref, how, why)
    sent = [
        m
        for view in reply_views(services.kb, reply, number)
        for m in await send_view(update, context, view)
    ]
    if reply.enquiry is not None:
        await record_sent(context, reply.enquiry.ref, sent)
        await services.users.release(reply)  # an answer in part went: its acknowledgement next


async def _cannot_forward(update: Update, context: Context, language: str) -> None:
    """The message could not be stored for staff (the database logged why, once)."""
    logger.info("a message for staff was not stored: the database takes no writes")
    await send_view(update, context, text_view(texts.get(language).cannot_forward))
