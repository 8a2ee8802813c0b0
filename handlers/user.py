"""Handlers for people asking questions: commands, typed questions, and other messages."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Message, Update

from bot import staffview, texts
from bot.knowledge import Entry
from bot.language import detect_language
from bot.service import DailyLimitReached
from bot.storage import Enquiry
from handlers.groups import strip_mention
from handlers.replies import send_view
from handlers.state import Context, asker_for, language_of, user_state
from handlers.views import (
    View,
    category_view,
    contact_view,
    entry_view,
    forget_view,
    language_view,
    reply_view,
    resolve_deep_link,
    status_view,
    text_view,
    topics_view,
)

logger = logging.getLogger(__name__)

CONTACT_ENTRIES = ("contact-tokyo-division", "contact-jclair-singapore", "contact-online")


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
    """/help: what the bot does and its commands."""
    words = texts.get(await language_of(update, context))
    user = update.effective_user
    staff = context.bot_data.core.is_staff(user.id if user else None)
    extra = staffview.STAFF_HELP if staff else ""
    await send_view(update, context, View((words.help + extra,)))


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
    service = context.bot_data.core
    asker = asker_for(update)
    if not service.allow_message(asker.user_id):
        await send_view(update, context, text_view(texts.get(chosen).too_fast))
        return
    try:
        enquiry = await service.ask_staff(asker, question)
    except DailyLimitReached:
        await send_view(update, context, text_view(texts.get(chosen).daily_limit))
        return
    state = user_state(context)
    state.forwarded[state.remember(question)] = enquiry.ref
    logger.info("enquiry #%d: sent to staff with /ask", enquiry.ref)
    await send_acknowledgement(update, context, enquiry, chosen)


async def status(update: Update, context: Context) -> None:
    """/status: the sender's enquiries, newest first."""
    enquiries = await context.bot_data.core.store.enquiries_for_user(asker_for(update).user_id)
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
    """A typed question: answer it, offer choices, or forward it to staff.

    A reply to one of the bot's messages about an enquiry (its acknowledgement or a staff
    answer) is a follow-up of that enquiry, whatever it says.
    """
    message = update.effective_message
    if message is None or message.text is None:
        return
    text = strip_mention(message.text, context.bot.username)
    service = context.bot_data.core
    asker = asker_for(update)
    chosen = await service.store.language_of(asker.user_id)
    if not service.allow_message(asker.user_id):
        language = chosen or detect_language(text, asker.language)
        await send_view(update, context, text_view(texts.get(language).too_fast))
        return
    replied = message.reply_to_message
    ref = (
        await service.store.ref_for_message(message.chat_id, replied.message_id)
        if replied is not None
        else None
    )
    if ref is not None and (current := await service.store.get_enquiry(ref)) is not None:
        enquiry = await service.follow_up(current.ref, asker, text)
        language = chosen or detect_language(text, asker.language)
        logger.info("enquiry #%d: follow-up (a reply in the user's chat)", enquiry.ref)
        await send_acknowledgement(update, context, enquiry, language, follow_up=True)
        return
    reply = await service.ask(asker, text, chosen)
    state = user_state(context)
    number = state.remember(text)
    acknowledgement = ""
    if reply.enquiry is not None:
        state.forwarded[number] = reply.enquiry.ref
        how = "follow-up" if reply.follow_up else "escalated"
        logger.info("enquiry #%d: %s (%s)", reply.enquiry.ref, how, reply.decision.reason)
        acknowledgement = service.acknowledgement(
            reply.enquiry, reply.decision.language, reply.follow_up
        )
    sent = await send_view(update, context, reply_view(service.kb, reply, number, acknowledgement))
    if reply.enquiry is not None:
        await _thread(context, reply.enquiry.ref, sent)


async def send_acknowledgement(
    update: Update, context: Context, enquiry: Enquiry, language: str, follow_up: bool = False
) -> None:
    """Tell the user their message is with staff; replies to that message join the thread."""
    text = context.bot_data.core.acknowledgement(enquiry, language, follow_up)
    sent = await send_view(update, context, text_view(text))
    await _thread(context, enquiry.ref, sent)


async def _thread(context: Context, ref: int, sent: Sequence[Message]) -> None:
    for message in sent:
        await context.bot_data.core.store.record_thread_message(
            message.chat_id, message.message_id, ref
        )
