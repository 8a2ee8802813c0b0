"""The ratings table: "did this answer your question?", asked once per enquiry, and the answer.

A row is written when an enquiry is first resolved (`ask_rating`, inside that transaction), so
a user who does not answer is never asked again. The score can be given once; a comment is
optional and may come in several messages, which are joined.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import aiosqlite

from bot.storage.database import Database, parse, stamp
from bot.storage.outbox import OutboxStore
from bot.storage.records import Rating, Render, Source
from bot.storage.rows import read_enquiry


class Rated(StrEnum):
    """What became of a rating button press."""

    RECORDED = "recorded"
    ALREADY = "already"  # rated before: the first score stands
    UNKNOWN = "unknown"  # not asked, or not this user's enquiry (a forged button)


async def ask_rating(db: aiosqlite.Connection, ref: int, moment: str) -> bool:
    """Inside the transaction that resolves `ref`: True if the question is asked now, the
    first time; False if it was asked before."""
    cursor = await db.execute(
        "INSERT OR IGNORE INTO ratings (ref, asked_at) VALUES (?, ?)", (ref, moment)
    )
    return cursor.rowcount == 1


class RatingStore:
    """Users' ratings of resolved enquiries; each answer goes to the staff thread with it."""

    def __init__(self, database: Database, outbox: OutboxStore) -> None:
        self._db = database
        self._outbox = outbox

    async def get(self, ref: int) -> Rating | None:
        """The rating of an enquiry, if it was asked."""
        row = await self._db.one("SELECT * FROM ratings WHERE ref = ?", (ref,))
        if row is None:
            return None
        return Rating(
            ref=row["ref"],
            asked_at=parse(row["asked_at"]) or datetime.min,
            score=row["score"],
            comment=row["comment"],
            rated_at=parse(row["rated_at"]),
        )

    async def rate(self, ref: int, user_id: int, score: int, render: Render | None) -> Rated:
        """Record a score from the enquiry's own user, once; `render` tells the staff thread."""
        async with self._db.write() as db:
            enquiry = await read_enquiry(db, ref)
            async with db.execute("SELECT score FROM ratings WHERE ref = ?", (ref,)) as cursor:
                row = await cursor.fetchone()
            if enquiry is None or enquiry.user_id != user_id or row is None:
                return Rated.UNKNOWN
            if row[0] is not None:
                return Rated.ALREADY
            await db.execute(
                "UPDATE ratings SET score = ?, rated_at = ? WHERE ref = ?",
                (score, stamp(self._db.clock()), ref),
            )
            await self._outbox.add(db, enquiry, render)
            return Rated.RECORDED

    async def set_prompt(self, ref: int, prompt: Source) -> None:
        """Remember the message that asks for a comment: a reply to it is the comment."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE ratings SET prompt_chat_id = ?, prompt_message_id = ? WHERE ref = ?",
                (prompt.chat_id, prompt.message_id, ref),
            )

    async def ref_for_prompt(self, prompt: Source) -> int | None:
        """The enquiry whose comment prompt is `prompt`, if it is one."""
        row = await self._db.one(
            "SELECT ref FROM ratings WHERE prompt_chat_id = ? AND prompt_message_id = ?",
            (prompt.chat_id, prompt.message_id),
        )
        return int(row[0]) if row else None

    async def add_comment(self, ref: int, text: str, render: Render | None) -> None:
        """Add to the rating's comment; `render` tells the staff thread."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE ratings SET comment = CASE WHEN comment = '' THEN ?"
                " ELSE comment || char(10) || ? END WHERE ref = ?",
                (text, text, ref),
            )
            await self._outbox.add(db, await read_enquiry(db, ref), render)

    async def since(self, moment: datetime) -> tuple[dict[int, int], int]:
        """Scores given since `moment` (score -> count), and how many were asked then."""
        rows = await self._db.all(
            "SELECT score, COUNT(*) FROM ratings WHERE rated_at >= ? GROUP BY score",
            (stamp(moment),),
        )
        asked = await self._db.one(
            "SELECT COUNT(*) FROM ratings WHERE asked_at >= ?", (stamp(moment),)
        )
        return {int(r[0]): int(r[1]) for r in rows}, int(asked[0])
