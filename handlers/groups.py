"""Groups: the bot answers only messages addressed to it (a @mention or a reply to it).

In a private chat every message is addressed to the bot. The mention is stripped before the
text reaches the matcher.
"""

from __future__ import annotations

import re

from telegram import Message
from telegram.constants import ChatType
from telegram.ext import filters


def _mention(username: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@])@{re.escape(username)}(?!\w)", re.IGNORECASE)


def mentions(text: str, username: str | None) -> bool:
    """Whether `text` contains ``@username`` as a whole word (case-insensitive)."""
    return bool(username) and _mention(username or "").search(text) is not None


def strip_mention(text: str, username: str | None) -> str:
    """`text` without ``@username``, with the gap it leaves tidied."""
    if not username:
        return text.strip()
    return re.sub(r"[ \t]{2,}", " ", _mention(username).sub(" ", text)).strip()


def is_addressed(
    chat_type: str,
    text: str,
    reply_to_user_id: int | None,
    bot_id: int,
    bot_username: str | None,
) -> bool:
    """Whether the bot should read a message: private chat, mention, or a reply to the bot."""
    if chat_type == ChatType.PRIVATE:
        return True
    return reply_to_user_id == bot_id or mentions(text, bot_username)


class AddressedToBot(filters.MessageFilter):
    """Passes private messages, and group messages that mention or reply to this bot."""

    def filter(self, message: Message) -> bool:
        """Apply :func:`is_addressed` with the bot that received the message."""
        bot = message.get_bot()
        reply = message.reply_to_message
        replied_to = reply.from_user.id if reply and reply.from_user else None
        text = message.text or message.caption or ""
        return is_addressed(message.chat.type, text, replied_to, bot.id, bot.username)


ADDRESSED = AddressedToBot(name="AddressedToBot")
