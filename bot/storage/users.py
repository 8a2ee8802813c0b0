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

from sqlalchemy import delete, func, insert, select

from bot.storage.database import Database, stamp, upsert
from bot.storage.records import ForgetResult
from bot.storage.schema import bot_answers, enquiries, feedback, messages, users

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
        language = await self._db.scalar(
            select(users.c.language).where(users.c.user_id == user_id)
        )
        return str(language) if language is not None else None

    async def set_language(self, user_id: int, language: str) -> None:
        """Remember a user's language."""
        async with self._db.write() as db:
            row = upsert(db, users).values(
                user_id=user_id, language=language, updated_at=stamp(self._db.clock())
            )
            await db.execute(
                row.on_conflict_do_update(
                    index_elements=[users.c.user_id],
                    set_={
                        "language": row.excluded.language,
                        "updated_at": row.excluded.updated_at,
                    },
                )
            )

    async def add_feedback(self, user_id: int, entry_id: str, helpful: bool) -> None:
        """Record a 👍 or 👎 on an answer."""
        async with self._db.write() as db:
            await db.execute(
                insert(feedback).values(
                    user_id=user_id,
                    entry_id=entry_id,
                    helpful=int(helpful),
                    created_at=stamp(self._db.clock()),
                )
            )

    async def feedback_counts(self, entry_id: str) -> tuple[int, int]:
        """(helpful, not helpful) votes for an entry."""
        row = await self._db.one(
            select(
                func.coalesce(func.sum(feedback.c.helpful), 0),
                func.coalesce(func.sum(1 - feedback.c.helpful), 0),
            ).where(feedback.c.entry_id == entry_id)
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
            for day, count in counted.items():
                row = upsert(db, bot_answers).values(day=day.isoformat(), answered=count)
                await db.execute(
                    row.on_conflict_do_update(
                        index_elements=[bot_answers.c.day],
                        set_={"answered": bot_answers.c.answered + row.excluded.answered},
                    )
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
            select(bot_answers.c.day, bot_answers.c.answered).where(
                bot_answers.c.day >= day.isoformat()
            )
        )
        return {date.fromisoformat(r[0]): int(r[1]) for r in rows}

    async def forget(self, user_id: int) -> ForgetResult:
        """Delete everything stored about a user: enquiries, messages, feedback, language."""
        async with self._db.write() as db:
            theirs = select(enquiries.c.ref).where(enquiries.c.user_id == user_id)
            removed = await db.execute(delete(messages).where(messages.c.ref.in_(theirs)))
            message_count = removed.rowcount
            removed = await db.execute(delete(enquiries).where(enquiries.c.user_id == user_id))
            enquiry_count = removed.rowcount
            removed = await db.execute(delete(feedback).where(feedback.c.user_id == user_id))
            feedback_count = removed.rowcount
            await db.execute(delete(users).where(users.c.user_id == user_id))
        return ForgetResult(enquiry_count, message_count, feedback_count)
