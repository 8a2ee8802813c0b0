"""Bringing a database's schema up to date with Alembic, at start-up and by `clair-bot db migrate`.

The migration scripts live in `bot/storage/migrations/versions`, numbered on from the
SQLite user_version they replace: revision 0006 is the schema that `PRAGMA user_version = 6`
meant. A SQLite database made before Alembic (user_version 1 to 6, no ``alembic_version``
table) first runs the old scripts it lacks (`bot.storage.legacy`), is stamped 0006, and
carries on with Alembic, in place. On PostgreSQL an advisory lock lets one process migrate
while others starting at the same moment wait.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from bot.storage import legacy

if TYPE_CHECKING:
    from bot.storage.database import Database

log = logging.getLogger(__name__)
# Alembic says "Context impl SQLiteImpl." on every run; what ran is logged here, once.
logging.getLogger("alembic").setLevel(logging.WARNING)

SCRIPTS = Path(__file__).resolve().parent / "migrations"
#: The revision that stands for the last SQLite user_version (6).
BASELINE = "0006"
#: The key of the lock taken while migrating: two 32-bit numbers, the same in every process
#: (see bot.storage.lock.INSTANCE_LOCK_KEY).
_MIGRATION_LOCK = (0x636C6169, 2)  # "clai", 2: migrations


def config() -> Config:
    """Alembic's configuration for the package's scripts (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    return cfg


@cache
def head() -> str:
    """The newest revision."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return revision


async def upgrade(database: Database) -> list[str]:
    """Bring `database` to the newest revision, in one transaction; returns what ran ("legacy
    N" for an old SQLite script, then Alembic's revisions), empty when it was up to date."""
    async with database.write() as connection:
        ran = await connection.run_sync(_upgrade)
    if ran:
        log.info("database %s: migrated (%s)", database.path, ", ".join(ran))
    return ran


def _upgrade(connection: Connection) -> list[str]:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": _MIGRATION_LOCK[0], "key": _MIGRATION_LOCK[1]},
        )
    current = MigrationContext.configure(connection).get_current_revision()
    ran: list[str] = []
    fresh = connection.dialect.name == "sqlite" and _empty(connection)
    if fresh and head() in _made:
        statements, revisions = _made[head()]
        for statement in statements:  # a new file: what the scripts made on the last one
            connection.exec_driver_sql(statement)
        return list(revisions)
    if current is None and connection.dialect.name == "sqlite":
        version = int(connection.exec_driver_sql("PRAGMA user_version").scalar() or 0)
        if version:  # made before Alembic: finish the old way, then hand over
            for number, script in enumerate(legacy.SCRIPTS[version:], start=version + 1):
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        connection.exec_driver_sql(statement)
                connection.exec_driver_sql(f"PRAGMA user_version = {number}")
                ran.append(f"legacy {number}")
            current = BASELINE
            _run(connection, lambda cfg: command.stamp(cfg, BASELINE))
    if current != head():
        before = current
        _run(connection, lambda cfg: command.upgrade(cfg, "head"))
        ran += _between(before, head())
    if fresh:
        _made[head()] = (_schema(connection), tuple(ran))
    return ran


#: The schema Alembic's scripts made on a new SQLite file, by revision, to make the next new
#: file of the process the same way: loading Alembic and running its scripts cost 40 ms or
#: more per file, most of a test's database set-up (the statements are SQLite's own record
#: of what the scripts made, so the two cannot differ).
_made: dict[str, tuple[list[str], tuple[str, ...]]] = {}


def _empty(connection: Connection) -> bool:
    """Whether a SQLite file has no tables at all (is new)."""
    return not connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()


def _schema(connection: Connection) -> list[str]:
    """The statements that make a SQLite file's tables, indexes and rows of alembic_version
    again (SQLite makes its own sqlite_ tables and automatic indexes)."""
    made = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
        " ORDER BY rowid"
    )
    statements = [str(sql) for (sql,) in made]
    versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
    statements += [
        f"INSERT INTO alembic_version (version_num) VALUES ('{version}')"
        for (version,) in versions
    ]
    return statements


def _run(connection: Connection, what: object) -> None:
    cfg = config()
    cfg.attributes["connection"] = connection
    what(cfg)  # type: ignore[operator]


def _between(before: str | None, after: str) -> list[str]:
    """The revisions after `before` up to `after`, oldest first."""
    scripts = ScriptDirectory.from_config(config())
    revisions = [r.revision for r in scripts.iterate_revisions(after, before or "base")]
    return [r for r in reversed(revisions) if r != before]
