"""Callback data of inline buttons, users' and staff's: short strings, built and parsed here.

Telegram allows 1-64 bytes. Anything a button sends back is untrusted (clients can forge it),
so :func:`parse` accepts only the exact shapes below and returns None for everything else.

    e:<entry_id>        open an entry
    d:<n>:<entry_id>    "did you mean" choice for remembered question n
    c:<index>           open a category (index into kb.categories)
    t                   back to the list of topics
    s:<n>               send remembered question n to staff
    n:<n>               "none of these": send remembered question n to staff
    f:<1|0>:<entry_id>  answer feedback (helpful or not)
    fg:yes / fg:no      confirm or cancel /forget
    l:<en|ja>           choose the language (/language)
    j:<n>:<ref>         remembered question n is part of the user's enquiry ref
    q:<n>               remembered question n is a new question for staff
    r:<ref>:<1-5>       rate how a resolved enquiry was answered
    st:<c|r|o|k>:<ref>  staff: claim, resolve, reopen, add to the knowledge base
    st:w:<ref>          staff: who holds an enquiry (the "claimed by" button)
    st:m:<ref>          staff: show the most used saved replies on the announcement
    st:b:<ref>          staff: back to the announcement's own buttons
    st:s:<ref>:<key>    staff: send saved reply <key> to the enquiry's user
    st:p:<page>[:<view>] staff: a page of the queue (view: mine, or a state)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64
_ID = r"(?P<id>[a-z0-9]+(?:-[a-z0-9]+)*)"
_NUMBER = r"(?P<n>[1-9][0-9]{0,8})"
#: A saved reply's key, or a queue view ("mine", a state).
KEY_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
KEY_MAX = 24


@dataclass(frozen=True)
class OpenEntry:
    """Show an entry's answer."""

    entry_id: str

    @property
    def data(self) -> str:
        """The callback data string."""
        return _checked(f"e:{self.entry_id}")


@dataclass(frozen=True)
class Choose:
    """A "did you mean" suggestion chosen for a remembered question."""

    number: int
    entry_id: str

    @property
    def data(self) -> str:
        """The callback data string."""
        return _checked(f"d:{self.number}:{self.entry_id}")


@dataclass(frozen=True)
class OpenCategory:
    """Show the entries of one category."""

    index: int

    @property
    def data(self) -> str:
        """The callback data string."""
        return _checked(f"c:{self.index}")


@dataclass(frozen=True)
class ShowTopics:
    """Show the list of categories again."""

    @property
    def data(self) -> str:
        """The callback data string."""
        return "t"


@dataclass(frozen=True)
class AskStaff:
    """Send a remembered question to staff."""

    number: int
    none_of_these: bool = False

    @property
    def data(self) -> str:
        """The callback data string."""
        return _checked(f"{'n' if self.none_of_these else 's'}:{self.number}")


@dataclass(frozen=True)
class Feedback:
    """A 👍 or 👎 on an answer."""

    helpful: bool
    entry_id: str

    @property
    def data(self) -> str:
        """The callback data string."""
        return _checked(f"f:{int(self.helpful)}:{self.entry_id}")


@dataclass(frozen=True)
class Forget:
    """The answer to the /forget confirmation."""

    confirmed: bool

    @property
    def data(self) -> str:
        """The callback data string."""
        return "fg:yes" if self.confirmed else "fg:no"


@dataclass(frozen=True)
class SetLanguage:
    """The language chosen with /language."""

    language: str

    @property
    def data(self) -> str:
        """The callback data string."""
        return _checked(f"l:{self.language}")


@dataclass(frozen=True)
class Rate:
    """A user's 1-5 answer to "did this answer your question?" about enquiry `ref`."""

    ref: int
    score: int

    @property
    def data(self) -> str:
        """The callback data string."""
        return _checked(f"r:{self.ref}:{self.score}")


@dataclass(frozen=True)
class JoinEnquiry:
    """The user says a remembered question belongs to their open enquiry `ref`."""

    number: int
    ref: int

    @property
    def data(self) -> str:
        """The callback data string."""
        return _checked(f"j:{self.number}:{self.ref}")


@dataclass(frozen=True)
class NewEnquiry:
    """The user says a remembered question is a new question for staff."""

    number: int

    @property
    def data(self) -> str:
        """The callback data string."""
        return _checked(f"q:{self.number}")


class StaffAction(StrEnum):
    """What a staff button does."""

    CLAIM = "c"
    RESOLVE = "r"
    REOPEN = "o"
    ADD_TO_KB = "k"
    QUEUE_PAGE = "p"
    WHO = "w"
    SAVED_MENU = "m"
    BACK = "b"
    SEND_SAVED = "s"


#: Actions whose data carries a key (required for a saved reply, optional for a queue page).
_WITH_KEY = {StaffAction.SEND_SAVED: True, StaffAction.QUEUE_PAGE: False}


@dataclass(frozen=True)
class StaffButton:
    """A staff button: an action on enquiry `number`, or queue page `number`; `key` names a
    saved reply, or the queue's view."""

    action: StaffAction
    number: int
    key: str = ""

    @property
    def data(self) -> str:
        """The callback data string."""
        key = f":{self.key}" if self.key else ""
        return _checked(f"{STAFF_PREFIX}{self.action.value}:{self.number}{key}")


#: Every staff button's data starts with this (the staff handler takes exactly those).
STAFF_PREFIX = "st:"
_STAFF_ACTIONS = "".join(a.value for a in StaffAction)

ButtonAction = (
    OpenEntry
    | Choose
    | OpenCategory
    | ShowTopics
    | AskStaff
    | Feedback
    | Forget
    | SetLanguage
    | JoinEnquiry
    | NewEnquiry
    | Rate
    | StaffButton
)

_PARSERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], ButtonAction]], ...] = (
    (re.compile(f"e:{_ID}"), lambda m: OpenEntry(m["id"])),
    (re.compile(f"d:{_NUMBER}:{_ID}"), lambda m: Choose(int(m["n"]), m["id"])),
    (re.compile(r"c:(?P<i>0|[1-9][0-9]{0,3})"), lambda m: OpenCategory(int(m["i"]))),
    (re.compile("t"), lambda m: ShowTopics()),
    (re.compile(f"s:{_NUMBER}"), lambda m: AskStaff(int(m["n"]))),
    (re.compile(f"n:{_NUMBER}"), lambda m: AskStaff(int(m["n"]), none_of_these=True)),
    (re.compile(f"f:(?P<h>[01]):{_ID}"), lambda m: Feedback(m["h"] == "1", m["id"])),
    (re.compile("fg:(?P<c>yes|no)"), lambda m: Forget(m["c"] == "yes")),
    (re.compile("l:(?P<l>en|ja)"), lambda m: SetLanguage(m["l"])),
    (
        re.compile(f"j:{_NUMBER}:(?P<r>[1-9][0-9]{{0,11}})"),
        lambda m: JoinEnquiry(int(m["n"]), int(m["r"])),
    ),
    (re.compile(f"q:{_NUMBER}"), lambda m: NewEnquiry(int(m["n"]))),
    (re.compile(f"r:{_NUMBER}:(?P<s>[1-5])"), lambda m: Rate(int(m["n"]), int(m["s"]))),
    (
        re.compile(
            f"{STAFF_PREFIX}(?P<a>[{_STAFF_ACTIONS}]):(?P<n>0|[1-9][0-9]{{0,11}})"
            f"(?::(?P<k>{KEY_PATTERN}))?"
        ),
        lambda m: StaffButton(StaffAction(m["a"]), int(m["n"]), m["k"] or ""),
    ),
)


def parse(data: str | None) -> ButtonAction | None:
    """The action a button's data asks for, or None if it is not one of ours."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    for pattern, build in _PARSERS:
        if match := pattern.fullmatch(data):
            action = build(match)
            return action if _well_formed(action) else None
    return None


def _well_formed(action: ButtonAction) -> bool:
    """A staff button carries a key exactly where its action takes one."""
    if not isinstance(action, StaffButton):
        return True
    if len(action.key) > KEY_MAX:
        return False
    required = _WITH_KEY.get(action.action)
    if required is None:
        return not action.key
    return bool(action.key) or not required


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data longer than {MAX_BYTES} bytes: {data!r}")
    return data
