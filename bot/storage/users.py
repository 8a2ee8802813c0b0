"""What is stored about a user apart from their enquiries: language choice and feedback; and
the daily count of questions the bot answered itself (a number per day, nothing about who).

`forget` deletes everything stored about a user, enquiries included, in one transaction. The
daily count is added up in memory and written within `ANSWERS_FLUSH_S` (and at close, and
before it is read): a commit per answered question would cost several times the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import date

from bot.storage.database import Database, stamp
from bot.storage.records import ForgetResult

#: Seconds within which counted answers reach the database.
ANSWERS_FLUSH_S = 1.0


class UserStore:
    """Users' language choices, answer ratings, and deleting a user's data."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._answers: Counter[date] = Counter()
        self._flush_due: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None

    async def language_of(self, user_id: int) -> str | None:
        """The language a user chose with /language, if any."""
        row = await self._db.one("SELECT language FROM users WHERE user_id = ?", (user_id,))
        return str(row[0]) if row else None

    async def set_language(self, user_id: int, language: str) -> None:
        """Remember a user's language."""
        async with self._db.write() as db:
            await db.execute(
                "INSERT INTO users (user_id, language, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,"
                " updated_at = excluded.updated_at",
                (user_id, language, stamp(self._db.clock())),
            )

    async def add_feedback(self, user_id: int, entry_id: str, helpful: bool) -> None:
        """Record a 👍 or 👎 on an answer."""
        async with self._db.write() as db:
            await db.execute(
                "INSERT INTO feedback (user_id, entry_id, helpful, created_at) VALUES (?,?,?,?)",
                (user_id, entry_id, int(helpful), stamp(self._db.clock())),
            )

    async def feedback_counts(self, entry_id: str) -> tuple[int, int]:
        """(helpful, not helpful) votes for an entry."""
        row = await self._db.one(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0)"
            " FROM feedback WHERE entry_id = ?",
            (entry_id,),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def count_answer(self, day: date) -> None:
        """One more question the bot answered itself on `day` (a count: nothing about who),
        written within ANSWERS_FLUSH_S."""
        self._answers[day] += 1
        if self._flush_due is None:
            self._flush_due = asyncio.get_running_loop().call_later(
                ANSWERS_FLUSH_S, self._start_flush
            )

    def _start_flush(self) -> None:
        self._flushing = asyncio.ensure_future(self.flush_answers())

    async def flush_answers(self) -> None:
        """Write the answers counted so far (the timer, a reader and close call this)."""
        if self._flush_due is not None:
            self._flush_due.cancel()
            self._flush_due = None
        counted, self._answers = self._answers, Counter()
        if not counted:
            return
        async with self._db.write() as db:
            await db.executemany(
                "INSERT INTO bot_answers (day, answered) VALUES (?, ?)"
                " ON CONFLICT (day) DO UPDATE SET answered = answered + excluded.answered",
                [(day.isoformat(), count) for day, count in counted.items()],
            )

    async def close(self) -> None:
        """Write what is counted before the database closes."""
        if self._flushing is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._flushing
        await self.flush_answers()

    async def answers_since(self, day: date) -> dict[date, int]:
        """Questions the bot answered itself, per day, from `day` on."""
        await self.flush_answers()
        rows = await self._db.all(
            "SELECT day, answered FROM bot_answers WHERE day >= ?", (day.isoformat(),)
        )
        return {date.fromisoformat(r[0]): int(r[1]) for r in rows}

    async def forget(self, user_id: int) -> ForgetResult:
        """Delete everything stored about a user: enquiries, messages, feedback, language."""
        async with self._db.write() as db:
            cursor = await db.execute(
                "DELETE FROM messages WHERE ref IN (SELECT ref FROM enquiries WHERE user_id = ?)",
                (user_id,),
            )
            messages = cursor.rowcount
            cursor = await db.execute("DELETE FROM enquiries WHERE user_id = ?", (user_id,))
            enquiries = cursor.rowcount
            cursor = await db.execute("DELETE FROM feedback WHERE user_id = ?", (user_id,))
            feedback = cursor.rowcount
            await db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
        return ForgetResult(enquiries, messages, feedback)
