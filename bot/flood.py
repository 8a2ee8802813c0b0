"""Flood protection: how many updates a user may send in a minute, with `limits`.

A moving window in memory, per user: over the limit, the first update is answered with one
polite "too fast" and the rest are dropped until the window has room again. The storage
forgets a user once their window is empty, so it does not grow with every user ever seen.
"""

from __future__ import annotations

from enum import Enum

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


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

    async def check(self, user_id: int) -> Verdict:
        """Count one update from `user_id` and say what to do with it."""
        if await self._limiter.hit(self._updates, "update", str(user_id)):
            return Verdict.ALLOW
        if await self._limiter.hit(self._warnings, "warned", str(user_id)):
            return Verdict.WARN
        return Verdict.DROP

    def tracked(self) -> int:
        """How many windows are in memory (they go once their entries expire)."""
        return len(self.storage.events)
