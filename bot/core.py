"""What the services share: the current knowledge base and matcher, and what staff are told.

`Knowledge` holds the knowledge base, its matcher and the conversation rules on it together,
so that /reload swaps them at once for every service. `StaffNotices` renders what goes to
the staff chat as outbox drafts.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import staffview
from bot.config import Settings
from bot.conversation import Conversation
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Matcher
from bot.storage.enquiries import EnquiryStore
from bot.storage.records import Buttons, Draft, Enquiry, Event, Kind, OutboxItem, Render
from bot.workhours import OfficeHours

# The terminal chat (`clair-bot chat`) stores its enquiries under this chat id; no Telegram
# chat has it.
TERMINAL_CHAT_ID = 0


class EmptyReply(ValueError):
    """A staff reply with no text: nothing to send to the user."""

    def __init__(self, ref: int) -> None:
        super().__init__(f"the reply to #{ref} is empty: type the answer")
        self.ref = ref


class UnknownEnquiry(LookupError):
    """No enquiry has that reference number."""

    def __init__(self, ref: int) -> None:
        super().__init__(f"there is no enquiry #{ref}")
        self.ref = ref


async def require(enquiries: EnquiryStore, ref: int) -> Enquiry:
    """The enquiry `ref`, or UnknownEnquiry."""
    enquiry = await enquiries.get(ref)
    if enquiry is None:
        raise UnknownEnquiry(ref)
    return enquiry


class Knowledge:
    """The knowledge base in use and the matcher built on it."""

    def __init__(self, settings: Settings, kb: KnowledgeBase, matcher: Matcher | None = None):
        self._settings = settings
        self.kb = kb
        self.matcher = matcher or Matcher(kb, settings.matcher)
        self.conversation = Conversation(kb)

    def reload(self) -> KnowledgeBase:
        """Load the knowledge base again (raises KnowledgeError, keeping the old one)."""
        kb = load_knowledge(self._settings.knowledge.path)
        self.matcher = Matcher(kb, self._settings.matcher)
        self.conversation = Conversation(kb)
        self.kb = kb
        return kb


@dataclass(frozen=True)
class StaffNotices:
    """Outbox drafts for the staff chat; none when no staff chat is configured."""

    chat_id: int
    hours: OfficeHours

    def to_staff(self, kind: Kind, text: str, buttons: Buttons = ()) -> list[Draft]:
        """One message for the staff chat, in the enquiry's thread unless it announces it."""
        if not self.chat_id:
            return []  # no staff chat configured: the enquiry waits in the queue (CLI)
        return [Draft(kind, self.chat_id, text, buttons, in_thread=kind is not Kind.ANNOUNCE)]

    def announce(self, enquiry: Enquiry) -> list[Draft]:
        """A new enquiry, with its buttons."""
        text = staffview.announcement(enquiry, self.hours)
        return self.to_staff(Kind.ANNOUNCE, text, staffview.enquiry_buttons(enquiry))

    def remind(self, enquiry: Enquiry) -> list[Draft]:
        """An enquiry waiting too long, announced again."""
        text = staffview.announcement(enquiry, self.hours, reminder=True)
        return self.to_staff(Kind.REMINDER, text, staffview.enquiry_buttons(enquiry))

    def follow_up(self, text: str, after_reply: bool = False) -> Render:
        """What the user wrote again, for the enquiry's thread (`after_reply`: staff had
        answered before it arrived)."""
        return lambda enquiry: self.to_staff(
            Kind.FOLLOW_UP, staffview.follow_up(enquiry, text, after_reply)
        )

    def state_changed(self, by: str, event: Event | None = None) -> Render:
        """A short note after claim / resolve / reopen."""
        return lambda enquiry: self.to_staff(
            Kind.NOTICE, staffview.state_changed(enquiry, by, event)
        )

    def failure_notice(self, item: OutboxItem, reason: str) -> Render | None:
        """For the outbox worker: tell the staff thread when a reply did not reach the user."""
        if item.kind is not Kind.REPLY:
            return None
        return lambda enquiry: self.to_staff(
            Kind.NOTICE, staffview.delivery_failed(enquiry.ref, reason)
        )
