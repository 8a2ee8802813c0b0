"""Sending and editing views: the only place handlers talk HTML to Telegram."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest

from handlers.state import Context
from handlers.views import View


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
    """Replace the message a button belongs to with a one-part view (send it if too old)."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message) or len(view.parts) != 1:
        await send_view(update, context, view)
        return
    try:
        await query.edit_message_text(
            view.parts[0], parse_mode=ParseMode.HTML, reply_markup=view.keyboard
        )
    except BadRequest as exc:
        if "not modified" not in exc.message:  # a double press shows the same view: fine
            raise


async def set_keyboard(query: CallbackQuery, keyboard: InlineKeyboardMarkup | None) -> None:
    """Replace the keyboard of a button's message (None removes it); ignore unchanged."""
    if not isinstance(query.message, Message):
        return
    try:
        await query.edit_message_reply_markup(keyboard)
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise
