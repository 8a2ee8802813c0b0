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
    return ran


def _run(connection: Connection, what: object) -> None:
    cfg = config()
    cfg.attributes["connection"] = connection
    what(cfg)  # type: ignore[operator]


def _between(before: str | None, after: str) -> list[str]:
    """The revisions after `before` up to `after`, oldest first."""
    scripts = ScriptDirectory.from_config(config())
    revisions = [r.revision for r in scripts.iterate_revisions(after, before or "base")]
    return [r for r in reversed(revisions) if r != before]
