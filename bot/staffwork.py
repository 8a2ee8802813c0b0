"""The staff workflow: who may act, the queue, replies to users, and an enquiry's states.

Every change is stored with what it owes the staff chat or the user in the outbox, in the
same transaction; the terminal chat (`clair-bot chat`) reads its staff replies from the store.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from bot import staffview
from bot.config import Settings
from bot.core import TERMINAL_CHAT_ID, EmptyReply, Knowledge, StaffNotices, require
from bot.knowledge import KnowledgeBase
from bot.storage import Storage
from bot.storage.records import Author, Draft, Enquiry, Event, Kind, Message, State
from bot.suggestions import add_suggestion


class StaffService:
    """What CLAIR staff can do with enquiries."""

    def __init__(
        self, settings: Settings, knowledge: Knowledge, storage: Storage, notices: StaffNotices
    ) -> None:
        self.settings = settings
        self.knowledge = knowledge
        self._enquiries = storage.enquiries
        self._clock = storage.clock
        self._notices = notices
        self.hours = notices.hours

    def now(self) -> datetime:
        """The store's clock: ages in the queue, the export's date."""
        return self._clock()

    # -- who may act ---------------------------------------------------------------------------
    def is_staff(self, user_id: int | None) -> bool:
        """Whether a Telegram user may act on enquiries."""
        return user_id is not None and user_id in self.settings.staff.user_ids

    def may_act(self, user_id: int | None, chat_id: int | None, private: bool) -> bool:
        """A staff member, in the staff chat or in their own private chat with the bot."""
        if user_id is None or chat_id is None or not self.is_staff(user_id):
            return False
        staff_chat = self.settings.staff.chat_id
        return (bool(staff_chat) and chat_id == staff_chat) or (private and chat_id == user_id)

    def is_staff_chat(self, chat_id: int | None) -> bool:
        """Whether `chat_id` is the configured staff chat."""
        return bool(self.settings.staff.chat_id) and chat_id == self.settings.staff.chat_id

    # -- enquiries -----------------------------------------------------------------------------
    async def enquiry(self, ref: int) -> Enquiry:
        """One enquiry (UnknownEnquiry if there is none)."""
        return await require(self._enquiries, ref)

    async def show(self, ref: int) -> tuple[Enquiry, list[Message]]:
        """An enquiry and its thread."""
        enquiry = await require(self._enquiries, ref)
        return enquiry, await self._enquiries.messages(ref)

    async def queue(self, page: int = 0, per_page: int = 10) -> tuple[list[Enquiry], int]:
        """One page of open enquiries, oldest first, and the total."""
        return await self._enquiries.open_page(page * per_page, per_page)

    @staticmethod
    def pages(total: int, per_page: int = 10) -> int:
        """How many pages `total` open enquiries fill (an empty queue is one empty page)."""
        return max(1, -(-total // per_page))

    async def thread_ref(
        self, chat_id: int, replied_to: int | None, topic_id: int | None
    ) -> int | None:
        """The enquiry a message in the staff chat is about: by the message it replies to,
        else by the forum topic it was written in."""
        if replied_to is not None:
            ref = await self._enquiries.ref_for_message(chat_id, replied_to)
            if ref is not None:
                return ref
        if topic_id is not None:
            return await self._enquiries.ref_for_thread(topic_id)
        return None

    async def set_topic(self, ref: int, thread_id: int) -> None:
        """Record the forum topic created for an enquiry."""
        await self._enquiries.set_staff_thread(ref, thread_id)

    # -- acting on them ------------------------------------------------------------------------
    async def reply(self, ref: int, staff_id: int, staff_name: str, text: str) -> Enquiry:
        """Record a staff answer and put its relay to the user in the outbox.

        An empty (or blank) answer raises EmptyReply: the user would get nothing.
        """
        await require(self._enquiries, ref)
        text = text.strip()
        if is_blank(text):
            raise EmptyReply(ref)

        def relay(enquiry: Enquiry) -> list[Draft]:
            if enquiry.chat_id == TERMINAL_CHAT_ID:
                return []  # asked in the terminal chat, which reads replies from the store
            text_for_user = staffview.staff_reply_to_user(enquiry.ref, text)
            return [Draft(Kind.REPLY, enquiry.chat_id, text_for_user)]

        return await self._enquiries.add_staff_reply(ref, staff_id, staff_name, text, relay)

    async def change(
        self, event: Event, ref: int, staff_id: int | None, staff_name: str
    ) -> Enquiry:
        """Claim, resolve or reopen, with a note in the enquiry's staff thread."""
        await require(self._enquiries, ref)
        render = self._notices.state_changed(staff_name, event)
        return await self._enquiries.change(ref, event, staff_id, render)

    async def claim(self, ref: int, staff_id: int, staff_name: str) -> Enquiry:
        """Take an enquiry on."""
        return await self.change(Event.CLAIM, ref, staff_id, staff_name)

    async def resolve(self, ref: int, staff_id: int | None, staff_name: str) -> Enquiry:
        """Close an enquiry."""
        return await self.change(Event.RESOLVE, ref, staff_id, staff_name)

    async def reopen(self, ref: int, staff_id: int | None, staff_name: str) -> Enquiry:
        """Open a resolved or answered enquiry again."""
        return await self.change(Event.REOPEN, ref, staff_id, staff_name)

    async def add_to_knowledge_base(self, ref: int) -> Path | None:
        """Write a resolved enquiry's question and staff answer for review; None if done before."""
        enquiry = await require(self._enquiries, ref)
        if enquiry.state is not State.RESOLVED:
            raise ValueError(f"#{ref} is not resolved yet: resolve it first")
        if not await self._enquiries.mark_kb_suggested(ref):
            return None
        thread = await self._enquiries.messages(ref)
        answers = [m.text for m in thread if m.author is Author.STAFF]
        path = self.settings.knowledge.path / "suggestions" / "suggestions.yaml"
        add_suggestion(path, enquiry, answers)
        return path

    def reload(self) -> KnowledgeBase:
        """Load the knowledge base again (raises KnowledgeError, keeping the old one)."""
        return self.knowledge.reload()

    async def export_csv(self) -> str:
        """Every enquiry as CSV text, one row each, with its thread joined."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "ref", "state", "created_at", "first_reply_at", "resolved_at", "user_id",
                "name", "username", "language", "question", "closest_entry", "score",
                "reason", "assignee", "messages",
            ]
        )  # fmt: skip
        for enquiry in await self._enquiries.all():
            thread = await self._enquiries.messages(enquiry.ref)
            top = enquiry.candidates[0] if enquiry.candidates else None
            writer.writerow(
                [
                    enquiry.ref,
                    enquiry.state.value,
                    _iso(enquiry.created_at),
                    _iso(enquiry.first_reply_at),
                    _iso(enquiry.resolved_at),
                    enquiry.user_id,
                    enquiry.name,
                    enquiry.username or "",
                    enquiry.language or "",
                    enquiry.text,
                    top.entry_id if top else "",
                    f"{top.score:.1f}" if top else "",
                    enquiry.reason,
                    enquiry.assignee or "",
                    "\n".join(f"{m.author}: {m.text}" for m in thread),
                ]
            )
        return out.getvalue()


# Characters Telegram clients send for a "blank" message: zero-width and filler characters.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_blank(text: str) -> bool:
    """Whether a text shows nothing: spaces, zero-width and filler characters only."""
    return all(
        ch.isspace() or ch in _INVISIBLE or unicodedata.category(ch) in ("Cf", "Cc", "Zs")
        for ch in text
    )


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""
