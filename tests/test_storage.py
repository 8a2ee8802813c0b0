"""The enquiry store on a temporary SQLite file."""

import asyncio
from pathlib import Path

from bot.decision import Candidate
from bot.storage import MIGRATIONS, Asker, State, Store

ANA = Asker(user_id=7, chat_id=7, name="Ana Cruz", username="ana", language="en")


async def test_enquiries_get_increasing_references_and_keep_everything(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        first = await store.create_enquiry(
            ANA, "what is the deadline?", (Candidate("lgotp-overview", "LGOTP", 61.5),), "guard"
        )
        second = await store.create_enquiry(ANA, "x" * 5000)
        assert (first.ref, second.ref) == (1, 2)
        assert first.state is State.NEW
        assert first.candidates == (Candidate("lgotp-overview", "LGOTP", 61.5),)
        assert first.username == "ana" and first.language == "en"
        assert len((await store.get_enquiry(2)).text) == 5000  # type: ignore[union-attr]
        assert [e.ref for e in await store.enquiries_for_user(7)] == [2, 1]
        assert [(m.author, m.text) for m in await store.messages(1)] == [
            ("user", "what is the deadline?")
        ]
    finally:
        await store.close()


async def test_reopening_keeps_data_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    await store.create_enquiry(ANA, "hello?")
    await store.close()
    store = await Store.open(path)
    try:
        assert await store.schema_version() == len(MIGRATIONS)
        assert (await store.get_enquiry(1)) is not None
    finally:
        await store.close()


async def test_concurrent_writes_never_collide(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        results = await asyncio.gather(
            *(store.create_enquiry(Asker(i, i), f"q{i}") for i in range(50)),
            *(store.add_feedback(i, "jet-overview", i % 2 == 0) for i in range(50)),
        )
        refs = sorted(r.ref for r in results if r is not None)
        assert refs == list(range(1, 51))
        assert await store.feedback_counts("jet-overview") == (25, 25)
    finally:
        await store.close()


async def test_forget_deletes_only_that_user(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        await store.create_enquiry(ANA, "one")
        await store.create_enquiry(ANA, "two")
        await store.add_feedback(7, "jet-overview", True)
        await store.create_enquiry(Asker(8, 8), "other person")
        result = await store.forget_user(7)
        assert (result.enquiries, result.messages, result.feedback) == (2, 2, 1)
        assert await store.enquiries_for_user(7) == []
        assert len(await store.enquiries_for_user(8)) == 1
    finally:
        await store.close()
