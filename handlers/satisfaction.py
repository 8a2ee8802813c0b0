"""Ratings from users: the 1-5 buttons on "did this answer your question?", and the comment.

After a score, the user is asked (ForceReply) for an optional comment: a reply to that prompt
is the comment, not a new question. Runs before the user handlers for exactly that reason.
"""

from __future__ import annotations

import logging

from telegram import ForceReply, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop

from bot import texts
from bot.callback_data import Rate
from bot.storage.ratings import Rated
from bot.storage.records import Source
from handlers.replies import send_view, set_keyboard
from handlers.state import Context, language_of
from handlers.views import text_view

logger = logging.getLogger(__name__)


async def rate(update: Update, context: Context, action: Rate) -> None:
    """A rating button: recorded once; the buttons go, and a comment is invited."""
    query = update.callback_query
    assert query is not None
    words = texts.get(await language_of(update, context))
    outcome = await context.bot_data.core.satisfaction.rate(
        action.ref, query.from_user.id, action.score
    )
    if outcome is Rated.UNKNOWN:
        await query.answer(words.button_expired)
        return
    if outcome is Rated.ALREADY:
        await query.answer(words.rating_already)
        if isinstance(query.message, Message) and query.message.reply_markup:
            await set_keyboard(query, None)  # a stale copy of the question still had them
        return
    logger.info("enquiry #%d: rated %d by the user", action.ref, action.score)
    await query.answer(words.rating_thanks.format(score=action.score))
    await set_keyboard(query, None)
    chat = update.effective_chat
    assert chat is not None
    prompt = await context.bot.send_message(
        chat.id,
        words.comment_prompt.format(ref=action.ref),
        parse_mode=ParseMode.HTML,
        reply_markup=ForceReply(selective=True),
    )
    await context.bot_data.core.satisfaction.prompt_sent(
        action.ref, Source(chat.id, prompt.message_id)
    )


async def comment(update: Update, context: Context) -> None:
    """A reply to a comment prompt is the comment (and nothing else handles it)."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or not message.text:
        return
    satisfaction = context.bot_data.core.satisfaction
    replied = Source(message.chat.id, message.reply_to_message.message_id)
    ref = await satisfaction.comment_for(replied)
    if ref is None:
        return  # an ordinary reply: the user handlers take it
    await satisfaction.comment(ref, message.text)
    logger.info("enquiry #%d: a comment from the user", ref)
    words = texts.get(await language_of(update, context))
    await send_view(update, context, text_view(words.comment_thanks))
    raise ApplicationHandlerStop
