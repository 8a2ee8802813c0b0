"""Attachments and edits, both ways: what is not typed text, and what was changed after.

A user's photo, file, voice note, video or location joins their enquiry (opening one, with
its caption as the question, when none is open) and is copied into the staff thread. A user
who edits a message staff already have sends the new text into the thread as "edited"; a
staff member who edits a reply that was relayed edits the user's copy. Like everything else,
each of these is stored with its outbox messages in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import media as limits
from bot import references, staffview
from bot.config import Settings
from bot.core import StaffNotices
from bot.decision import Reason
from bot.inbound import without_surrogates
from bot.language import detect_language
from bot.storage import Storage
from bot.storage.enquiries import ThreadMessage
from bot.storage.records import (
    Asker,
    Author,
    Draft,
    Enquiry,
    Kind,
    Media,
    MessageKind,
    Render,
    Source,
)
from bot.users import DailyLimitReached, cap_resets_at


class Refused(Exception):
    """An attachment past Telegram's limits; nothing was stored or relayed."""

    def __init__(self, why: limits.Refusal) -> None:
        super().__init__(why.value)
        self.why = why


@dataclass(frozen=True)
class Attached:
    """What became of a user's attachment."""

    enquiry: Enquiry
    opened: bool  # it opened a new enquiry (no open one to join)


#: What a user is told (HTML) once their attachment is stored, from its enquiry and whether
#: it opened that enquiry.
Acknowledge = Callable[[Enquiry, bool], str]

#: The question stored for an attachment sent without a caption, by kind.
UNCAPTIONED = "({kind})"


class Relay:
    """Attachments from users, and edits from either side, through the outbox."""

    def __init__(self, settings: Settings, storage: Storage, notices: StaffNotices) -> None:
        self.settings = settings
        self._enquiries = storage.enquiries
        self._outbox = storage.outbox
        self._clock = storage.clock
        self._notices = notices

    async def user_attachment(
        self,
        asker: Asker,
        media: Media,
        caption: str,
        replied_to: int | None = None,
        quoted: str | None = None,
        acknowledge: Acknowledge | None = None,
    ) -> Attached:
        """A user's attachment: into the enquiry it replies to (by the replied message's id,
        else by the `#N` of the bot's text `quoted`), else the open one, else a new one.
        `acknowledge` gives what the user is told (HTML), queued in the outbox with the
        attachment (none: they are not told, e.g. for an album's later items). Raises
        Refused past Telegram's limits, DailyLimitReached when a new one would be over
        limits.enquiries_per_day."""
        if asker.message_id is None:
            raise ValueError("an attachment is copied from its message: message_id is needed")
        caption = without_surrogates(caption)
        # The caption as the user sent it must fit; relayed under who sent it, it is shortened
        # to fit (the whole of it is stored and shown by /show).
        if (why := limits.check(media, caption)) is not None:
            raise Refused(why)
        source = Source(asker.chat_id, asker.message_id)
        render = self._notices.user_attachment(media, caption, source)
        current = None
        if replied_to is not None:
            ref = await self._enquiries.ref_for_message(asker.chat_id, replied_to)
            if ref is None:
                ref = references.in_user_message(quoted)
            current = await self._enquiries.get(ref) if ref is not None else None
            if current is not None and current.user_id != asker.user_id:
                current = None
        current = current or await self._enquiries.open_for_user(asker.user_id)
        text = caption or UNCAPTIONED.format(kind=media.type)
        if current is not None:
            enquiry = await self._enquiries.add_user_message(
                current.ref, asker, text, self._told(render, acknowledge, False), media=media
            )
            return Attached(enquiry, opened=False)
        cap = self.settings.limits.enquiries_per_day
        resets_at = await cap_resets_at(self._enquiries, asker.user_id, self._clock(), cap)
        if resets_at is not None:
            raise DailyLimitReached(resets_at)
        language = detect_language(caption, asker.language) if caption else asker.language
        asker = Asker(
            asker.user_id, asker.chat_id, asker.name, asker.username, language, asker.message_id
        )

        def announce_then_copy(enquiry: Enquiry) -> list[Draft]:
            return [*self._notices.announce(enquiry), *render(enquiry)]

        enquiry = await self._enquiries.create(
            asker,
            text,
            (),
            f"sent {media.type} to staff",
            self._told(announce_then_copy, acknowledge, True),
            Reason.ASKED_STAFF.value,
            media,
        )
        return Attached(enquiry, opened=True)

    def _told(self, render: Render, acknowledge: Acknowledge | None, opened: bool) -> Render:
        """`render`'s drafts, then the user's acknowledgement (if any): in the transaction
        that stores the attachment, with the update's record (bot.storage.updates)."""
        if acknowledge is None:
            return render
        return self._notices.then_to_user(render, lambda enquiry: acknowledge(enquiry, opened))

    async def user_edited(self, asker: Asker, text: str) -> Enquiry | None:
        """A user edited a message: if staff have it, the new text goes into the thread."""
        text = without_surrogates(text)
        original = await self._original(asker.chat_id, asker.message_id, Author.USER)
        if original is None or not text.strip():
            return None
        return await self._enquiries.add_edit(
            original, asker.user_id, text, self._notices.user_edited(text)
        )

    async def staff_edited(self, source: Source, staff_id: int, text: str) -> Enquiry | None:
        """A staff member edited a message: a relayed reply is edited in the user's chat too;
        a note's edit is kept. None when the message is not one the bot stored."""
        text = without_surrogates(text)
        original = await self._original(source.chat_id, source.message_id, Author.STAFF)
        if original is None or not text.strip():
            return None
        render: Render | None = None
        if original.message.kind is not MessageKind.NOTE:
            enquiry = await self._enquiries.get(original.ref)
            assert enquiry is not None
            relay = await self._outbox.relay_of(original.message.id, enquiry.chat_id)
            if relay is not None:
                render = _edit_render(relay, original, text)
        return await self._enquiries.add_edit(original, staff_id, text, render)

    async def _original(
        self, chat_id: int, message_id: int | None, author: Author
    ) -> ThreadMessage | None:
        if message_id is None:
            return None
        found = await self._enquiries.message_at(Source(chat_id, message_id))
        if found is None or found.message.author is not author:
            return None
        return found


def _edit_render(relay: int, original: ThreadMessage, text: str) -> Render:
    def render(enquiry: Enquiry) -> list[Draft]:
        if original.message.kind is MessageKind.ATTACHMENT:
            body = staffview.with_caption(
                staffview.staff_reply_header(enquiry.ref, enquiry.language), text
            )
        else:
            body = staffview.staff_reply_to_user(enquiry.ref, enquiry.language, text)
        return [Draft(Kind.EDIT, enquiry.chat_id, body, edit_of=relay)]

    return render
