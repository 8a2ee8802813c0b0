"""The enquiry a message of the bot's is about, read from the `#N` its text shows.

The bot records the id of every message it sends about an enquiry, so that a reply to one
joins that enquiry. A message whose id was never recorded (Telegram delivered it but the
answer never reached the bot, so the retry sent a second copy) can still be tied: the
reply's update carries the quoted message's text, and every such text names its enquiry in
a fixed place. Only those places count: a `#5` inside a user's own words, or in a list of
enquiries, ties nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot import staffview, texts
from bot.markup import strip_tags

_REF = r"#([0-9]{1,12})"


_CONTEXT = 20  # characters of a template's fixed text before `#{ref}` that must match


def _patterns(templates: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """For each template: the words just before its `#{ref}`, then the number."""
    patterns = []
    for template in templates:
        if "#{ref}" not in template:
            continue
        before = strip_tags(template.split("#{ref}")[0])
        fixed = re.split(r"\{[a-z_]+\}", before)[-1][-_CONTEXT:]
        patterns.append(re.compile(re.escape(fixed) + _REF))
    return tuple(patterns)


#: The messages the bot sends into the staff chat about one enquiry (plain text, as a reply's
#: quoted message shows it): announcement, reminder, follow-up, notices, confirmations.
STAFF_PATTERNS = (
    re.compile(rf"^{_REF} new enquiry\b"),
    re.compile(rf"^⏰ Still waiting: {_REF}"),
    re.compile(rf"^{_REF} .* wrote again:"),
    re.compile(rf"^{_REF} is now \w+ \("),
    re.compile(rf"^⚠️ {_REF}: the reply could not be delivered"),
    re.compile(rf"^{_REF} · "),  # /show N
    *_patterns((staffview.SENT_TO_USER, staffview.ONLY_TEXT)),
)

#: What users get about an enquiry: the acknowledgements and a staff answer, both languages.
USER_PATTERNS = _patterns(
    (
        *(words.escalated for words in texts.ALL),
        *(words.followed_up for words in texts.ALL),
        *(words.already_forwarded for words in texts.ALL),
        staffview.USER_REPLY_HEADER,
    )
)


def _first(patterns: Iterable[re.Pattern[str]], text: str) -> int | None:
    for pattern in patterns:
        if match := pattern.search(text):
            return int(match[1])
    return None


def in_staff_message(text: str | None) -> int | None:
    """The enquiry a staff-chat message of the bot's is about, if its text names one."""
    return _first(STAFF_PATTERNS, text) if text else None


def in_user_message(text: str | None) -> int | None:
    """The enquiry a message of the bot's to a user is about, if its text names one."""
    return _first(USER_PATTERNS, text) if text else None
