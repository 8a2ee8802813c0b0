"""Sending and editing views: the only place handlers talk HTML to Telegram."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest

from bot.storage.database import StorageUnavailable
from handlers.state import Context
from handlers.views import View

logger = logging.getLogger(__name__)

#: Telegram's words when a button's message is gone (deleted, or a forged message id).
_GONE = ("message to edit not found", "message can't be edited")


class MessageGone(Exception):
    """The message a button belongs to no longer exists: the button has expired."""


def _raise_unless_unchanged(exc: BadRequest) -> None:
    """A double press shows the same view again (fine); a message that is gone expired."""
    if "not modified" in exc.message:
        return
    if any(words in exc.message.lower() for words in _GONE):
        raise MessageGone(exc.message) from exc
    raise exc


async def send_view(update: Update, context: Context, view: View) -> list[Message]:
    """Send every part of a view to the update's chat; the keyboard goes on the last part.

    In groups the reply quotes the message it answers, so people see who it is for.
    Returns the messages sent.
    """
    chat, message = update.effective_chat, update.message
    sent: list[Message] = []
    if chat is None:
        return sent
    reply_to = None
    if message is not None and chat.type != ChatType.PRIVATE:
        reply_to = ReplyParameters(message.message_id, allow_sending_without_reply=True)
    source = update.effective_message
    thread_id = source.message_thread_id if source and source.is_topic_message else None
    for number, part in enumerate(view.parts, start=1):
        sent_message = await context.bot.send_message(
            chat.id,
            part,
            parse_mode=ParseMode.HTML,
            reply_markup=view.keyboard if number == len(view.parts) else None,
            reply_parameters=reply_to if number == 1 else None,
            message_thread_id=thread_id,
        )
        sent.append(sent_message)
    return sent


async def edit_view(update: Update, context: Context, view: View) -> None:
    """Replace the message a button belongs to with a one-part view (send it if too old);
    MessageGone when that message no longer exists."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message) or len(view.parts) != 1:
        await send_view(update, context, view)
        return
    try:
        await query.edit_message_text(
            view.parts[0], parse_mode=ParseMode.HTML, reply_markup=view.keyboard
        )
    except BadRequest as exc:
        _raise_unless_unchanged(exc)


async def set_keyboard(query: CallbackQuery, keyboard: InlineKeyboardMarkup | None) -> None:
    """Replace the keyboard of a button's message (None removes it); ignore unchanged, and a
    message that is gone (the press itself was answered already)."""
    if not isinstance(query.message, Message):
        return
    try:
        await query.edit_message_reply_markup(keyboard)
    except BadRequest as exc:
        try:
            _raise_unless_unchanged(exc)
        except MessageGone:
            logger.info("a button's message is gone; its keyboard was not updated")


def is_from_bot(message: Message, bot_id: int) -> bool:
    """Whether `message` was sent by this bot."""
    return message.from_user is not None and message.from_user.id == bot_id


def quoted_text(message: Message, bot_id: int) -> str | None:
    """What the message `message` replies to says (its text, or a copy's caption), when the
    bot sent it: where a copy whose id was never recorded shows its `#N`."""
    replied = message.reply_to_message
    if replied is None or not is_from_bot(replied, bot_id):
        return None
    return replied.text if replied.text is not None else replied.caption


async def record_thread(
    context: Context, ref: int, chat_id: int, message_ids: Sequence[int]
) -> None:
    """Remember that messages belong to an enquiry's thread; on a disk that takes no writes,
    go on without (the database logged why): a reply to them is still tied by its `#N`."""
    try:
        await context.bot_data.core.record_thread(ref, chat_id, message_ids)
    except StorageUnavailable:
        logger.info("enquiry #%d: messages %s not recorded in its thread", ref, message_ids)


async def record_sent(context: Context, ref: int, sent: Sequence[Message]) -> None:
    """Messages sent about enquiry `ref`: a reply to any of them joins its thread."""
    if sent:
        await record_thread(context, ref, sent[0].chat_id, [m.message_id for m in sent])
