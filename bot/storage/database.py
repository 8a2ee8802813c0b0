"""The database, on SQLite or PostgreSQL: one writer at a time, and reads that see only commits.

`storage.url` names it: a SQLite file's path (the default), or ``postgresql://...``. Both
go through SQLAlchemy's async Core (drivers aiosqlite and asyncpg), with one set of tables
(`bot.storage.schema`) and one set of queries.

Every write runs inside `write()`, which holds an asyncio lock for the whole transaction, so
concurrent handlers never meet "database is locked" and a read-modify-write in a transaction
is never interleaved with another of this process. On SQLite the one write connection
begins with ``BEGIN IMMEDIATE``, and reads go through read-only connections: in WAL mode they
see only committed transactions. On PostgreSQL each write takes a pooled connection, and
reads (READ COMMITTED) see only commits too. The schema is migrated by Alembic at start-up
(`bot.storage.migrate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Executable, Row, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.storage import driver

log = logging.getLogger(__name__)

T = TypeVar("T")

#: A row of any columns.
AnyRow = Row[*tuple[Any, ...]]

#: The values of a statement's bound parameters (built once, with `bindparam`, the statements
#: a write or a read runs often cost a tenth as much: SQLAlchemy builds and keys a statement
#: made by ``.values(...)`` or ``.where(column == value)`` anew on every call).
Params = Mapping[str, Any] | None

#: What `storage.url` may start with to name a PostgreSQL database.
POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+asyncpg://")


class StorageUnavailable(Exception):
    """The database cannot be opened or written: a full or read-only disk, a file that is not
    a database, a server that cannot be reached. Carries the database and the problem, for
    one line that names both (never a password)."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"cannot use {path}: {problem}")
        self.path = path
        self.problem = problem


def describe(error: BaseException) -> str:
    """A storage error in words, the way an operator would name it."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    text = str(error).strip() or type(error).__name__
    text = text.splitlines()[0] if text else text
    lowered = text.lower()
    if "disk is full" in lowered or "no space" in lowered:
        return f"the disk is full ({text})"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the file or its disk is read-only ({text})"
    return text


def now() -> datetime:
    """The current moment, in UTC (the store's default clock)."""
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """A moment as stored: ISO 8601 in UTC, to the microsecond (sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse(value: str | None) -> datetime | None:
    """A stored moment back, or None."""
    return datetime.fromisoformat(value) if value else None


def is_postgres(target: str | Path) -> bool:
    """Whether `storage.url` names a PostgreSQL database (else it is a SQLite file)."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def engine_url(target: str | Path) -> URL:
    """The SQLAlchemy URL, with its async driver, for a `storage.url`."""
    if is_postgres(target):
        url = make_url(str(target))
        return url.set(drivername="postgresql+asyncpg")
    return URL.create("sqlite+aiosqlite", database=str(target))


def shown(target: str | Path) -> str:
    """A `storage.url` as it may be printed: a file's path, or the URL without its password."""
    if is_postgres(target):
        return make_url(str(target)).render_as_string(hide_password=True)
    return str(target)


def upsert(db: Transaction, table: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` clauses, in the dialect of `db` (both spell it alike)."""
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


async def insert_new(db: Transaction, table: Any, **values: Any) -> bool:
    """Insert a row unless one with its key exists; whether it was inserted."""
    [key, *_] = table.primary_key.columns
    result = await db.execute(
        upsert(db, table).values(**values).on_conflict_do_nothing().returning(key)
    )
    return result.first() is not None


def _unavailable(error: BaseException) -> bool:
    """Whether a write failed because the database cannot take writes (rather than a bug):
    SQLite's full or read-only disk, PostgreSQL's full disk, read-only server or lost link."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        code = str(getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", ""))
        return code.startswith(("08", "53", "57P")) or code == "25006"
    return False


async def settled(operation: Awaitable[T]) -> T:
    """Await a database operation that a cancellation cannot cut in half.

    SQLAlchemy takes a task cancelled in the middle of a statement for a dead connection and
    throws it away (closing an aiosqlite connection that way can wait for ever, and SQLite's
    one write connection must last). So the operation runs to its end in a task of its own;
    the caller is still cancelled, once it has.
    """
    task = asyncio.ensure_future(operation)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await task
        raise


class Transaction:
    """The connection of one write transaction, as the stores use it: each statement runs
    to its end even if the task is cancelled (see `settled`)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.dialect = connection.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> Any:
        """Run a statement (``parameters``: a list of dicts runs it once per dict)."""
        return await settled(self.connection.execute(statement, parameters))

    async def scalar(self, statement: Executable) -> Any:
        """The first column of the first row of a statement's result."""
        return await settled(self.connection.scalar(statement))

    async def run_sync(self, function: Callable[[Connection], T]) -> T:
        """Run synchronous SQLAlchemy code (Alembic) on this connection."""
        return await settled(self.connection.run_sync(function))


class Database:
    """The write side (one transaction at a time) and the read side of one database."""

    def __init__(
        self,
        engine: AsyncEngine,
        reader: AsyncEngine,
        writer: AsyncConnection | None,
        clock: Callable[[], datetime] = now,
        path: Path | str | None = None,
    ) -> None:
        self.path: Path | str = path or Path("(database)")
        self.engine = engine  # the write side's engine
        self._reader = reader
        self._writer = writer  # SQLite: the one write connection, held open
        # SQLite: one read connection held open too, for plain reads one at a time, in the
        # order they come (a read through the pool cost twice as much: check-out, check-in
        # and the rollback on the way back); snapshots take a second, pooled connection.
        self._held: AsyncConnection | None = None
        self._held_lock = asyncio.Lock()
        self._lock = asyncio.Lock()
        self._after_commit: list[Callable[[], None]] = []
        self.clock = clock
        self._failing = False  # writes are failing: said once in the log, until they work
        self._opened = False  # failures while opening are the caller's to report
        self._reads: set[asyncio.Task[Sequence[AnyRow]]] = set()  # reads under way

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @classmethod
    async def open(
        cls, target: str | Path, clock: Callable[[], datetime] = now, migrate: bool = True
    ) -> Database:
        """Open (creating if needed) the database and bring its schema up to date.

        Raises StorageUnavailable, naming the database and the problem, when it cannot be
        opened or written; nothing is left open then (aiosqlite's threads would keep the
        process alive)."""
        name = shown(target)
        engines: list[AsyncEngine] = []
        database: Database | None = None
        try:
            if is_postgres(target):
                engine = create_async_engine(engine_url(target), pool_pre_ping=True)
                engines.append(engine)
                database = cls(engine, engine, None, clock, name)
                async with engine.connect():  # reach the server now, not at the first write
                    pass
            else:
                path = Path(target)
                path.parent.mkdir(parents=True, exist_ok=True)
                engine = _sqlite_engine(path, writer=True)
                engines.append(engine)
                reader = _sqlite_engine(path, writer=False)
                engines.append(reader)
                writer = await engine.connect()
                database = cls(engine, reader, writer, clock, path)
            if migrate:
                from bot.storage.migrate import upgrade  # Alembic loads only when needed

                await upgrade(database)
        except (SQLAlchemyError, sqlite3.Error, OSError, StorageUnavailable) as exc:
            if database is not None and database._writer is not None:
                with contextlib.suppress(Exception):
                    await database._writer.close()
            for engine in reversed(engines):
                with contextlib.suppress(Exception):
                    await engine.dispose()
            if isinstance(exc, StorageUnavailable):
                raise
            raise StorageUnavailable(name, describe(exc)) from exc
        database._opened = True  # from now on a failed write is logged (once)
        return database

    async def close(self) -> None:
        """Close every connection."""
        # A read whose caller was cancelled runs on to its end (`settled`); disposing of the
        # pool under it would leave its connection to the garbage collector (SQLAlchemy's
        # "non-checked-in connection" warning, aiosqlite's unclosed thread).
        if self._reads:
            await asyncio.wait(set(self._reads))
        if self._held is not None:
            await self._held.close()
        if self._writer is not None:
            await self._writer.close()
        await self._reader.dispose()
        await self.engine.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Transaction]:
        """One write transaction at a time, committed on success, rolled back on error.

        A database that cannot take writes (a full or read-only disk, a server gone) comes
        out as StorageUnavailable; the first of a run of them is logged, once.
        """
        async with self._lock:
            async with self._connection() as connection:
                try:
                    await settled(connection.begin())
                except SQLAlchemyError as exc:
                    raise self._failed(exc) if _unavailable(exc) else exc from exc
                try:
                    yield Transaction(connection)
                    await settled(connection.commit())
                except BaseException as exc:
                    self._after_commit.clear()
                    with contextlib.suppress(SQLAlchemyError):  # it may have rolled back itself
                        await settled(connection.rollback())
                    if isinstance(exc, SQLAlchemyError) and _unavailable(exc):
                        raise self._failed(exc) from exc
                    raise
            callbacks, self._after_commit = self._after_commit, []
            if self._failing:
                self._failing = False
                log.warning("the database %s takes writes again", self.path)
        for callback in callbacks:
            callback()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        if self._writer is not None:
            yield self._writer
            return
        try:
            connection = await settled(self.engine.connect())
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc
        try:
            yield connection
        finally:
            await settled(connection.close())

    async def sqlite_driver_connection(self) -> Any:
        """SQLite: the write connection's own aiosqlite connection, under SQLAlchemy (tests
        and the fault run make it refuse writes, as a full disk does, with
        ``PRAGMA query_only``)."""
        assert self._writer is not None, "only SQLite has one write connection"
        return (await self._writer.get_raw_connection()).driver_connection

    def _failed(self, error: BaseException) -> StorageUnavailable:
        problem = describe(error)
        if self._opened and not self._failing:
            self._failing = True
            log.error("cannot write to the database %s: %s", self.path, problem)
        return StorageUnavailable(self.path, problem)

    @property
    def failing(self) -> bool:
        """Whether the last write failed (and none has worked since)."""
        return self._failing

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Inside `write()`: call `callback` once the transaction is committed (not if it
        is rolled back), when readers can see what it wrote."""
        self._after_commit.append(callback)

    async def one(self, statement: Executable, parameters: Params = None) -> AnyRow | None:
        """The first row of a read, from committed data only."""
        rows = await self._settled_read(statement, parameters, first=True)
        return rows[0] if rows else None

    async def all(self, statement: Executable, parameters: Params = None) -> Sequence[AnyRow]:
        """Every row of a read, from committed data only."""
        return await self._settled_read(statement, parameters)

    async def _settled_read(
        self, statement: Executable, parameters: Params, first: bool = False
    ) -> Sequence[AnyRow]:
        """A read that a cancellation cannot cut in half, known to `close` until it ends."""
        task = asyncio.ensure_future(self._read(statement, parameters, first))
        self._reads.add(task)
        task.add_done_callback(self._reads.discard)
        return await settled(task)

    async def _read(
        self, statement: Executable, parameters: Params, first: bool = False
    ) -> Sequence[AnyRow]:
        if self._writer is None:  # PostgreSQL: a pooled connection, its transaction ended
            async with self._reader.connect() as connection:
                return _rows(await connection.execute(statement, parameters), first)
        # SQLite: the read connection is in autocommit (SQLAlchemy begins nothing on it), so
        # each statement sees what is committed when it runs, with no rollback after it.
        async with self._held_lock:
            if self._held is None:
                self._held = await self._reader.connect()
            try:
                return _rows(await self._held.execute(statement, parameters), first)
            except BaseException:
                await self._held.rollback()  # a failed statement leaves nothing half done
                raise

    async def scalar(self, statement: Executable, parameters: Params = None) -> Any:
        """The first column of the first row of a read (None without one)."""
        row = await self.one(statement, parameters)
        return row[0] if row is not None else None

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """One read transaction: every read through it sees the same moment, whatever is
        committed meanwhile (SQLite's WAL snapshot, PostgreSQL's REPEATABLE READ)."""
        async with self._reader.connect() as connection:
            if self.dialect == "sqlite":
                await connection.exec_driver_sql("BEGIN")  # ended by the rollback on the way out
            else:
                await connection.execution_options(isolation_level="REPEATABLE READ")
            yield connection

    async def schema_version(self) -> str | None:
        """The Alembic revision the database is at (None before any)."""
        async with self._reader.connect() as connection:
            exists = await connection.run_sync(
                lambda sync: sync.dialect.has_table(sync, "alembic_version")
            )
            if not exists:
                return None
            return (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()


def _rows(result: Any, first: bool) -> Sequence[AnyRow]:
    if first:
        row = result.first()
        return [row] if row is not None else []
    return list(result.all())


def _sqlite_engine(path: Path, *, writer: bool) -> AsyncEngine:
    """The write engine (foreign keys on, transactions begun IMMEDIATE) or the read engine
    (query_only) of a SQLite file in WAL mode."""
    # One connection for writes; for reads one held by `Database` and one for snapshots.
    engine = create_async_engine(
        engine_url(path), module=driver.module(), pool_size=1 if writer else 2, max_overflow=0
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, begins
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=5000")
        if writer:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        else:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    if writer:

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
