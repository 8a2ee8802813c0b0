"""Attachments and edits from Telegram: what a message carries, and what to do when it changes.

A user's photo, file, voice note, video or location goes to staff (bot.relay); stickers and
other kinds get a clear line. An edited message is relayed when the bot stored the original:
a user's edit goes into the staff thread, a staff member's edit of a relayed reply edits the
user's copy.
"""

from __future__ import annotations

import html
import logging

from telegram import Message, Update
from telegram.error import BadRequest

from bot import texts
from bot.inbound import number
from bot.media import MAX_CAPTION, MAX_DOWNLOAD_BYTES, MB, Refusal
from bot.relay import Refused
from bot.storage.database import StorageUnavailable
from bot.storage.records import Enquiry, Media, Source
from bot.users import DailyLimitReached
from handlers.replies import quoted_text, send_view
from handlers.state import Context, asker_for, language_of, user_state
from handlers.views import text_view

logger = logging.getLogger(__name__)

#: Telegram's error when a bot asks for a file it may not download.
_TOO_BIG = "file is too big"


def media_of(message: Message) -> Media | None:
    """The attachment a message carries, if it is a kind that is relayed."""
    if message.photo:
        largest = message.photo[-1]
        return Media("photo", largest.file_id, largest.file_unique_id, file_size=largest.file_size)
    for kind in ("document", "voice", "audio", "video", "video_note", "animation"):
        item = getattr(message, kind)
        if item is not None:
            return Media(
                kind,
                item.file_id,
                item.file_unique_id,
                getattr(item, "file_name", None) or "",
                getattr(item, "mime_type", None) or "",
                item.file_size,
            )
    if message.location is not None:
        return Media("location")
    return None


async def with_size(context: Context, media: Media) -> Media:
    """A file whose size Telegram did not say: ask getFile, which refuses files a bot may not
    download (over 20 MB)."""
    if media.file_size is not None or not media.file_id:
        return media
    try:
        file = await context.bot.get_file(media.file_id)
    except BadRequest as exc:
        if _TOO_BIG not in exc.message.lower():
            raise
        size = MAX_DOWNLOAD_BYTES + 1
    else:
        size = file.file_size or 0
    return Media(
        media.type, media.file_id, media.file_unique_id, media.file_name, media.mime_type, size
    )


async def user_media(update: Update, context: Context) -> None:
    """A user's attachment: to staff with their enquiry (opening one if none is open)."""
    message = update.effective_message
    if message is None:
        return
    language = await language_of(update, context)
    words = texts.get(language)
    media = media_of(message)
    if media is None:
        await send_view(update, context, text_view(words.not_text))
        return
    media = await with_size(context, media)
    replied = message.reply_to_message
    core = context.bot_data.core
    state = user_state(context)
    # An album arrives as one message per item: acknowledged once, with the first.
    album = message.media_group_id
    first = album is None or album != state.last_album

    def acknowledge(enquiry: Enquiry, opened: bool) -> str:
        if opened:
            return html.escape(core.users.acknowledgement(enquiry, language))
        return html.escape(words.attachment_added.format(ref=enquiry.ref))

    try:
        attached = await core.relay.user_attachment(
            asker_for(update),
            media,
            message.caption or "",
            replied.message_id if replied is not None else None,
            quoted_text(message, context.bot.id),
            acknowledge if first else None,  # queued with the attachment, in the outbox
        )
    except Refused as exc:
        text = (
            words.file_too_big.format(limit=MAX_DOWNLOAD_BYTES // MB)
            if exc.why is Refusal.TOO_BIG
            else words.caption_too_long.format(limit=MAX_CAPTION)
        )
        await send_view(update, context, text_view(text))
        return
    except DailyLimitReached as over:
        notice = core.users.limit_notice(over.resets_at, language)
        await send_view(update, context, text_view(notice))
        return
    except StorageUnavailable:  # the database logged why, once
        logger.info("an attachment for staff was not stored: the database takes no writes")
        await send_view(update, context, text_view(words.cannot_forward))
        return
    state.last_album = album
    logger.info("enquiry #%d: a %s from the user", attached.enquiry.ref, media.type)


async def edited(update: Update, context: Context) -> None:
    """An edited message: relayed if the bot stored the original (either side)."""
    message, user = update.edited_message, update.effective_user
    if message is None or user is None:
        return
    text = message.text if message.text is not None else message.caption
    if text is None:
        return
    services = context.bot_data.core
    if services.staff.is_staff(user.id) and (
        services.staff.is_staff_chat(message.chat.id) or message.chat.id == user.id
    ):
        body = _staff_body(text)
        if body is None:
            return
        enquiry = await services.relay.staff_edited(
            Source(message.chat.id, message.message_id), user.id, body
        )
    else:
        enquiry = await services.relay.user_edited(asker_for(update), text)
    if enquiry is not None:
        logger.info("enquiry #%d: an edit was relayed", enquiry.ref)


def _staff_body(text: str) -> str | None:
    """What an edited staff message says: a command's text after its number, else all of it;
    None for a saved reply (/reply N #key), which is not edited."""
    if not text.startswith("/"):
        return text
    command, *rest = text.split(maxsplit=2)
    name = command[1:].split("@")[0].lower()
    if name not in ("reply", "note") or not rest:
        return None
    if number(rest[0]) is not None:
        body = rest[1] if len(rest) > 1 else ""
    else:
        body = text.split(maxsplit=1)[1]
    if name == "reply" and body.startswith("#") and len(body.split()) == 1:
        return None
    return body.strip() or None
