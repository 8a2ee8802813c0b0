"""Attachments: which kinds are relayed, and Telegram's limits on them.

A photo, file, voice note, audio file, video, video message, animation or location is copied
(copyMessage) into the staff thread or to the user; stickers, polls, dice and contacts are
not. Telegram lets a bot fetch files of at most 20 MB and upload at most 50 MB, and a caption
holds at most 1,024 characters: past them the sender is told, and nothing is relayed.
"""

from __future__ import annotations

from enum import StrEnum

from bot.storage.records import Media

MB = 1024 * 1024
#: The largest file a bot may download from Telegram (getFile).
MAX_DOWNLOAD_BYTES = 20 * MB
#: The largest file a bot may upload (sendDocument, sendPhoto).
MAX_UPLOAD_BYTES = 50 * MB
#: The longest caption of a photo, file, voice note or video.
MAX_CAPTION = 1024
#: Kinds that are relayed; locations and video messages carry no caption.
RELAYED = ("photo", "document", "voice", "audio", "video", "video_note", "animation", "location")
WITHOUT_CAPTION = frozenset({"video_note", "location"})


class Refusal(StrEnum):
    """Why an attachment is not relayed."""

    TOO_BIG = "too_big"
    CAPTION_TOO_LONG = "caption_too_long"


def check(media: Media, caption: str, header: str = "") -> Refusal | None:
    """Whether `media` with `caption` (plus `header`, added when relayed) can be relayed."""
    if media.file_size is not None and media.file_size > MAX_DOWNLOAD_BYTES:
        return Refusal.TOO_BIG
    if media.type not in WITHOUT_CAPTION and len(header) + len(caption) > MAX_CAPTION:
        return Refusal.CAPTION_TOO_LONG
    return None


def caption_room(header: str) -> int:
    """How many characters of a person's caption fit after `header`."""
    return MAX_CAPTION - len(header)


def label(media: Media | None) -> str:
    """A short description for lists and the export: "photo", "document report.pdf"."""
    if media is None:
        return ""
    return f"{media.type} {media.file_name}".strip()
