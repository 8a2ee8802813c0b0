"""Storage on SQLite or PostgreSQL: the database, and one repository per concern over it.

`Storage.open` opens the database (migrating it) and hands out the enquiries (with their
threads), the outbox, the users' own data and the ratings; each module holds its own
queries, in SQLAlchemy's Core over the tables of `bot.storage.schema`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.storage.database import Database, now
from bot.storage.enquiries import EnquiryStore
from bot.storage.outbox import OutboxStore
from bot.storage.ratings import RatingStore
from bot.storage.users import UserStore


@dataclass(frozen=True)
class Storage:
    """The open database and its repositories."""

    database: Database
    enquiries: EnquiryStore
    outbox: OutboxStore
    users: UserStore
    ratings: RatingStore

    @classmethod
    async def open(cls, url: str | Path, clock: Callable[[], datetime] = now) -> Storage:
        """Open (creating and migrating if needed) the database `url` names: a SQLite file's
        path, or ``postgresql://...``."""
        database = await Database.open(url, clock)
        outbox = OutboxStore(database)
        enquiries = EnquiryStore(database, outbox)
        ratings = RatingStore(database, outbox)
        return cls(database, enquiries, outbox, UserStore(database), ratings)

    @property
    def clock(self) -> Callable[[], datetime]:
        """What the store takes as "now" (settable in tests)."""
        return self.database.clock

    async def close(self) -> None:
        """Write what is kept in memory, then close the database."""
        await self.users.close()
        await self.database.close()
