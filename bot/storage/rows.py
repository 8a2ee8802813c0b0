"""Rows of the enquiries table as `Enquiry` values, for every part of the store that reads them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, select

from bot.decision import Candidate
from bot.storage.database import Transaction, now, parse
from bot.storage.records import Enquiry, State
from bot.storage.schema import enquiries

#: One enquiry by its reference (parameter ``ref``), built once (see database.Params).
BY_REF = select(enquiries).where(enquiries.c.ref == bindparam("ref"))


def enquiry_from_row(result: Any) -> Enquiry:
    """An `Enquiry` from a row of every column of the enquiries table."""
    row = result._mapping
    candidates = tuple(
        Candidate(c["entry_id"], c["title"], float(c["score"]))
        for c in json.loads(row["candidates"])
    )
    return Enquiry(
        ref=row["ref"],
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        name=row["name"],
        username=row["username"],
        language=row["language"],
        text=row["text"],
        candidates=candidates,
        reason=row["reason"],
        state=State(row["state"]),
        assignee=row["assignee"],
        created_at=parse(row["created_at"]) or now(),
        first_reply_at=parse(row["first_reply_at"]),
        resolved_at=parse(row["resolved_at"]),
        staff_message_id=row["staff_message_id"],
        staff_thread_id=row["staff_thread_id"],
        reminded_at=parse(row["reminded_at"]),
        kb_suggested=bool(row["kb_suggested"]),
        code=row["code"],
        assignee_name=row["assignee_name"],
        pending_since=parse(row["pending_since"]),
        merged_into=row["merged_into"],
    )


async def read_enquiry(db: Transaction, ref: int) -> Enquiry | None:
    """Inside a write transaction: an enquiry as the transaction sees it."""
    row = (await db.execute(BY_REF, {"ref": ref})).first()
    return enquiry_from_row(row) if row is not None else None
