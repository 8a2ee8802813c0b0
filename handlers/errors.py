"""The error handler: log the failure with its update id; tell the user politely, in the
language they chose with /language."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.error import NetworkError, RetryAfter, TelegramError

from bot import stafftexts, texts
from bot.language import ENGLISH
from bot.storage.database import StorageUnavailable
from bot.storage.updates import AlreadyHandled
from handlers.state import Context, language_of

logger = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log an exception raised while handling an update, and apologise to the chat."""
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(context.error, AlreadyHandled):  # another bot did it all (webhook logs it)
        return
    if isinstance(context.error, StorageUnavailable):  # the database logged it, once
        logger.info("update %s not handled: %s", update_id, context.error)
    elif isinstance(context.error, NetworkError | RetryAfter):  # Telegram's side: one line
        logger.warning("error while handling update %s: %s", update_id, context.error)
    else:
        logger.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:  # telling the user must not raise again: that would only be logged once more
        if update.callback_query is not None:
            await update.callback_query.answer()
        if update.effective_chat is not None:
            await context.bot.send_message(
                update.effective_chat.id,
                await _apology(update, context),
                parse_mode=ParseMode.HTML,
            )
    except TelegramError as exc:
        logger.warning("could not tell the user about update %s's error: %s", update_id, exc)


async def _apology(update: Update, context: Context) -> str:
    """What to say: to staff whose change the database could not take, that nothing was sent
    or kept (in their language); to anyone else, that something went wrong."""
    user, chat = update.effective_user, update.effective_chat
    if not isinstance(context.error, StorageUnavailable) or user is None or chat is None:
        return texts.get(await _language(update, context)).something_wrong
    staff = context.bot_data.core.staff  # open: the store it holds raised
    if staff.may_act(user.id, chat.id, chat.type == ChatType.PRIVATE):
        try:
            words = await staff.words_for(user.id)
        except Exception:  # reading the language failed too: staff.language
            words = stafftexts.get(staff.settings.staff.language)
        return html.escape(words.not_stored)
    return texts.get(await _language(update, context)).something_wrong


async def _language(update: Update, context: Context) -> str:
    """The user's /language choice, else their client's; the client's if the store failed."""
    user = update.effective_user
    try:
        return await language_of(update, context)
    except Exception:  # the failure may be the store's: apologise all the same
        logger.warning("could not read the language of update %s's user", update.update_id)
        return (user.language_code if user else None) or ENGLISH
