"""The store on both engines: a temporary SQLite file, and a database on a throwaway
PostgreSQL server (tests/postgres.py)."""

import asyncio
import contextlib
import gc
import warnings
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.decision import Candidate
from bot.storage import Storage
from bot.storage.migrate import head
from bot.storage.records import Asker, Event, State, next_state

CHOOSE_JAPANESE = "INSERT INTO users (user_id, language, updated_at) VALUES (7, 'ja', '')"
ANA = Asker(user_id=7, chat_id=7, name="Ana Cruz", username="ana", language="en")


async def test_enquiries_get_increasing_references_and_keep_everything(
    store_url: str | Path,
) -> None:
    store = await Storage.open(store_url)
    try:
        first = await store.enquiries.create(
            ANA, "what is the deadline?", (Candidate("lgotp-overview", "LGOTP", 61.5),), "guard"
        )
        second = await store.enquiries.create(ANA, "x" * 5000)
        assert (first.ref, second.ref) == (1, 2)
        assert first.state is State.NEW
        assert first.candidates == (Candidate("lgotp-overview", "LGOTP", 61.5),)
        assert first.username == "ana" and first.language == "en"
        assert len((await store.enquiries.get(2)).text) == 5000  # type: ignore[union-attr]
        assert [e.ref for e in await store.enquiries.for_user(7)] == [2, 1]
        assert [(m.author, m.text) for m in await store.enquiries.messages(1)] == [
            ("user", "what is the deadline?")
        ]
    finally:
        await store.close()


async def test_reopening_keeps_data_and_schema_version(store_url: str | Path) -> None:
    path = store_url
    store = await Storage.open(path)
    await store.enquiries.create(ANA, "hello?")
    await store.close()
    store = await Storage.open(path)
    try:
        assert await store.database.schema_version() == head()
        assert (await store.enquiries.get(1)) is not None
    finally:
        await store.close()


async def test_concurrent_writes_never_collide(store_url: str | Path) -> None:
    store = await Storage.open(store_url)
    try:
        results = await asyncio.gather(
            *(store.enquiries.create(Asker(i, i), f"q{i}") for i in range(50)),
            *(store.users.add_feedback(i, "jet-overview", i % 2 == 0) for i in range(50)),
        )
        refs = sorted(r.ref for r in results if r is not None)
        assert refs == list(range(1, 51))
        assert await store.users.feedback_counts("jet-overview") == (25, 25)
    finally:
        await store.close()


async def test_forget_deletes_only_that_user(store_url: str | Path) -> None:
    store = await Storage.open(store_url)
    try:
        await store.enquiries.create(ANA, "one")
        await store.enquiries.create(ANA, "two")
        await store.users.add_feedback(7, "jet-overview", True)
        await store.enquiries.create(Asker(8, 8), "other person")
        result = await store.users.forget(7)
        assert (result.enquiries, result.messages, result.feedback) == (2, 2, 1)
        assert await store.enquiries.for_user(7) == []
        assert len(await store.enquiries.for_user(8)) == 1
    finally:
        await store.close()


async def test_reads_never_see_an_unfinished_transaction(store_url: str | Path) -> None:
    store = await Storage.open(store_url)
    try:
        await store.enquiries.create(ANA, "committed")
        inside = asyncio.Event()
        finish = asyncio.Event()

        async def slow_writer() -> None:
            async with store.database.write() as db:
                await db.execute(text("UPDATE enquiries SET text = 'half-done' WHERE ref = 1"))
                await db.execute(text(CHOOSE_JAPANESE))
                inside.set()
                await finish.wait()

        writer = asyncio.create_task(slow_writer())
        await inside.wait()
        # Another task reads while the transaction is open: it sees the last commit only.
        enquiry = await store.enquiries.get(1)
        assert enquiry is not None and enquiry.text == "committed"
        assert await store.users.language_of(7) is None
        finish.set()
        await writer
        enquiry = await store.enquiries.get(1)
        assert enquiry is not None and enquiry.text == "half-done"
        assert await store.users.language_of(7) == "ja"
    finally:
        await store.close()


async def test_a_failed_transaction_leaves_nothing_behind(store_url: str | Path) -> None:
    store = await Storage.open(store_url)
    try:
        with pytest.raises(RuntimeError):
            async with store.database.write() as db:
                await db.execute(text(CHOOSE_JAPANESE))
                raise RuntimeError("the handler failed half-way")
        assert await store.users.language_of(7) is None
        assert not store.outbox.changed.is_set()
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("event", "before", "assignee", "after"),
    [
        (Event.CLAIM, State.NEW, None, State.CLAIMED),
        (Event.CLAIM, State.RESOLVED, 5, State.CLAIMED),
        (Event.RESOLVE, State.PENDING, 5, State.RESOLVED),
        (Event.REOPEN, State.RESOLVED, None, State.NEW),
        (Event.REOPEN, State.RESOLVED, 5, State.CLAIMED),
        (Event.STAFF_REPLY, State.NEW, None, State.PENDING),
        (Event.USER_WROTE, State.PENDING, 5, State.CLAIMED),
        (Event.USER_WROTE, State.RESOLVED, None, State.NEW),
        (Event.USER_WROTE, State.NEW, None, None),
        (Event.USER_WROTE, State.CLAIMED, 5, None),
    ],
)
def test_the_transition_table(
    event: Event, before: State, assignee: int | None, after: State | None
) -> None:
    assert next_state(event, before, assignee) is after


async def test_state_changes_keep_their_dates(store_url: str | Path) -> None:
    store = await Storage.open(store_url)
    try:
        await store.enquiries.create(ANA, "question")
        answered = await store.enquiries.add_staff_reply(1, 500, "Ken", "answer")
        assert (answered.state, answered.assignee) == (State.PENDING, 500)
        assert answered.first_reply_at is not None
        resolved = await store.enquiries.change(1, Event.RESOLVE)
        assert resolved.state is State.RESOLVED and resolved.resolved_at is not None
        again = await store.enquiries.add_user_message(1, ANA, "one more thing")
        assert again.state is State.CLAIMED and again.resolved_at is None  # back with Ken
        assert again.first_reply_at == answered.first_reply_at
        page, total = await store.enquiries.open_page()
        assert [e.ref for e in page] == [1] and total == 1
    finally:
        await store.close()


async def test_closing_waits_for_a_read_whose_caller_was_cancelled(tmp_path: Path) -> None:
    """A cancelled caller's read runs on to its end; closing the store meanwhile must not
    leave its connection to the garbage collector (SQLAlchemy's "non-checked-in connection",
    aiosqlite's "deleted before being closed")."""
    store = await Storage.open(tmp_path / "db.sqlite3")
    reading = asyncio.create_task(store.outbox.next_attempt_at())
    await asyncio.sleep(0)  # the read is under way
    reading.cancel()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await store.close()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        gc.collect()
    assert [str(w.message) for w in caught] == []
