"""Handlers for people asking questions: commands, typed questions, and other messages."""

from __future__ import annotations

import html
import logging

from telegram import Update

from bot import texts
from bot.knowledge import Entry
from bot.service import DailyLimitReached
from handlers.groups import strip_mention
from handlers.replies import send_view
from handlers.state import Context, asker_for, user_state
from handlers.views import (
    View,
    category_view,
    contact_view,
    entry_view,
    escalated_view,
    forget_view,
    reply_view,
    resolve_deep_link,
    status_view,
    topics_view,
)

logger = logging.getLogger(__name__)

CONTACT_ENTRIES = ("contact-tokyo-division", "contact-jclair-singapore", "contact-online")


async def start(update: Update, context: Context) -> None:
    """/start: welcome and topics; /start <entry id or topic> opens that deep link."""
    kb = context.bot_data.core.kb
    target = resolve_deep_link(kb, context.args[0]) if context.args else None
    if isinstance(target, Entry):
        view = entry_view(kb, target)
    elif target is not None:
        view = category_view(kb, target)
    else:
        view = topics_view(kb, intro=texts.WELCOME)
    await send_view(update, context, view)


async def help_command(update: Update, context: Context) -> None:
    """/help: what the bot does and its commands."""
    await send_view(update, context, View((texts.HELP,)))


async def topics(update: Update, context: Context) -> None:
    """/topics: the categories as buttons."""
    await send_view(update, context, topics_view(context.bot_data.core.kb))


async def contact(update: Update, context: Context) -> None:
    """/contact: the contact entries' answers."""
    await send_view(update, context, contact_view(context.bot_data.core.kb, CONTACT_ENTRIES))


async def ask(update: Update, context: Context) -> None:
    """/ask <question>: straight to staff, without the matcher deciding."""
    message = update.effective_message
    words = (message.text or "").split(maxsplit=1) if message else []
    question = strip_mention(words[1], context.bot.username) if len(words) > 1 else ""
    if not question:
        await send_view(update, context, View((texts.ASK_USAGE,)))
        return
    service = context.bot_data.core
    asker = asker_for(update)
    if not service.allow_message(asker.user_id):
        await send_view(update, context, View((html.escape(texts.TOO_FAST),)))
        return
    try:
        enquiry = await service.ask_staff(asker, question)
    except DailyLimitReached:
        await send_view(update, context, View((html.escape(texts.DAILY_LIMIT),)))
        return
    state = user_state(context)
    state.forwarded[state.remember(question)] = enquiry.ref
    logger.info("enquiry #%d: sent to staff with /ask", enquiry.ref)
    await send_view(update, context, escalated_view(enquiry))


async def status(update: Update, context: Context) -> None:
    """/status: the sender's enquiries, newest first."""
    enquiries = await context.bot_data.core.store.enquiries_for_user(asker_for(update).user_id)
    await send_view(update, context, status_view(enquiries))


async def privacy(update: Update, context: Context) -> None:
    """/privacy: what is stored, for how long, and how to delete it."""
    days = context.bot_data.core.settings.storage.retention_days
    await send_view(update, context, View((texts.privacy(days),)))


async def forget(update: Update, context: Context) -> None:
    """/forget: ask for confirmation before deleting the sender's data."""
    await send_view(update, context, forget_view())


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have (private chats only)."""
    await send_view(update, context, View((texts.UNKNOWN_COMMAND,)))


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice notes and the like: say that only text is read."""
    await send_view(update, context, View((texts.NOT_TEXT,)))


async def question(update: Update, context: Context) -> None:
    """A typed question: answer it, offer choices, or forward it to staff."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    text = strip_mention(message.text, context.bot.username)
    service = context.bot_data.core
    asker = asker_for(update)
    if not service.allow_message(asker.user_id):
        await send_view(update, context, View((html.escape(texts.TOO_FAST),)))
        return
    reply = await service.ask(asker, text)
    state = user_state(context)
    number = state.remember(text)
    if reply.enquiry is not None:
        state.forwarded[number] = reply.enquiry.ref
        how = "follow-up" if reply.follow_up else "escalated"
        logger.info("enquiry #%d: %s (%s)", reply.enquiry.ref, how, reply.decision.reason)
    await send_view(update, context, reply_view(service.kb, reply, number))
