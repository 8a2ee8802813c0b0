"""What the store takes and returns: plain dataclasses, and the enquiry states in one place.

An enquiry moves between the four `State`s only through the `Event`s of `TRANSITIONS`, the
one table that claim, resolve, reopen, a staff reply and a user's follow-up all go through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.decision import Candidate


class State(StrEnum):
    """Where an enquiry is in the staff workflow."""

    NEW = "new"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    RESOLVED = "resolved"


class Event(StrEnum):
    """What can happen to an enquiry."""

    CLAIM = "claim"  # a member of staff takes it on
    RESOLVE = "resolve"  # closed
    REOPEN = "reopen"  # opened again by staff
    STAFF_REPLY = "staff_reply"  # staff answered the user
    USER_WROTE = "user_wrote"  # the user wrote again about it


_ANY = frozenset(State)

#: For each event, the states it applies in and the state it leads to. Reopening leads to
#: NEW, or to CLAIMED when a member of staff already has the enquiry (see `next_state`); in a
#: state not listed, the event leaves the state as it is.
TRANSITIONS: dict[Event, tuple[frozenset[State], State]] = {
    Event.CLAIM: (_ANY, State.CLAIMED),
    Event.RESOLVE: (_ANY, State.RESOLVED),
    Event.REOPEN: (_ANY, State.NEW),
    Event.STAFF_REPLY: (_ANY, State.ANSWERED),
    Event.USER_WROTE: (frozenset({State.ANSWERED, State.RESOLVED}), State.NEW),
}

#: Not resolved: in the queue, and what a user's next unanswerable message joins.
OPEN_STATES = (State.NEW, State.CLAIMED, State.ANSWERED)
#: Open and not answered yet: re-announced when waiting too long, counted as unanswered.
WAITING_STATES = (State.NEW, State.CLAIMED)
#: States in which the staff chat offers a Claim button.
CLAIMABLE_STATES = (State.NEW, State.ANSWERED)


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
    merge: str = ""
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


@dataclass(frozen=True)
class ForgetResult:
    """What `/forget` deleted."""

    enquiries: int
    messages: int
    feedback: int


@dataclass(frozen=True)
class Stats:
    """Figures for `/stats`."""

    open: int
    median_first_reply_s: float | None
    answered_today: int
    answered_this_week: int
    unanswered_topics: list[tuple[str, int]] = field(default_factory=list)


#: What to put in the outbox, given the enquiry as a change left it (same transaction).
Render = Callable[[Enquiry], Sequence[Draft]]
