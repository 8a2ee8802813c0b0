"""Flood protection: how many updates a user may send in a minute, with `limits`.

A moving window in memory, per user: over the limit, the first update is answered with one
polite "too fast" and the rest are dropped until the window has room again. The storage
forgets a user once their window is empty, so it does not grow with every user ever seen.
Replicas on one PostgreSQL database count together instead (a `SharedWindow`,
bot.storage.replicas), each alone again while the database does not answer.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Protocol

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from bot.storage.database import StorageUnavailable

log = logging.getLogger(__name__)


class SharedWindow(Protocol):
    """Moving windows that several processes count in together."""

    async def hit(self, key: str, limit: int, window_s: float) -> bool:
        """Count a hit of `key` if it had fewer than `limit` in the last `window_s` s."""
        ...


class Verdict(Enum):
    """What to do with a user's update."""

    ALLOW = "allow"  # within the limit: handle it
    WARN = "warn"  # just over the limit: say "too fast" once, handle nothing
    DROP = "drop"  # still over: handle nothing, say nothing


class FloodGuard:
    """At most `limit` updates per user in any `window_s` seconds."""

    def __init__(self, limit: int, window_s: int = 60) -> None:
        self.storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self.storage)
        self._updates = RateLimitItemPerSecond(limit, window_s)
        self._warnings = RateLimitItemPerSecond(1, window_s)  # one "too fast" per window
        self.shared: SharedWindow | None = None  # replicas: set at start-up on PostgreSQL
        self._alone = False  # the shared window failed: counting in memory meanwhile

    async def check(self, user_id: int) -> Verdict:
        """Count one update from `user_id` and say what to do with it."""
        if self.shared is not None:
            try:
                verdict = await self._check_shared(self.shared, user_id)
            except StorageUnavailable as exc:
                if not self._alone:  # said once, until the database answers again
                    log.warning(
                        "flood limit: the database does not answer (%s); counting alone",
                        exc.problem,
                    )
                self._alone = True
            else:
                self._alone = False
                return verdict
        if await self._limiter.hit(self._updates, "update", str(user_id)):
            return Verdict.ALLOW
        if await self._limiter.hit(self._warnings, "warned", str(user_id)):
            return Verdict.WARN
        return Verdict.DROP

    async def _check_shared(self, shared: SharedWindow, user_id: int) -> Verdict:
        window_s = self._updates.get_expiry()
        if await shared.hit(f"update:{user_id}", self._updates.amount, window_s):
            return Verdict.ALLOW
        if await shared.hit(f"warned:{user_id}", 1, window_s):
            return Verdict.WARN
        return Verdict.DROP

    def tracked(self) -> int:
        """How many windows are in memory (they go once their entries expire)."""
        return len(self.storage.events)
