"""What the storage layer promises on both engines: the outbox's order, migrations (from a
SQLite database made before Alembic too), and `clair-bot db migrate` / `db copy`."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from postgres import PostgresServer
from sqlalchemy import select

from bot.cli import main
from bot.storage import Storage, migrate
from bot.storage.copy import CopyRefused, copy_database
from bot.storage.database import Database
from bot.storage.legacy import SCRIPTS
from bot.storage.lock import AlreadyRunning, ServerLock
from bot.storage.migrate import head
from bot.storage.outbox import Lane
from bot.storage.records import Asker, Draft, Enquiry, Event, Kind, OutboxItem, Render
from bot.storage.replicas import first_time
from bot.storage.schema import TABLES, user_state

STAFF = -1009876543210  # a supergroup's id: more than 32 bits
ANA = Asker(user_id=7_000_000_001, chat_id=7_000_000_001, name="Ana")


def drafts(*items: Draft) -> Render:
    return lambda enquiry: items


async def test_a_read_never_sees_an_older_moment_than_the_last_commit(tmp_path: Path) -> None:
    """Why the fault run of issue 10 sent two staff answers twice: the old storage ran a read
    in two trips to aiosqlite's thread (execute, then fetch), and another read on the same
    connection could run in between, inside the first one's still open statement, so it saw
    the database as it was when that statement began: an outbox message just recorded as
    sent read as still pending. Here a read (A) stops inside its statement, a write commits,
    a second read (B) is asked for, then A goes on: B must see the commit."""
    import threading

    from sqlalchemy import event, text

    database = await Database.open(tmp_path / "snapshots.sqlite3", migrate=False)
    entered, release = threading.Event(), threading.Event()

    def gate(value: int) -> int:  # runs in aiosqlite's thread, inside A's statement
        entered.set()
        release.wait(10)
        return value

    @event.listens_for(database._reader.sync_engine, "connect")
    def _gate(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("gate", 1, gate)

    try:
        async with database.write() as db:
            await db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, state TEXT)"))
            await db.execute(text("INSERT INTO t (state) VALUES ('pending'), ('pending')"))
        read_a = asyncio.ensure_future(database.all(text("SELECT gate(id) FROM t")))
        assert await asyncio.to_thread(entered.wait, 10)
        async with database.write() as db:
            await db.execute(text("UPDATE t SET state = 'sent' WHERE id = 1"))
        read_b = asyncio.ensure_future(database.scalar(text("SELECT state FROM t WHERE id = 1")))
        await asyncio.sleep(0.05)  # B is asked for while A is still inside its statement
        release.set()
        assert [row[0] for row in await read_a] == [1, 2]
        assert await read_b == "sent"
    finally:
        release.set()
        await database.close()


async def test_the_outbox_order_lanes_and_waiting(store_url: str | Path) -> None:
    store = await Storage.open(store_url)
    try:
        user = ANA.chat_id
        first = await store.enquiries.create(
            ANA,
            "q1",
            render=drafts(Draft(Kind.ANNOUNCE, STAFF, "a1")),
        )
        await store.enquiries.add_user_message(
            first.ref,
            ANA,
            "more",
            render=drafts(Draft(Kind.FOLLOW_UP, STAFF, "f1", in_thread=True)),
        )
        await store.enquiries.create(
            Asker(8, 8),
            "q2",
            render=drafts(Draft(Kind.ANNOUNCE, STAFF, "a2")),
        )
        for text in ("r1", "r2"):
            await store.enquiries.add_staff_reply(
                first.ref,
                5,
                "Ken",
                text,
                render=drafts(Draft(Kind.REPLY, user, text)),
            )
        await store.outbox.enqueue([Draft(Kind.NOTICE, STAFF, "notice")])

        def texts(items: list[OutboxItem]) -> list[str]:
            return [i.text for i in items]

        # Announcements and answers first; a follow-up waits for its announcement, a second
        # answer for the first, a message about no enquiry for everything older in its chat.
        assert texts(await store.outbox.due()) == ["a1", "a2", "r1"]
        assert texts(await store.outbox.due(lane=Lane.USERS)) == ["r1"]
        assert texts(await store.outbox.due(lane=Lane.STAFF)) == ["a1", "a2"]
        [a1, a2, r1] = await store.outbox.due()
        await store.outbox.mark_sending(a1.id)
        await store.outbox.mark_sent(a1, 901)
        assert texts(await store.outbox.due(lane=Lane.STAFF)) == ["a2", "f1"]
        [f1] = [i for i in await store.outbox.due() if i.text == "f1"]
        assert (f1.reply_to_message_id, f1.in_thread) == (901, True)
        assert await store.enquiries.ref_for_message(STAFF, 901) == first.ref
        assert await store.outbox.mark_sending(r1.id)  # as the worker does, then a 429
        await store.outbox.mark_retry(r1.id, "429", 60)
        assert texts(await store.outbox.due(lane=Lane.USERS)) == []  # r2 still waits for r1
        due_at = await store.outbox.next_attempt_at(Lane.USERS)
        assert due_at is not None and (due_at - store.clock()).total_seconds() > 55
        for item in (a2, f1):
            await store.outbox.mark_sent(item, 902 + item.id)
        assert texts(await store.outbox.due(lane=Lane.STAFF)) == ["notice"]
        assert await store.outbox.recover() == 0
        assert (await store.enquiries.get(first.ref)).staff_message_id == 901  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_telegram_ids_of_64_bits_and_every_store(store_url: str | Path) -> None:
    store = await Storage.open(store_url)
    try:
        enquiry = await store.enquiries.create(ANA, "question")
        assert (enquiry.user_id, enquiry.chat_id) == (ANA.user_id, ANA.chat_id)
        await store.enquiries.record_thread_messages(enquiry.ref, STAFF, [2**40, 2**40 + 1])
        await store.enquiries.record_thread_messages(enquiry.ref, STAFF, [2**40])  # again
        assert await store.enquiries.ref_for_message(STAFF, 2**40 + 1) == enquiry.ref
        await store.enquiries.change(enquiry.ref, Event.RESOLVE)
        assert await store.ratings.rate(enquiry.ref, ANA.user_id, 5, None) is not None
        await store.ratings.add_comment(enquiry.ref, "thanks", None)
        await store.ratings.add_comment(enquiry.ref, "a lot", None)
        rating = await store.ratings.get(enquiry.ref)
        assert rating is not None and (rating.score, rating.comment) == (5, "thanks\na lot")
        await store.users.set_language(ANA.user_id, "ja")
        await store.users.set_language(ANA.user_id, "en")
        assert await store.users.language_of(ANA.user_id) == "en"
        await store.users.count_answer(date(2026, 11, 1))
        await store.users.flush_answers()
        await store.users.count_answer(date(2026, 11, 1))
        assert await store.users.answers_since(date(2026, 11, 1)) == {date(2026, 11, 1): 2}
        assert await store.enquiries.mark_kb_suggested(enquiry.ref)
        assert not await store.enquiries.mark_kb_suggested(enquiry.ref)
    finally:
        await store.close()


async def test_the_consoles_queue_search_holders_and_unclaimed(store_url: str | Path) -> None:
    store = await Storage.open(store_url)
    try:
        e = store.enquiries
        fees = await e.create(ANA, "Is 100% of the fee refunded?")
        visa = await e.create(Asker(8, 8, "Mei"), "Visa for my FAMILY")
        await e.add_user_message(visa.ref, Asker(8, 8, "Mei"), "a_b is my file name")
        other = await e.create(Asker(9, 9, "Tom"), "100 yen or a-b?")
        merged = await e.create(ANA, "Visa again")
        await e.merge(fees.ref, merged.ref)
        await e.change(visa.ref, Event.CLAIM, 5, staff_name="Kenji")
        await e.change(other.ref, Event.CLAIM, 6, staff_name="Aiko")

        async def refs(**how: object) -> tuple[list[int], int]:
            page, total = await e.open_page(**how)  # type: ignore[arg-type]
            return [x.ref for x in page], total

        assert await refs() == ([fees.ref, visa.ref, other.ref], 3)  # merged left out
        assert await refs(unclaimed=True) == ([fees.ref], 1)
        assert await refs(assignee=5) == ([visa.ref], 1)
        assert await refs(search="family") == ([visa.ref], 1)  # any case, both engines
        assert await refs(search=" mei ") == ([visa.ref], 1)  # the sender's name
        assert await refs(search="_b") == ([visa.ref], 1)  # a message of the thread
        # LIKE's wildcards are taken literally: '%' and '_' match only themselves.
        assert await refs(search="100%") == ([fees.ref], 1)
        assert await refs(search="a_b") == ([visa.ref], 1)
        # The merged enquiry's message ("Visa again") now belongs to the thread of `fees`.
        assert await refs(search="visa", limit=1) == ([fees.ref], 2)
        assert await refs(offset=1, limit=1) == ([visa.ref], 3)
        assert await e.holders() == [(6, "Aiko"), (5, "Kenji")]
        await e.change(other.ref, Event.RESOLVE)
        assert await e.holders() == [(5, "Kenji")]  # resolved enquiries are held by nobody
    finally:
        await store.close()


# ---------------------------------------------------------------------------- migrations
@pytest.mark.parametrize("version", range(1, len(SCRIPTS) + 1))
async def test_a_sqlite_database_from_before_alembic_upgrades_in_place(
    tmp_path: Path, version: int
) -> None:
    old = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(old) as db:  # made as the bot made it then
        for script in SCRIPTS[:version]:
            await db.executescript(script)
        await db.execute(
            "INSERT INTO enquiries (user_id, chat_id, text, state, created_at)"
            " VALUES (1, 1, 'kept', 'new', '2026-01-01T00:00:00.000000+00:00')"
        )
        await db.execute(f"PRAGMA user_version = {version}")
        await db.commit()
    store = await Storage.open(old)
    try:
        assert await store.database.schema_version() == head()
        enquiry = await store.enquiries.get(1)
        assert enquiry is not None and enquiry.text == "kept"
        assert (await store.enquiries.create(ANA, "next")).ref == 2
    finally:
        await store.close()
    fresh = tmp_path / "fresh.sqlite3"
    await (await Storage.open(fresh)).close()
    assert _columns(old) == _columns(fresh)  # the same tables as a new database's


def _columns(path: Path) -> dict[str, list[tuple[str, str, int]]]:
    with sqlite3.connect(path) as db:
        return {
            table.name: [
                (row[1], row[2].replace("BIGINT", "INTEGER"), row[5])  # name, type, key
                for row in db.execute(f"PRAGMA table_info({table.name})")
            ]
            for table in TABLES
        }


async def test_a_new_sqlite_file_is_made_as_alembic_made_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrate, "_made", {})  # the first new file of a process
    by_alembic, again = tmp_path / "alembic.sqlite3", tmp_path / "again.sqlite3"
    await (await Storage.open(by_alembic)).close()
    assert head() in migrate._made
    await (await Storage.open(again)).close()  # made from what the first one recorded
    assert _schema(again) == _schema(by_alembic)
    store = await Storage.open(again)
    try:
        assert await store.database.schema_version() == head()
        assert (await store.enquiries.create(ANA, "first")).ref == 1
    finally:
        await store.close()


def _schema(path: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(path) as db:
        return [
            *db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"),
            *db.execute("SELECT version_num FROM alembic_version"),
        ]


def test_db_migrate_says_what_it_ran(
    tmp_path: Path, store_url: str | Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  url: {store_url}\n")
    assert main(["--config", str(config), "db", "migrate"]) == 0
    out = capsys.readouterr().out
    assert ": ran 0006, " in out and out.endswith(f"; now at revision {head()}\n")
    assert main(["--config", str(config), "db", "migrate"]) == 0
    assert capsys.readouterr().out.endswith(f": up to date, at revision {head()}\n")


# -------------------------------------------------------------------------------- db copy
async def _source(path: Path) -> list[Enquiry]:
    """A SQLite database with a row in every table, and a deleted enquiry's number used."""
    store = await Storage.open(path)
    try:
        made = [
            await store.enquiries.create(
                Asker(n, n, f"User {n}"),
                f"question {n}",
                render=drafts(Draft(Kind.ANNOUNCE, STAFF, f"a{n}")),
            )
            for n in (1, 2, 3)
        ]
        await store.enquiries.add_staff_reply(1, 5, "Ken", "answer")
        await store.enquiries.change(1, Event.RESOLVE)
        await store.enquiries.record_thread_messages(1, STAFF, [77])
        await store.users.add_feedback(1, "jet-overview", True)
        await store.users.set_language(2, "ja")
        await store.users.count_answer(date(2026, 11, 1))
        await store.users.forget(3)  # enquiry 3 is gone; the next one is still #4
        async with store.database.write() as db:
            await first_time(db, 123456789, "2026-11-01T00:00:00.000000+00:00")
            await db.execute(
                user_state.insert().values(
                    user_id=1, state='{"last_number": 1}', updated_at="2026-11-01T00:00:00Z"
                )
            )
        return made
    finally:
        await store.close()


async def _rows(url: str | Path) -> dict[str, list[dict[str, object]]]:
    store = await Storage.open(url)
    try:
        return {
            table.name: [
                dict(r._mapping)
                for r in await store.database.all(
                    select(table).order_by(*table.primary_key.columns)
                )
            ]
            for table in TABLES
        }
    finally:
        await store.close()


async def test_db_copy_keeps_every_row_id_and_sequence(
    tmp_path: Path, store_url: str | Path
) -> None:
    source = tmp_path / "source.sqlite3"
    await _source(source)
    copied = await copy_database(source, store_url)
    assert copied.rows["enquiries"] == 2 and copied.rows["messages"] == 3
    assert all(copied.rows[t.name] >= 1 for t in TABLES), copied.rows
    assert copied.sequences["enquiries"] == 3
    assert "the next enquiry is #4" in copied.summary()
    assert await _rows(store_url) == await _rows(source)
    store = await Storage.open(store_url)
    try:
        assert (await store.enquiries.create(ANA, "after the move")).ref == 4
    finally:
        await store.close()
    with pytest.raises(CopyRefused, match=r"is not empty \(3 enquiries.*--replace"):
        await copy_database(source, store_url)
    again = await copy_database(source, store_url, replace=True)
    assert again.rows == copied.rows
    assert await _rows(store_url) == await _rows(source)


def test_db_copy_on_the_command_line(
    tmp_path: Path, postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.sqlite3"
    sqlite3.connect(source).close()  # an empty file: migrated to an empty database
    target = postgres_server.database().replace("postgres@", "postgres:s3cret@")
    assert main(["db", "copy", str(source), target]) == 0
    out = capsys.readouterr().out
    assert out.startswith("copied 0 enquiries, 0 messages,") and "s3cret" not in out
    assert "postgres:***@127.0.0.1" in out
    missing = tmp_path / "missing.sqlite3"
    assert main(["db", "copy", str(missing), target]) == 1
    assert capsys.readouterr().err == f"clair-bot: {missing}: no such SQLite database\n"
    assert not missing.exists()


async def test_one_bot_per_postgresql_database(postgres_server: PostgresServer) -> None:
    url = postgres_server.database()
    first, second = await Database.open(url), await Database.open(url)
    try:
        held = ServerLock(first)
        await held.acquire()
        with pytest.raises(AlreadyRunning, match="another clair-bot is running on postgresql"):
            await ServerLock(second).acquire()
        await held.release()
        again = ServerLock(second)
        await again.acquire()  # let go with the connection that held it
        await again.release()
    finally:
        await first.close()
        await second.close()
