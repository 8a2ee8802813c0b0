"""Typed shared state of the Telegram layer: what bot_data and user_data hold.

Handed to ``ContextTypes(bot_data=BotData, user_data=UserData)`` so handlers read
``context.bot_data.core`` instead of string keys and casts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from telegram import Update
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.config import Settings
from bot.language import ENGLISH
from bot.outbox import Backoff, OutboxWorker
from bot.service import Services
from bot.storage.records import Asker
from bot.storage.replicas import ChatTurns, JobsLeader
from bot.users import REMEMBERED_QUESTIONS, RecentQuestions
from console.app import Webhook
from console.server import ConsoleServer

__all__ = ["REMEMBERED_QUESTIONS", "UserData"]

logger = logging.getLogger(__name__)


@dataclass
class BotData:
    """Application-wide state: the core service, opened in post_init."""

    service: Services | None = None
    settings: Settings | None = None
    owns_service: bool = False
    outbox: OutboxWorker | None = None  # started and stopped by handlers.delivery
    backoff: Backoff = field(default_factory=Backoff)  # between the outbox's retries
    console: ConsoleServer | None = None  # started and stopped by handlers.console
    webhook: Webhook | None = None  # webhook mode: updates arrive on the bot's own server
    leader: JobsLeader | None = None  # whether this replica runs the jobs (handlers.delivery)
    turns: ChatTurns | None = None  # webhook mode: the chats' locks (handlers.webhook)

    @property
    def core(self) -> Services:
        """The open service; raises if the application was not started through post_init."""
        if self.service is None:
            raise RuntimeError("the service is not open: was post_init run?")
        return self.service


@dataclass
class UserData(RecentQuestions):
    """Per-user state: recent questions, numbered so buttons can refer to them, and the
    album last acknowledged."""

    last_album: str | None = None  # the media group whose first item was acknowledged

    def dump(self) -> str:
        """The state as JSON: what replicas keep in the database (handlers.webhook)."""
        return json.dumps(
            {
                "questions": self.questions,
                "forwarded": self.forwarded,
                "last_number": self.last_number,
                "last_album": self.last_album,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    def restore(self, dumped: str | None) -> None:
        """Become the state `dump` gave (None: a user with none kept)."""
        try:
            kept = json.loads(dumped) if dumped else {}
            questions = {int(n): str(q) for n, q in kept.get("questions", {}).items()}
            forwarded = {int(n): int(ref) for n, ref in kept.get("forwarded", {}).items()}
            last_number = int(kept.get("last_number", 0))
            album = kept.get("last_album")
        except (ValueError, TypeError, AttributeError) as exc:  # not what dump writes
            logger.warning("a user's kept state could not be read (%s); starting afresh", exc)
            questions, forwarded, last_number, album = {}, {}, 0, None
        self.questions, self.forwarded, self.last_number = questions, forwarded, last_number
        self.last_album = album if isinstance(album, str) else None


Context: TypeAlias = CallbackContext[ExtBot[Any], UserData, dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData, user_data=UserData)


def asker_for(update: Update) -> Asker:
    """Who sent an update (and which message of theirs it is), as the store records it."""
    user, chat = update.effective_user, update.effective_chat
    message = update.message or update.edited_message  # the person's own, not a button's
    if user is None:
        raise ValueError(f"update {update.update_id} has no sender")
    return Asker(
        user_id=user.id,
        chat_id=chat.id if chat is not None else user.id,
        name=user.full_name,
        username=user.username,
        language=user.language_code,
        message_id=message.message_id if message is not None else None,
    )


def user_state(context: Context) -> UserData:
    """The sender's UserData; every update our handlers take has a sender."""
    if context.user_data is None:
        raise RuntimeError("this update has no user, so no user_data")
    return context.user_data


async def language_of(update: Update, context: Context) -> str:
    """The language to use with the sender: their /language choice, else their client's."""
    user = update.effective_user
    if user is None:
        return ENGLISH
    return await context.bot_data.core.users.language_for(user.id, user.language_code)
