"""What is stored about a user apart from their enquiries: language choice and feedback; and
the daily count of questions the bot answered itself (a number per day, nothing about who).

`forget` deletes everything stored about a user, enquiries included, in one transaction.
"""

from __future__ import annotations

from datetime import date

from bot.storage.database import Database, stamp
from bot.storage.records import ForgetResult


class UserStore:
    """Users' language choices, answer ratings, and deleting a user's data."""

    def __init__(self, database: Database) -> None:
        self._db = database

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
        """One more question the bot answered itself on `day` (a count: nothing about who)."""
        async with self._db.write() as db:
            await db.execute(
                "INSERT INTO bot_answers (day, answered) VALUES (?, 1)"
                " ON CONFLICT (day) DO UPDATE SET answered = answered + 1",
                (day.isoformat(),),
            )

    async def answers_since(self, day: date) -> dict[date, int]:
        """Questions the bot answered itself, per day, from `day` on."""
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
