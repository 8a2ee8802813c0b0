"""The one place that registers every handler, in the order they are tried."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.callback_data import STAFF_PREFIX
from handlers import callbacks, console, errors, media, satisfaction, staff, user
from handlers.groups import ADDRESSED

#: New messages only: an edit must not ask (or escalate) twice; edits have their own handler.
NEW_MESSAGE = filters.UpdateType.MESSAGE
EDITED = filters.UpdateType.EDITED_MESSAGE
#: Attachments relayed to staff (bot.media.RELAYED); a venue is a location with a name.
ATTACHMENT = (
    filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.VENUE
)
#: Kinds that are neither read nor relayed: the sender is told so.
NOT_RELAYED = filters.Sticker.ALL | filters.CONTACT | filters.POLL | filters.Dice.ALL
COMMANDS = {
    "start": user.start,
    "help": user.help_command,
    "topics": user.topics,
    "contact": user.contact,
    "ask": user.ask,
    "status": user.status,
    "privacy": user.privacy,
    "forget": user.forget,
    "language": user.language,
}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler to the application (group 0, so the first match wins)."""
    settings = application.bot_data.settings
    staff_chat = settings.staff.chat_id if settings is not None else 0
    # First, in a group of its own: the flood limit sees every update from a user (messages,
    # commands, buttons) and stops the rest of the handlers when the user is over it.
    application.add_handler(TypeHandler(Update, user.flood_guard), group=-2)
    # Then a reply to a rating's comment prompt: the comment, which stops the handlers below
    # (that would take it as a follow-up); any other reply falls through to them.
    application.add_handler(
        MessageHandler(
            filters.TEXT
            & filters.REPLY
            & ~filters.COMMAND
            & filters.ChatType.PRIVATE
            & NEW_MESSAGE,
            satisfaction.comment,
        ),
        group=-1,
    )
    # An edited message: relayed when the bot stored the original (staff's or a user's).
    application.add_handler(
        MessageHandler(EDITED & (filters.TEXT | filters.CAPTION), media.edited)
    )
    # Commands first. CommandHandler ignores "/cmd@other_bot" in groups by itself.
    for name, callback in COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=NEW_MESSAGE))
    # Staff commands match for everyone, so that non-staff get a polite refusal from
    # staff.staff_only instead of "unknown command" (which would hint at nothing either,
    # but a refusal is clearer), and before unknown_command below, which would take them.
    for name, staff_command in staff.COMMANDS.items():
        application.add_handler(CommandHandler(name, staff_command, filters=NEW_MESSAGE))
    application.add_handler(CommandHandler("console", console.console, filters=NEW_MESSAGE))
    # Before the generic button handler, which would answer "st:..." as an expired button.
    application.add_handler(CallbackQueryHandler(staff.button, pattern=f"^{STAFF_PREFIX}"))
    application.add_handler(CallbackQueryHandler(callbacks.button))
    # Everything else said in the staff chat is staff's: a reply into an enquiry's thread is
    # relayed to the user, the rest is ignored. It must come before the user handlers below,
    # which would otherwise take a reply to the bot's announcement as a new question.
    if staff_chat:
        application.add_handler(
            MessageHandler(
                staff.StaffChat(staff_chat) & ~filters.COMMAND & NEW_MESSAGE,
                staff.staff_chat_message,
            )
        )
    # A command we do not have; only in private chats, where it cannot be another bot's.
    application.add_handler(
        MessageHandler(
            filters.COMMAND & filters.ChatType.PRIVATE & NEW_MESSAGE, user.unknown_command
        )
    )
    application.add_handler(MessageHandler(ATTACHMENT & NEW_MESSAGE & ADDRESSED, media.user_media))
    application.add_handler(MessageHandler(NOT_RELAYED & NEW_MESSAGE & ADDRESSED, user.not_text))
    # Last: any other text addressed to the bot is a question, and may be escalated to staff,
    # so it must not swallow anything a handler above should take.
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & NEW_MESSAGE & ADDRESSED, user.question)
    )
    application.add_error_handler(errors.on_error)
