"""Typed shared state of the Telegram layer: what bot_data and user_data hold.

Handed to ``ContextTypes(bot_data=BotData, user_data=UserData)`` so handlers read
``context.bot_data.core`` instead of string keys and casts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

from telegram import Update
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.config import Settings
from bot.language import ENGLISH
from bot.outbox import Backoff, OutboxWorker
from bot.service import Services
from bot.storage.records import Asker

#: How many recent questions per user the "Ask staff" and "did you mean" buttons can refer to.
REMEMBERED_QUESTIONS = 20


@dataclass
class BotData:
    """Application-wide state: the core service, opened in post_init."""

    service: Services | None = None
    settings: Settings | None = None
    owns_service: bool = False
    outbox: OutboxWorker | None = None  # started and stopped by handlers.delivery
    backoff: Backoff = field(default_factory=Backoff)  # between the outbox's retries

    @property
    def core(self) -> Services:
        """The open service; raises if the application was not started through post_init."""
        if self.service is None:
            raise RuntimeError("the service is not open: was post_init run?")
        return self.service


@dataclass
class UserData:
    """Per-user state: recent questions, numbered so buttons can refer to them."""

    questions: dict[int, str] = field(default_factory=dict)
    forwarded: dict[int, int] = field(default_factory=dict)  # question number -> enquiry ref
    last_number: int = 0
    last_album: str | None = None  # the media group whose first item was acknowledged

    def remember(self, question: str) -> int:
        """Keep a question and return its number (for callback data)."""
        self.last_number += 1
        self.questions[self.last_number] = question
        for old in [n for n in self.questions if n <= self.last_number - REMEMBERED_QUESTIONS]:
            del self.questions[old]
            self.forwarded.pop(old, None)
        return self.last_number

    def question(self, number: int) -> str | None:
        """A remembered question, or None when it is unknown or too old."""
        return self.questions.get(number)

    def clear(self) -> None:
        """Forget every remembered question (after /forget)."""
        self.questions.clear()
        self.forwarded.clear()


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
