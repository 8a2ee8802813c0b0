"""The staff workflow: who may act, the queue, replies to users, and an enquiry's states.

Every change is stored with what it owes the staff chat or the user in the outbox, in the
same transaction; the terminal chat (`clair-bot chat`) reads its staff replies from the store.
Replies may be typed, saved (bot.savedreplies) or attachments, never blank; notes stay
internal; /merge folds one enquiry into another.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from bot import media as limits
from bot import references, stafftexts, staffview
from bot.config import Settings
from bot.core import (
    TERMINAL_CHAT_ID,
    EmptyReply,
    EnquiryResolved,
    Knowledge,
    StaffNotices,
    require,
)
from bot.inbound import without_surrogates
from bot.knowledge import KnowledgeBase
from bot.relay import Refused
from bot.stafftexts import StaffTexts
from bot.storage import Storage
from bot.storage.records import (
    OPEN_STATES,
    Author,
    Draft,
    Enquiry,
    Event,
    Kind,
    Media,
    Message,
    MessageKind,
    Rating,
    Source,
    State,
)
from bot.suggestions import add_suggestion

#: /queue's views besides every open enquiry.
QUEUE_VIEWS = ("mine", *(state.value for state in State))


def is_queue_view(view: str) -> bool:
    """Whether `view` names a queue view ("" is every open enquiry)."""
    return not view or view in QUEUE_VIEWS


class UnknownSavedReply(LookupError):
    """No saved reply has that key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"there is no saved reply {key!r}")
        self.key = key


class MergeProblem(StrEnum):
    """Why /merge A B was refused."""

    SAME = "same"
    OTHER_USER = "other_user"
    MERGED_BEFORE = "merged_before"


class MergeRefused(Exception):
    """/merge A B cannot be done; `ref`/`into` say which one was merged before where."""

    def __init__(self, problem: MergeProblem, ref: int = 0, into: int = 0) -> None:
        super().__init__(problem.value)
        self.problem, self.ref, self.into = problem, ref, into


class StaffService:
    """What CLAIR staff can do with enquiries."""

    def __init__(
        self, settings: Settings, knowledge: Knowledge, storage: Storage, notices: StaffNotices
    ) -> None:
        self.settings = settings
        self.knowledge = knowledge
        self._enquiries = storage.enquiries
        self._ratings = storage.ratings
        self._users = storage.users
        self._clock = storage.clock
        self._notices = notices
        self.hours = notices.hours

    @property
    def words(self) -> StaffTexts:
        """The staff chat's language (staff.language)."""
        return self._notices.words

    async def words_for(self, user_id: int | None) -> StaffTexts:
        """What to say to one member of staff: their /language choice, else staff.language."""
        chosen = await self._users.language_of(user_id) if user_id is not None else None
        return stafftexts.get(chosen or self.settings.staff.language)

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

    async def show(self, ref: int) -> tuple[Enquiry, list[Message], Rating | None]:
        """An enquiry, its thread and its rating."""
        enquiry = await require(self._enquiries, ref)
        messages = await self._enquiries.messages(ref)
        return enquiry, messages, await self._ratings.get(ref)

    async def queue(
        self, page: int = 0, per_page: int = 10, view: str = "", staff_id: int | None = None
    ) -> tuple[list[Enquiry], int]:
        """One page of enquiries, oldest first, and the total: every open one, or a view
        ("mine": the open ones `staff_id` holds; or one state)."""
        if view == "mine":
            return await self._enquiries.open_page(
                page * per_page, per_page, OPEN_STATES, assignee=staff_id
            )
        states = (State(view),) if view else OPEN_STATES
        return await self._enquiries.open_page(page * per_page, per_page, states)

    async def find(
        self,
        state: str = "",
        holder: str = "",
        search: str = "",
        page: int = 0,
        per_page: int = 20,
        staff_id: int | None = None,
    ) -> tuple[list[Enquiry], int]:
        """The console's queue, oldest first, and the total: the open enquiries (`state` ""),
        one state's or every one ("all"); held by anyone (`holder` ""), by `staff_id`
        ("mine"), by nobody ("none") or by one member of staff (their id); with `search` in
        the question, the thread or the name. ValueError for a state or holder it does not
        know."""
        if state == "all":
            states: tuple[State, ...] = tuple(State)
        elif state:
            states = (State(state),)
        else:
            states = OPEN_STATES
        assignee: int | None = None
        if holder == "mine":
            assignee = staff_id
        elif holder not in ("", "none"):
            assignee = int(holder)
        return await self._enquiries.open_page(
            page * per_page,
            per_page,
            states,
            assignee,
            unclaimed=holder == "none",
            search=search[:200],
        )

    async def holders(self) -> list[tuple[int, str]]:
        """Who holds open enquiries: (staff id, name)."""
        return await self._enquiries.holders()

    def office_age(self, enquiry: Enquiry) -> float:
        """How long an enquiry has been waiting, in office hours."""
        return self.hours.between(enquiry.created_at, self.now())

    @staticmethod
    def pages(total: int, per_page: int = 10) -> int:
        """How many pages `total` open enquiries fill (an empty queue is one empty page)."""
        return max(1, -(-total // per_page))

    async def thread_ref(
        self,
        chat_id: int,
        replied_to: int | None,
        topic_id: int | None,
        quoted: str | None = None,
    ) -> int | None:
        """The enquiry a message in the staff chat is about: by the message it replies to
        (its recorded id, else the `#N` of the bot's text `quoted`), else by the forum topic
        it was written in."""
        if replied_to is not None:
            ref = await self._enquiries.ref_for_message(chat_id, replied_to)
            if ref is not None:
                return ref
            ref = references.in_staff_message(quoted)
            if ref is not None and await self._enquiries.get(ref) is not None:
                return ref
        if topic_id is not None:
            return await self._enquiries.ref_for_thread(topic_id)
        return None

    async def set_topic(self, ref: int, thread_id: int) -> None:
        """Record the forum topic created for an enquiry."""
        await self._enquiries.set_staff_thread(ref, thread_id)

    # -- acting on them ------------------------------------------------------------------------
    async def open_enquiry(self, ref: int) -> Enquiry:
        """The enquiry a reply or note is for (the one it was merged into, if it was);
        EnquiryResolved when it is closed, UnknownEnquiry when there is none."""
        enquiry = await require(self._enquiries, ref)
        if enquiry.merged_into is not None:
            enquiry = await require(self._enquiries, enquiry.merged_into)
        if enquiry.state is State.RESOLVED:
            raise EnquiryResolved(enquiry.ref)
        return enquiry

    async def reply(
        self,
        ref: int,
        staff_id: int,
        staff_name: str,
        text: str,
        *,
        source: Source | None = None,
        media: Media | None = None,
        saved_reply: str = "",
        confirm: bool = False,
    ) -> Enquiry:
        """Record a staff answer (text, or an attachment copied from `source` with `text` as
        its caption) and put its relay to the user in the outbox. Raises EnquiryResolved on
        a resolved enquiry, Refused for an attachment past Telegram's limits, EmptyReply for
        a blank text (the user would get nothing).

        With `confirm`, "Sent to the user" goes into the enquiry's thread in the staff chat
        through the outbox too: a handler waiting on the group's 20-a-minute limit would hold
        up every later message of the staff chat, and a stop."""
        enquiry = await self.open_enquiry(ref)
        text = without_surrogates(text).strip()
        if media is None and is_blank(text):
            raise EmptyReply(ref)
        header = staffview.staff_reply_header(enquiry.ref, enquiry.language)
        if media is not None:
            if source is None:
                raise ValueError("an attachment is copied from its message: source is needed")
            if (why := limits.check(media, text, f"{header}\n")) is not None:
                raise Refused(why)

        def relay(enquiry: Enquiry) -> list[Draft]:
            # Asked in the terminal chat: it reads replies from the store, nothing to send.
            drafts = [] if enquiry.chat_id == TERMINAL_CHAT_ID else [to_user(enquiry)]
            if confirm:
                drafts += self._notices.sent_to_user(enquiry.ref, saved_reply)
            return drafts

        def to_user(enquiry: Enquiry) -> Draft:
            if media is not None:
                caption = staffview.with_caption(header, text)
                return Draft(Kind.COPY, enquiry.chat_id, caption, copy_of=source)
            text_for_user = staffview.staff_reply_to_user(enquiry.ref, enquiry.language, text)
            return Draft(Kind.REPLY, enquiry.chat_id, text_for_user)

        return await self._enquiries.add_staff_reply(
            enquiry.ref,
            staff_id,
            staff_name,
            text,
            relay,
            media=media,
            source=source,
            saved_reply=saved_reply,
        )

    async def send_saved(
        self, ref: int, key: str, staff_id: int, staff_name: str, confirm: bool = False
    ) -> Enquiry:
        """Send saved reply `key` in the enquiry's language (UnknownSavedReply if none);
        `confirm` as for `reply`."""
        saved = self.knowledge.saved
        if key not in saved.replies:
            raise UnknownSavedReply(key)
        enquiry = await self.open_enquiry(ref)
        text = saved.render(key, enquiry.language, enquiry.name, enquiry.ref, self.hours)
        return await self.reply(
            enquiry.ref, staff_id, staff_name, text, saved_reply=key, confirm=confirm
        )

    async def saved_replies(self, language: str) -> list[tuple[str, str, int]]:
        """Every saved reply: key, title in `language`, times sent."""
        uses = await self._enquiries.saved_reply_uses()
        return [
            (key, reply.title_in(language), uses.get(key, 0))
            for key, reply in self.knowledge.saved.replies.items()
        ]

    async def most_used_saved(self, language: str, count: int = 3) -> list[tuple[str, str]]:
        """The `count` most sent saved replies (file order among equals): key and title."""
        ranked = sorted(
            enumerate(await self.saved_replies(language)), key=lambda item: (-item[1][2], item[0])
        )
        return [(key, title) for _, (key, title, _) in ranked[:count]]

    async def note(
        self, ref: int, staff_id: int, staff_name: str, text: str, source: Source | None = None
    ) -> Enquiry:
        """An internal note: kept with the enquiry, shown by /show and the export, never sent
        to the user. Raises EnquiryResolved on a resolved enquiry."""
        enquiry = await self.open_enquiry(ref)
        return await self._enquiries.add_note(enquiry.ref, staff_id, staff_name, text, source)

    async def merge(self, into: int, merged: int) -> Enquiry:
        """Fold enquiry `merged` into `into` (/merge A B); MergeRefused or UnknownEnquiry."""
        if into == merged:
            raise MergeRefused(MergeProblem.SAME)
        target = await require(self._enquiries, into)
        source = await require(self._enquiries, merged)
        for enquiry in (target, source):
            if enquiry.merged_into is not None:
                raise MergeRefused(MergeProblem.MERGED_BEFORE, enquiry.ref, enquiry.merged_into)
        if target.user_id != source.user_id:
            raise MergeRefused(MergeProblem.OTHER_USER)
        return await self._enquiries.merge(into, merged, self._notices.merged(source))

    async def change(
        self, event: Event, ref: int, staff_id: int | None, staff_name: str
    ) -> Enquiry:
        """Claim, resolve or reopen, with a note in the enquiry's staff thread."""
        await require(self._enquiries, ref)
        render = self._notices.state_changed(staff_name, event)
        return await self._enquiries.change(ref, event, staff_id, render, staff_name)

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
        answers = [
            m.text for m in thread if m.author is Author.STAFF and m.kind is MessageKind.TEXT
        ]
        path = self.settings.knowledge.path / "suggestions" / "suggestions.yaml"
        add_suggestion(path, enquiry, answers)
        return path

    def reload(self) -> KnowledgeBase:
        """Load the knowledge base and saved replies again (raises KnowledgeError or
        SavedRepliesError, keeping the old ones)."""
        return self.knowledge.reload()

    async def export_csv(self) -> str:
        """Every enquiry as CSV text, one row each, with its thread, notes and rating."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "ref", "state", "created_at", "first_reply_at", "resolved_at", "user_id",
                "name", "username", "language", "question", "closest_entry", "score",
                "reason", "assignee", "messages", "assignee_name", "pending_since",
                "merged_into", "first_reply_office_hours", "rating", "rating_comment",
                "notes", "attachments",
            ]
        )  # fmt: skip
        for enquiry in await self._enquiries.all():
            thread = await self._enquiries.messages(enquiry.ref)
            rating = await self._ratings.get(enquiry.ref)
            top = enquiry.candidates[0] if enquiry.candidates else None
            office = (
                f"{self.hours.between(enquiry.created_at, enquiry.first_reply_at):.2f}"
                if enquiry.first_reply_at
                else ""
            )
            relayed = [m for m in thread if m.kind is not MessageKind.NOTE]
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
                    "\n".join(_exported(m) for m in relayed),
                    enquiry.assignee_name,
                    _iso(enquiry.pending_since),
                    enquiry.merged_into or "",
                    office,
                    rating.score if rating and rating.score is not None else "",
                    rating.comment if rating else "",
                    "\n".join(
                        f"{m.author_name}: {m.text}" for m in thread if m.kind is MessageKind.NOTE
                    ),
                    "\n".join(limits.label(m.media) for m in thread if m.media is not None),
                ]
            )
        return out.getvalue()


def _exported(message: Message) -> str:
    """One thread message in the export: "user: text", "staff (edited): text"."""
    kind = f" ({message.kind.value})" if message.kind is not MessageKind.TEXT else ""
    attached = f" [{limits.label(message.media)}]" if message.media else ""
    return f"{message.author}{kind}: {message.text}{attached}"


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
