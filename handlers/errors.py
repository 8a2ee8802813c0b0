"""The error handler: log the failure with its update id; tell the user politely."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import texts
from handlers.state import Context

logger = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log an exception raised while handling an update, and apologise to the chat."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:  # telling the user must not raise again: that would only be logged once more
        if update.callback_query is not None:
            await update.callback_query.answer()
        if update.effective_chat is not None:
            user = update.effective_user
            words = texts.get(user.language_code if user else None)
            await context.bot.send_message(
                update.effective_chat.id, words.something_wrong, parse_mode=ParseMode.HTML
            )
    except TelegramError as exc:
        logger.warning("could not tell the user about update %s's error: %s", update_id, exc)
