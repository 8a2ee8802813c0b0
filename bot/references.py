"""The enquiry a message of the bot's is about, read from the `#N` its text shows.

The bot records the id of every message it sends about an enquiry, so that a reply to one
joins that enquiry. A message whose id was never recorded (Telegram delivered it but the
answer never reached the bot, so the retry sent a second copy) can still be tied: the
reply's update carries the quoted message's text (or caption), and every such text names
its enquiry in a fixed place, in either language. Only those places count: a `#5` inside a
user's own words, or in a list of enquiries, ties nothing.

The patterns are made from the templates themselves (bot.stafftexts, bot.texts), so a
reworded template still ties.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot import stafftexts, texts
from bot.markup import strip_tags

_REF = "#([0-9]{1,12})"
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")

_BEFORE = 20  # characters of a user template's fixed text before `#{ref}` that must match
_AFTER = 10  # and after it (up to its next placeholder)


def _literal(text: str) -> str:
    """A template's text as a pattern: its words as they are, its placeholders as anything."""
    return ".*?".join(re.escape(piece) for piece in _PLACEHOLDER.split(text))


def _heading(template: str, field: str = "ref") -> re.Pattern[str]:
    """A staff-chat message that starts with `template`: the number in its `#{field}`."""
    before, _, after = strip_tags(template).partition(f"#{{{field}}}")
    return re.compile(f"^{_literal(before)}{_REF}{_literal(after)}", re.S)


def _among_words(template: str, field: str = "ref") -> re.Pattern[str]:
    """Anywhere in a message: `template`'s `#{field}` between the fixed words around it
    (those before, as Japanese puts "お問い合わせ #N" in several templates, are not enough)."""
    before, _, after = strip_tags(template).partition(f"#{{{field}}}")
    fixed_before = _PLACEHOLDER.split(before)[-1][-_BEFORE:]
    fixed_after = _PLACEHOLDER.split(after)[0][:_AFTER]
    return re.compile(re.escape(fixed_before) + _REF + re.escape(fixed_after))


def _staff_patterns(words: stafftexts.StaffTexts) -> list[re.Pattern[str]]:
    headings = (
        words.new_enquiry,
        words.still_waiting,
        words.wrote_again,
        words.wrote_again_after_reply,
        words.edited,
        words.sent_attachment,
        words.delivery_failed,
        words.copy_failed,
        words.state_changed,
        words.open_again,
        words.rated,
        words.commented,
        words.autoclosed,
        words.show_header,  # /show N
        words.sent_to_user,
        words.saved_reply_sent,
        words.note_saved,
        words.empty_reply,
        words.unsupported,
        words.file_too_big,
        words.caption_too_long,
    )
    return [*map(_heading, headings), _heading(words.merged_notice, "into")]


def _user_patterns(words: texts.Texts) -> list[re.Pattern[str]]:
    about_one = (
        words.escalated,
        words.followed_up,
        words.already_forwarded,
        words.staff_reply,  # a staff answer, and the caption of a staff attachment
        words.attachment_added,
        words.rating_question,
        words.autoclosed,
    )
    return [*map(_among_words, about_one), _among_words(words.merged, "into")]


#: The messages the bot sends into the staff chat about one enquiry (plain text, as a reply's
#: quoted message shows it), in both staff languages: announcement, reminder, follow-ups,
#: attachments, notices, confirmations.
STAFF_PATTERNS = tuple(
    pattern
    for language in stafftexts.STAFF_LANGUAGES
    for pattern in _staff_patterns(stafftexts.get(language))
)

#: What users get about an enquiry, in both languages: the acknowledgements, a staff answer,
#: the rating question, the notes that it was closed or merged.
USER_PATTERNS = tuple(pattern for words in texts.ALL for pattern in _user_patterns(words))


def _first(patterns: Iterable[re.Pattern[str]], text: str) -> int | None:
    """The number of the earliest match in `text` (a heading beats a `#N` quoted below it)."""
    found = [match for pattern in patterns if (match := pattern.search(text))]
    return int(min(found, key=lambda match: match.start())[1]) if found else None


def in_staff_message(text: str | None) -> int | None:
    """The enquiry a staff-chat message of the bot's is about, if its text names one."""
    return _first(STAFF_PATTERNS, text) if text else None


def in_user_message(text: str | None) -> int | None:
    """The enquiry a message of the bot's to a user is about, if its text names one."""
    return _first(USER_PATTERNS, text) if text else None
