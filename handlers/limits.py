"""Telegram's limits on what the bot sends, for one bot or for all replicas together.

Alone (SQLite, or before the database is open) python-telegram-bot's AIORateLimiter keeps
the bot within telegram.max_messages_per_second and telegram.group_messages_per_minute. On
PostgreSQL, where several replicas send for one bot, every call that names a chat first
reserves a send slot in the database (bot.storage.replicas.SharedLimits): for a group,
first one of the group's, waited for; then one of the bot's. A group's slots are 60 /
group_messages_per_minute seconds apart and the bot's 1 / max_messages_per_second, for all
replicas together. A send goes at its slot or a little after (a busy event loop wakes
late). While the database does not answer, each replica falls back to its own
AIORateLimiter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter, BaseRateLimiter

from bot.config import TelegramSettings
from bot.storage.database import StorageUnavailable
from bot.storage.replicas import SharedLimits

logger = logging.getLogger(__name__)

#: Slots a little further apart than the limits: the replicas' clocks and the time from a
#: reservation to its send differ by milliseconds.
MARGIN = 1.01

Result = bool | JSONDict | list[JSONDict]


class SharedRateLimiter(BaseRateLimiter[int]):
    """The bot's rate limiter: the shared slots once `limits` is set (PostgreSQL), else
    python-telegram-bot's AIORateLimiter (`local`)."""

    def __init__(self, local: AIORateLimiter, telegram: TelegramSettings) -> None:
        self.local = local
        self.telegram = telegram
        self.limits: SharedLimits | None = None

    async def initialize(self) -> None:
        """Start the local limiter."""
        await self.local.initialize()

    async def shutdown(self) -> None:
        """Stop the local limiter."""
        await self.local.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Wait for the call's slots, its group's and then the bot's, then make it.

        One after the other, not one moment for both: a group's slots are seconds apart, and
        a bot's slot taken at a group's moment would hold every later send of the bot (to
        users too) behind the group's queue."""
        chat_id = data.get("chat_id")
        if self.limits is None or chat_id is None:
            return await self.local.process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        buckets: list[tuple[str, float]] = []
        if (per_minute := self.telegram.group_messages_per_minute) and _is_group(chat_id):
            buckets.append((f"group {chat_id}", 60 / per_minute * MARGIN))
        if per_second := self.telegram.max_messages_per_second:
            buckets.append(("bot", 1 / per_second * MARGIN))
        for key, interval in buckets:
            try:
                wait = await self.limits.wait_for_slot({key: interval})
            except StorageUnavailable as exc:
                logger.warning(
                    "rate limits: the database does not answer (%s); alone", exc.problem
                )
                return await self.local.process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            if wait > 0:
                await asyncio.sleep(wait)
        return await callback(*args, **kwargs)


def _is_group(chat_id: Any) -> bool:
    """Whether a chat_id names a group or channel (negative, or an @username)."""
    if isinstance(chat_id, str) and not chat_id.lstrip("-").isdigit():
        return True
    try:
        return int(chat_id) < 0
    except (TypeError, ValueError):
        return False
