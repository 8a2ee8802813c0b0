"""What the store takes and returns: plain dataclasses, and the enquiry states in one place.

An enquiry moves between the four `State`s only through the `Event`s of `TRANSITIONS`, the
one table that claim, resolve, reopen, a staff reply, a user's follow-up, the automatic close
and a merge all go through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bot.decision import Candidate


class State(StrEnum):
    """Where an enquiry is in the staff workflow."""

    NEW = "new"
    CLAIMED = "claimed"
    PENDING = "pending"  # staff answered; waiting for the user
    RESOLVED = "resolved"


class Event(StrEnum):
    """What can happen to an enquiry."""

    CLAIM = "claim"  # a member of staff takes it on
    RESOLVE = "resolve"  # closed
    REOPEN = "reopen"  # opened again by staff
    STAFF_REPLY = "staff_reply"  # staff answered the user
    USER_WROTE = "user_wrote"  # the user wrote again about it
    AUTOCLOSE = "autoclose"  # pending with no word from the user for staff.autoclose_days
    MERGED = "merged"  # folded into another enquiry (/merge)


_ANY = frozenset(State)

#: For each event, the states it applies in and the state it leads to. Reopening leads to
#: NEW, or to CLAIMED when a member of staff already has the enquiry (see `next_state`); in a
#: state not listed, the event leaves the state as it is.
TRANSITIONS: dict[Event, tuple[frozenset[State], State]] = {
    Event.CLAIM: (_ANY, State.CLAIMED),
    Event.RESOLVE: (_ANY, State.RESOLVED),
    Event.REOPEN: (_ANY, State.NEW),
    Event.STAFF_REPLY: (_ANY, State.PENDING),
    Event.USER_WROTE: (frozenset({State.PENDING, State.RESOLVED}), State.NEW),
    Event.AUTOCLOSE: (frozenset({State.PENDING}), State.RESOLVED),
    Event.MERGED: (_ANY, State.RESOLVED),
}

#: Not resolved: in the queue, and what a user's next unanswerable message joins.
OPEN_STATES = (State.NEW, State.CLAIMED, State.PENDING)
#: Open and not answered yet: re-announced when waiting too long, counted as unanswered.
WAITING_STATES = (State.NEW, State.CLAIMED)
#: States in which the staff chat offers a Claim button (when nobody holds the enquiry).
CLAIMABLE_STATES = (State.NEW, State.PENDING)


def next_state(event: Event, current: State, assignee: int | None) -> State | None:
    """The state `event` leads to from `current`, or None when it does not apply there."""
    sources, target = TRANSITIONS[event]
    if current not in sources:
        return None
    if target is State.NEW and assignee is not None:
        return State.CLAIMED  # back with the member of staff who has it
    return target


class Author(StrEnum):
    """Who wrote a message of an enquiry's thread."""

    USER = "user"
    STAFF = "staff"


class MessageKind(StrEnum):
    """What a message of an enquiry's thread is."""

    TEXT = "text"  # typed text, relayed
    ATTACHMENT = "attachment"  # a photo, file, voice note, video or location, relayed
    NOTE = "note"  # staff's internal note: never sent to the user
    EDIT = "edit"  # a later version of an earlier message (`edit_of`)


#: What staff write that reaches the user as a reply (a note never does; an edit changes one).
REPLY_KINDS = (MessageKind.TEXT, MessageKind.ATTACHMENT)


class OutboxState(StrEnum):
    """Delivery state of one outgoing message."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


#: Outbox messages not delivered yet: later ones to the same chat or enquiry wait for them.
UNDELIVERED = (OutboxState.PENDING, OutboxState.SENDING)


class Kind(StrEnum):
    """What an outgoing message is, which decides how it is threaded."""

    ANNOUNCE = "announce"  # a new enquiry in the staff chat
    FOLLOW_UP = "follow_up"  # the user wrote again; into the staff thread
    REPLY = "reply"  # a staff answer relayed to the user
    REMINDER = "reminder"  # an enquiry waiting too long, re-announced
    NOTICE = "notice"  # anything else for the staff thread (e.g. delivery failed)
    COPY = "copy"  # an attachment copied (copyMessage) into the staff thread or to the user
    EDIT = "edit"  # a relayed message edited in the user's chat (`edit_of` names it)
    KEYBOARD = "keyboard"  # the announcement's buttons, brought up to date
    RATING = "rating"  # "did this answer your question?" with 1-5 buttons, to the user
    TO_USER = "to_user"  # anything else for the user (auto-closed, merged)


#: Rows of (label, callback data) buttons, as the outbox stores them.
Buttons = tuple[tuple[tuple[str, str], ...], ...]


@dataclass(frozen=True)
class Asker:
    """Who wrote to the bot, as far as the store needs to know."""

    user_id: int
    chat_id: int
    name: str = ""
    username: str | None = None
    language: str | None = None
    message_id: int | None = None  # the Telegram message being handled, in `chat_id`


@dataclass(frozen=True)
class Media:
    """An attachment as Telegram describes it: enough to copy, list and export it."""

    type: str  # photo, document, voice, audio, video, video_note, animation, location
    file_id: str = ""  # empty for a location
    file_unique_id: str = ""
    file_name: str = ""
    mime_type: str = ""
    file_size: int | None = None

    def to_json(self) -> dict[str, object]:
        """As stored."""
        return {
            "type": self.type,
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": self.file_size,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Media:
        """Back from storage."""
        size = str(data.get("file_size"))
        return cls(
            type=str(data.get("type") or ""),
            file_id=str(data.get("file_id") or ""),
            file_unique_id=str(data.get("file_unique_id") or ""),
            file_name=str(data.get("file_name") or ""),
            mime_type=str(data.get("mime_type") or ""),
            file_size=int(size) if size.isascii() and size.isdigit() else None,
        )


@dataclass(frozen=True)
class Source:
    """Where a message was written in Telegram: its chat and its id there."""

    chat_id: int
    message_id: int


@dataclass(frozen=True)
class Enquiry:
    """An escalated question."""

    ref: int
    user_id: int
    chat_id: int
    name: str
    username: str | None
    language: str | None
    text: str
    candidates: tuple[Candidate, ...]
    reason: str
    state: State
    assignee: int | None
    created_at: datetime
    first_reply_at: datetime | None
    resolved_at: datetime | None
    staff_message_id: int | None = None
    staff_thread_id: int | None = None
    reminded_at: datetime | None = None
    kb_suggested: bool = False
    code: str = ""  # the matcher's reason code (bot.decision.Reason), "" before it existed
    assignee_name: str = ""
    pending_since: datetime | None = None  # the staff reply it waits on the user after
    merged_into: int | None = None  # /merge folded it into that enquiry

    @property
    def is_open(self) -> bool:
        """Not resolved yet."""
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class Message:
    """One message of an enquiry's thread."""

    author: Author
    author_name: str
    text: str
    created_at: datetime
    kind: MessageKind = MessageKind.TEXT
    media: Media | None = None
    id: int = 0
    edit_of: int | None = None  # for an edit: the message it changes
    saved_reply: str = ""  # the saved reply's key, when staff sent one

    @property
    def is_staff_reply(self) -> bool:
        """Staff's answer to the user: not an internal note, nor an edit of a message."""
        return self.author is Author.STAFF and self.kind in REPLY_KINDS


@dataclass(frozen=True)
class Rating:
    """What a user said when asked "did this answer your question?"."""

    ref: int
    asked_at: datetime
    score: int | None = None
    comment: str = ""
    rated_at: datetime | None = None


@dataclass(frozen=True)
class Draft:
    """A message to put in the outbox: to `chat_id`, or into the enquiry's staff thread.

    A draft with `merge` text joins a message of the same kind about the same enquiry that
    is still queued (its text is appended there) instead of becoming one more message;
    `delay_s` holds it that long first, so that what follows soon can join it.
    """

    kind: Kind
    chat_id: int
    text: str
    markup: Sequence[Sequence[tuple[str, str]]] = ()
    in_thread: bool = False
    copy_of: Source | None = None  # COPY: the message to copy; `text` becomes its caption
    edit_of: int | None = None  # EDIT: the outbox item whose delivered message to change
    carries: int | None = None  # the thread message (messages.id) this relays, for edits
    merge: str = ""  # a text follow-up: what it adds to a queued one under the same heading
    delay_s: float = 0.0


@dataclass(frozen=True)
class OutboxItem:
    """A message waiting to be delivered (or delivered)."""

    id: int
    ref: int | None
    kind: Kind
    chat_id: int
    text: str
    markup: Buttons
    in_thread: bool
    state: OutboxState
    attempts: int
    telegram_message_id: int | None
    last_error: str | None
    reply_to_message_id: int | None = None
    thread_id: int | None = None
    copy_of: Source | None = None
    edit_message_id: int | None = None  # EDIT: Telegram's id of the message to change
    edit_caption: bool = False  # EDIT: that message is a copy, so its caption changes


@dataclass(frozen=True)
class ForgetResult:
    """What `/forget` deleted."""

    enquiries: int
    messages: int
    feedback: int


@dataclass(frozen=True)
class Day:
    """One day of the last 30 (office time zone), for the chart."""

    day: date
    answered_by_bot: int = 0
    escalated: int = 0
    resolved: int = 0
    median_first_reply_h: float | None = None  # office hours, enquiries first answered that day


@dataclass(frozen=True)
class Stats:
    """Figures for `/stats`; "recent" means the last `days` days."""

    open: int
    by_state: dict[State, int]
    answered_today: int
    answered_this_week: int
    first_reply_median_h: float | None  # office hours, enquiries first answered recently
    first_reply_p90_h: float | None
    ratings: dict[int, int]  # score -> how many, recent
    ratings_asked: int
    answered_by_bot: int  # recent questions the bot answered itself
    escalated: int  # recent enquiries
    unanswered_topics: list[tuple[str, int]] = field(default_factory=list)
    series: list[Day] = field(default_factory=list)
    days: int = 30

    @property
    def rating_average(self) -> float | None:
        """The mean score, or None without ratings."""
        count = sum(self.ratings.values())
        return sum(s * n for s, n in self.ratings.items()) / count if count else None

    @property
    def bot_share(self) -> float | None:
        """Of the recent questions, the share the bot answered itself."""
        total = self.answered_by_bot + self.escalated
        return self.answered_by_bot / total if total else None


#: What to put in the outbox, given the enquiry as a change left it (same transaction).
Render = Callable[[Enquiry], Sequence[Draft]]
