"""What the services share: the current knowledge base and matcher, and what staff are told.

`Knowledge` holds the knowledge base, its matcher, the conversation rules on it and staff's
saved replies together, so that /reload swaps them at once for every service.
`StaffNotices` renders what goes to the staff chat as outbox drafts.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from bot import stafftexts, staffview
from bot.config import Settings
from bot.conversation import Conversation
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Matcher
from bot.media import WITHOUT_CAPTION
from bot.savedreplies import SavedReplies, load_saved_replies
from bot.stafftexts import StaffTexts
from bot.storage.enquiries import EnquiryStore
from bot.storage.records import (
    Buttons,
    Draft,
    Enquiry,
    Event,
    Kind,
    Media,
    OutboxItem,
    Render,
    Source,
)
from bot.workhours import OfficeHours

# The terminal chat (`clair-bot chat`) stores its enquiries under this chat id; no Telegram
# chat has it.
TERMINAL_CHAT_ID = 0


def queued(enquiry: Enquiry) -> bool:
    """Whether the outbox delivers messages to the enquiry's user (not in the terminal chat,
    which reads staff replies from the store and shows its acknowledgements itself)."""
    return enquiry.chat_id != TERMINAL_CHAT_ID


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


class EnquiryResolved(Exception):
    """A reply or a note on a resolved enquiry: refused, so that nothing reaches a closed
    conversation unnoticed (reopen it first)."""

    def __init__(self, ref: int) -> None:
        super().__init__(f"#{ref} is resolved")
        self.ref = ref


async def require(enquiries: EnquiryStore, ref: int) -> Enquiry:
    """The enquiry `ref`, or UnknownEnquiry."""
    enquiry = await enquiries.get(ref)
    if enquiry is None:
        raise UnknownEnquiry(ref)
    return enquiry


class Knowledge:
    """The knowledge base in use, the matcher and conversation rules built on it, and staff's
    saved replies."""

    def __init__(
        self,
        settings: Settings,
        kb: KnowledgeBase,
        matcher: Matcher | None = None,
        saved: SavedReplies | None = None,
    ):
        self._settings = settings
        self.kb = kb
        self.matcher = matcher or Matcher(kb, settings.matcher)
        self.conversation = Conversation(kb)
        self.saved = (
            saved if saved is not None else load_saved_replies(settings.staff.saved_replies)
        )

    def reload(self) -> KnowledgeBase:
        """Load the knowledge base and the saved replies again (raises KnowledgeError or
        SavedRepliesError, keeping the old ones)."""
        kb = load_knowledge(self._settings.knowledge.path)
        saved = load_saved_replies(self._settings.staff.saved_replies)
        self.matcher = Matcher(kb, self._settings.matcher)
        self.conversation = Conversation(kb)
        self.kb = kb
        self.saved = saved
        return kb


@dataclass(frozen=True)
class StaffNotices:
    """Outbox drafts for the staff chat (in `words`' language; none when no staff chat is
    configured) and for users about their enquiries (in each enquiry's language)."""

    chat_id: int
    hours: OfficeHours
    words: StaffTexts = stafftexts.JA
    autoclose_days: int = 0
    follow_up_window_s: float = 0.0

    def to_staff(
        self, kind: Kind, text: str, buttons: Buttons = (), merge: str = "", delay_s: float = 0
    ) -> list[Draft]:
        """One message for the staff chat, in the enquiry's thread unless it announces it."""
        if not self.chat_id:
            return []  # no staff chat configured: the enquiry waits in the queue (CLI)
        in_thread = kind is not Kind.ANNOUNCE
        return [Draft(kind, self.chat_id, text, buttons, in_thread, merge=merge, delay_s=delay_s)]

    @staticmethod
    def to_user(enquiry: Enquiry, draft: Draft) -> list[Draft]:
        """A message for the enquiry's user; none for the terminal chat, which reads staff
        replies from the store."""
        return [draft] if queued(enquiry) else []

    def then_to_user(
        self, render: Render, text: Callable[[Enquiry], str], delay_s: float = 0.0
    ) -> Render:
        """`render`'s drafts, then a message (HTML, `text` of the enquiry) for the enquiry's
        user, held `delay_s` first: queued in the same transaction (none for the terminal
        chat)."""

        def drafts(enquiry: Enquiry) -> list[Draft]:
            told = Draft(Kind.TO_USER, enquiry.chat_id, text(enquiry), delay_s=delay_s)
            return [*render(enquiry), *self.to_user(enquiry, told)]

        return drafts

    def announce(self, enquiry: Enquiry) -> list[Draft]:
        """A new enquiry, with its buttons."""
        text = staffview.announcement(enquiry, self.hours, self.words)
        return self.to_staff(Kind.ANNOUNCE, text, staffview.enquiry_buttons(enquiry, self.words))

    def remind(self, enquiry: Enquiry) -> list[Draft]:
        """An enquiry waiting too long, announced again."""
        text = staffview.announcement(enquiry, self.hours, self.words, reminder=True)
        return self.to_staff(Kind.REMINDER, text, staffview.enquiry_buttons(enquiry, self.words))

    def follow_up(self, text: str, after_reply: bool = False) -> Render:
        """What the user wrote again, for the enquiry's thread (`after_reply`: staff had
        answered before it arrived): held for the follow-up window, and added to a follow-up
        of the same enquiry still queued, under the same heading, rather than sent again."""
        return lambda enquiry: self.to_staff(
            Kind.FOLLOW_UP,
            staffview.follow_up(enquiry, text, self.words, after_reply),
            merge=staffview.follow_up_more(text),
            delay_s=self.follow_up_window_s,
        )

    def sent_to_user(self, ref: int, saved_reply: str = "") -> list[Draft]:
        """After a reply from the staff chat: "Sent to the user" (naming the saved reply, if
        it was one) in the enquiry's thread."""
        if saved_reply:
            sent = html.escape(self.words.saved_reply_sent.format(key=saved_reply, ref=ref))
        else:
            sent = self.words.sent_to_user.format(ref=ref)
        return self.to_staff(Kind.NOTICE, sent)

    def user_edited(self, text: str) -> Render:
        """A user's edit of a message staff have, for the enquiry's thread."""
        return lambda enquiry: self.to_staff(
            Kind.FOLLOW_UP, staffview.user_edited(enquiry, text, self.words)
        )

    def user_attachment(self, media: Media, caption: str, source: Source) -> Render:
        """A user's attachment, copied into the enquiry's thread with who sent it."""

        def render(enquiry: Enquiry) -> list[Draft]:
            if not self.chat_id:
                return []
            header = staffview.attachment_header(enquiry, media, self.words)
            if media.type in WITHOUT_CAPTION:  # said first, then the copy threads under it
                copy = Draft(Kind.COPY, self.chat_id, "", in_thread=True, copy_of=source)
                return [*self.to_staff(Kind.FOLLOW_UP, header), copy]
            text = staffview.with_caption(header, caption)
            return [Draft(Kind.COPY, self.chat_id, text, in_thread=True, copy_of=source)]

        return render

    def state_changed(self, by: str, event: Event | None = None) -> Render:
        """A short note after claim / resolve / reopen."""
        return lambda enquiry: self.to_staff(
            Kind.NOTICE, staffview.state_changed(enquiry, by, self.words, event)
        )

    def keyboard(self, before: Enquiry, enquiry: Enquiry) -> list[Draft]:
        """The announcement's buttons as the enquiry now is (claimed by, resolve/reopen),
        when a change of state changed them."""
        buttons = staffview.enquiry_buttons(enquiry, self.words)
        if buttons == staffview.enquiry_buttons(before, self.words):
            return []
        return self.to_staff(Kind.KEYBOARD, "", staffview.enquiry_buttons(enquiry, self.words))

    def resolved(self, enquiry: Enquiry, event: Event, ask: bool) -> list[Draft]:
        """What a close owes the user: the rating question once, with the auto-close note."""
        if event is Event.AUTOCLOSE:
            text, buttons = staffview.autoclosed_to_user(enquiry, self.autoclose_days, ask)
            note = self.to_staff(
                Kind.NOTICE,
                self.words.autoclosed.format(ref=enquiry.ref, days=self.autoclose_days),
            )
            return note + self.to_user(enquiry, Draft(Kind.RATING, enquiry.chat_id, text, buttons))
        if not ask:
            return []
        text, buttons = staffview.rating_question(enquiry)
        return self.to_user(enquiry, Draft(Kind.RATING, enquiry.chat_id, text, buttons))

    def rated(self, score: int) -> Render:
        """A user's rating, for the thread."""
        return lambda enquiry: self.to_staff(
            Kind.NOTICE, staffview.rated(enquiry, score, self.words)
        )

    def commented(self, comment: str) -> Render:
        """A user's comment on the answer, for the thread."""
        return lambda enquiry: self.to_staff(
            Kind.NOTICE, staffview.commented(enquiry, comment, self.words)
        )

    def merged(self, merged: Enquiry) -> Render:
        """After /merge: a note in both threads, and the user told which number to use."""

        def render(into: Enquiry) -> list[Draft]:
            text = self.words.merged_notice.format(merged=merged.ref, into=into.ref)
            user = staffview.merged_to_user(into, merged.ref)
            return self.to_staff(Kind.NOTICE, text) + self.to_user(
                into, Draft(Kind.TO_USER, into.chat_id, user)
            )

        return render

    def failure_notice(self, item: OutboxItem, reason: str) -> Render | None:
        """For the outbox worker: tell the staff thread when a reply, a copy or an edit did
        not reach its chat."""
        if item.kind not in (Kind.REPLY, Kind.COPY, Kind.EDIT):
            return None
        if item.chat_id == self.chat_id:  # a user's attachment that could not be copied here
            text = self.words.copy_failed.format(ref=item.ref, reason=html.escape(reason))
            return lambda enquiry: self.to_staff(Kind.NOTICE, text)
        return lambda enquiry: self.to_staff(
            Kind.NOTICE, staffview.delivery_failed(enquiry.ref, reason, self.words)
        )
