"""The ratings table: "did this answer your question?", asked once per enquiry, and the answer.

A row is written when an enquiry is first resolved (`ask_rating`, inside that transaction), so
a user who does not answer is never asked again. The score can be given once; a comment is
optional and may come in several messages, which are joined.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import case, func, literal, select, update

from bot.storage.database import Database, Transaction, insert_new, parse, stamp
from bot.storage.outbox import OutboxStore
from bot.storage.records import Rating, Render, Source
from bot.storage.rows import read_enquiry
from bot.storage.schema import ratings


class Rated(StrEnum):
    """What became of a rating button press."""

    RECORDED = "recorded"
    ALREADY = "already"  # rated before: the first score stands
    UNKNOWN = "unknown"  # not asked, or not this user's enquiry (a forged button)


async def ask_rating(db: Transaction, ref: int, moment: str) -> bool:
    """Inside the transaction that resolves `ref`: True if the question is asked now, the
    first time; False if it was asked before."""
    return await insert_new(db, ratings, ref=ref, asked_at=moment)


class RatingStore:
    """Users' ratings of resolved enquiries; each answer goes to the staff thread with it."""

    def __init__(self, database: Database, outbox: OutboxStore) -> None:
        self._db = database
        self._outbox = outbox

    async def get(self, ref: int) -> Rating | None:
        """The rating of an enquiry, if it was asked."""
        found = await self._db.one(select(ratings).where(ratings.c.ref == ref))
        if found is None:
            return None
        row = found._mapping
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
            row = (await db.execute(select(ratings.c.score).where(ratings.c.ref == ref))).first()
            if enquiry is None or enquiry.user_id != user_id or row is None:
                return Rated.UNKNOWN
            if row[0] is not None:
                return Rated.ALREADY
            await db.execute(
                update(ratings)
                .where(ratings.c.ref == ref)
                .values(score=score, rated_at=stamp(self._db.clock()))
            )
            await self._outbox.add(db, enquiry, render)
            return Rated.RECORDED

    async def set_prompt(self, ref: int, prompt: Source) -> None:
        """Remember the message that asks for a comment: a reply to it is the comment."""
        async with self._db.write() as db:
            await db.execute(
                update(ratings)
                .where(ratings.c.ref == ref)
                .values(prompt_chat_id=prompt.chat_id, prompt_message_id=prompt.message_id)
            )

    async def ref_for_prompt(self, prompt: Source) -> int | None:
        """The enquiry whose comment prompt is `prompt`, if it is one."""
        ref = await self._db.scalar(
            select(ratings.c.ref).where(
                ratings.c.prompt_chat_id == prompt.chat_id,
                ratings.c.prompt_message_id == prompt.message_id,
            )
        )
        return int(ref) if ref is not None else None

    async def add_comment(self, ref: int, text: str, render: Render | None) -> None:
        """Add to the rating's comment; `render` tells the staff thread."""
        async with self._db.write() as db:
            joined = ratings.c.comment + literal("\n") + literal(text)
            await db.execute(
                update(ratings)
                .where(ratings.c.ref == ref)
                .values(comment=case((ratings.c.comment == "", literal(text)), else_=joined))
            )
            await self._outbox.add(db, await read_enquiry(db, ref), render)

    async def since(self, moment: datetime) -> tuple[dict[int, int], int]:
        """Scores given since `moment` (score -> count), and how many were asked then."""
        rows = await self._db.all(
            select(ratings.c.score, func.count())
            .where(ratings.c.rated_at >= stamp(moment))
            .group_by(ratings.c.score)
        )
        asked = await self._db.scalar(
            select(func.count()).select_from(ratings).where(ratings.c.asked_at >= stamp(moment))
        )
        return {int(r[0]): int(r[1]) for r in rows}, int(asked)
