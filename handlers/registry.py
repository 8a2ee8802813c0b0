"""The one place that registers every handler, in the order they are tried."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import callbacks, errors, user
from handlers.groups import ADDRESSED

#: Edited messages and channel posts are ignored: an edit must not ask (or escalate) twice.
NEW_MESSAGE = filters.UpdateType.MESSAGE
NOT_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.VENUE
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
)
COMMANDS = {
    "start": user.start,
    "help": user.help_command,
    "topics": user.topics,
    "contact": user.contact,
    "ask": user.ask,
    "status": user.status,
    "privacy": user.privacy,
    "forget": user.forget,
}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler to the application (group 0, so the first match wins)."""
    # Commands first. CommandHandler ignores "/cmd@other_bot" in groups by itself.
    for name, callback in COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=NEW_MESSAGE))
    application.add_handler(CallbackQueryHandler(callbacks.button))
    # A command we do not have; only in private chats, where it cannot be another bot's.
    application.add_handler(
        MessageHandler(
            filters.COMMAND & filters.ChatType.PRIVATE & NEW_MESSAGE, user.unknown_command
        )
    )
    application.add_handler(MessageHandler(NOT_TEXT & NEW_MESSAGE & ADDRESSED, user.not_text))
    # Last: any other text addressed to the bot is a question, and may be escalated to staff,
    # so it must not swallow anything a handler above should take.
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & NEW_MESSAGE & ADDRESSED, user.question)
    )
    application.add_error_handler(errors.on_error)
