"""`clair-bot db copy`: every row of a SQLite database into another database (PostgreSQL, to
move a deployment over), ids and sequences kept.

Both databases are first brought to the newest schema. The source is read in one read
transaction, so the copy is one moment of it even while a bot still writes there; the
target is written in one transaction, so a failed copy leaves it as it was. A target that
holds anything is refused unless `replace` says to empty it first. Each table's sequence
ends where the source's ended (SQLite's AUTOINCREMENT remembers numbers of deleted rows
too), so the next enquiry gets the number it would have had.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.database import Database, Transaction, shown
from bot.storage.schema import TABLES

#: Rows per INSERT.
BATCH = 1000


class CopyRefused(Exception):
    """The copy would mix two databases (the target is not empty), or has nothing to copy."""


@dataclass(frozen=True)
class Copied:
    """What a copy did: rows per table, in the order copied, and where each id sequence ends."""

    source: str
    target: str
    rows: dict[str, int]
    sequences: dict[str, int]

    def summary(self) -> str:
        """One line for people."""
        counts = ", ".join(f"{n} {table}" for table, n in self.rows.items())
        line = f"copied {counts} from {self.source} to {self.target}"
        if self.sequences.get("enquiries"):
            line += f"; the next enquiry is #{self.sequences['enquiries'] + 1}"
        return line


async def copy_database(source: Path, target: str | Path, replace: bool = False) -> Copied:
    """Copy every table of the SQLite database `source` into `target` (a storage URL).

    Raises CopyRefused when `source` does not exist or `target` holds rows (and `replace`
    is not set), StorageUnavailable when either cannot be opened or written."""
    if not await asyncio.to_thread(source.is_file):
        raise CopyRefused(f"{source}: no such SQLite database")
    if str(source) == str(target):
        raise CopyRefused("the source and the target are the same database")
    origin = await Database.open(source)
    try:
        destination = await Database.open(target)
        try:
            return await _copy(origin, destination, replace)
        finally:
            await destination.close()
    finally:
        await origin.close()


async def _copy(origin: Database, destination: Database, replace: bool) -> Copied:
    async with destination.write() as writer:
        held = {t.name: await _count(writer, t) for t in TABLES}
        if any(held.values()) and not replace:
            what = ", ".join(f"{n} {name}" for name, n in held.items() if n)
            raise CopyRefused(
                f"{shown(destination.path)} is not empty ({what}); "
                "copy into an empty database, or add --replace to empty it first"
            )
        for table in reversed(TABLES):  # children first
            await writer.execute(delete(table))
        async with origin.snapshot() as reader:
            rows: dict[str, int] = {}
            for table in TABLES:
                rows[table.name] = await _copy_table(reader, writer, table)
            ends = await _sqlite_sequences(reader)
        sequences: dict[str, int] = {}
        for table in TABLES:
            column = _serial(table)
            if column is None:
                continue
            biggest = await writer.scalar(select(func.coalesce(func.max(table.c[column]), 0)))
            sequences[table.name] = max(int(biggest or 0), ends.get(table.name, 0))
            await _set_sequence(writer, table, column, sequences[table.name])
    return Copied(str(origin.path), shown(destination.path), rows, sequences)


async def _count(db: Transaction, table: Table) -> int:
    return int(await db.scalar(select(func.count()).select_from(table)) or 0)


async def _copy_table(reader: AsyncConnection, writer: Transaction, table: Table) -> int:
    result = await reader.stream(select(table).order_by(*table.primary_key.columns))
    copied = 0
    async for batch in result.partitions(BATCH):
        await writer.execute(insert(table), [dict(row._mapping) for row in batch])
        copied += len(batch)
    return copied


def _serial(table: Table) -> str | None:
    """The table's own numbering column, if it has one."""
    [column, *more] = table.primary_key.columns
    if more or column.autoincrement is not True:
        return None
    return column.name


async def _sqlite_sequences(reader: AsyncConnection) -> dict[str, int]:
    """Where SQLite's AUTOINCREMENT left each table (deleted rows' numbers included)."""
    found = await reader.execute(text("SELECT name, seq FROM sqlite_sequence"))
    return {str(name): int(seq) for name, seq in found}


async def _set_sequence(db: Transaction, table: Table, column: str, last: int) -> None:
    """Make the next row of `table` get `last + 1`."""
    if db.dialect.name == "postgresql":
        sequence = select(func.pg_get_serial_sequence(table.name, column)).scalar_subquery()
        if last:
            await db.execute(select(func.setval(sequence, last, True)))
        else:
            await db.execute(select(func.setval(sequence, 1, False)))
        return
    await db.execute(text("DELETE FROM sqlite_sequence WHERE name = :name"), {"name": table.name})
    if last:
        await db.execute(
            text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"),
            {"name": table.name, "seq": last},
        )
