"""What the staff workflow says, in the staff chat and to users, as HTML text and button specs.

Everything a person wrote is escaped here, once, so no handler has to remember to. Buttons
are (label, callback data) pairs, the data built by bot.callback_data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.callback_data import StaffAction, StaffButton
from bot.language import ENGLISH, JAPANESE
from bot.markup import shorten
from bot.storage.records import (
    CLAIMABLE_STATES,
    Author,
    Buttons,
    Enquiry,
    Event,
    Message,
    Stats,
)
from bot.workhours import OfficeHours

# ------------------------------------------------------------- what the staff handlers say
REFUSED = "Sorry, that is only for CLAIR staff."
BUTTON_EXPIRED = "This button has expired."
NO_SUCH_ENQUIRY = "There is no enquiry #{ref}."
USAGE = {
    "show": "Usage: /show N (an enquiry number).",
    "claim": "Usage: /claim N (an enquiry number).",
    "resolve": "Usage: /resolve N (an enquiry number).",
    "reopen": "Usage: /reopen N (an enquiry number).",
    "reply": "Usage: /reply N your answer (sent to the user as CLAIR staff).",
}
SENT_TO_USER = "Sent to the user (#{ref})."
EMPTY_REPLY = "The reply is empty, so nothing was sent to the user (#{ref}): type the answer."
ONLY_TEXT = "Only text replies are relayed to the user (#{ref})."
RELOADED = "Knowledge base reloaded: {entries} entries."
NOT_RELOADED = "<b>The knowledge base was not reloaded</b>; the old one stays in use. Problems:"
RESOLVE_FIRST = "Resolve #{ref} first: only resolved enquiries go to the knowledge base."
ADDED_TO_KB = "#{ref} was added to the knowledge base suggestions for review."
ALREADY_IN_KB = "#{ref} was already added to the suggestions."
EXPORT_CAPTION = "Every enquiry with its thread, as CSV."
STAFF_HELP = (
    "\n\n<b>For CLAIR staff</b> (here or in the staff group)\n"
    "Reply to an enquiry's message in the staff group to answer the user.\n"
    "/queue - open enquiries, oldest first\n"
    "/show N - an enquiry with its thread\n"
    "/claim N, /resolve N, /reopen N - change its state\n"
    "/reply N text - answer the user\n"
    "/stats - figures; /export - every enquiry as CSV\n"
    "/reload - load the knowledge base again after a check"
)

PREVIEW = 3000  # leaves room for the rest of a message within 4096 characters

BUTTON_ANSWERS = {
    StaffAction.CLAIM: "#{ref} is claimed by you.",
    StaffAction.RESOLVE: "#{ref} is resolved.",
    StaffAction.REOPEN: "#{ref} is open again.",
}


def callback(action: StaffAction, number: int) -> str:
    """Callback data for a staff button."""
    return StaffButton(action, number).data


def language_name(code: str | None) -> str:
    """The language an enquiry was written in, for staff: "English", "Japanese"."""
    names = {ENGLISH: "English", JAPANESE: "Japanese"}
    return names.get((code or "")[:2], html.escape(code or "an unknown language"))


def who(enquiry: Enquiry) -> str:
    """Name, @username and user id, escaped."""
    parts = [html.escape(enquiry.name or "(no name)")]
    if enquiry.username:
        parts.append(f"@{html.escape(enquiry.username)}")
    parts.append(f"id {enquiry.user_id}")
    return ", ".join(parts)


def local_time(moment: datetime, hours: OfficeHours) -> str:
    """A moment in the office's time zone, e.g. 'Mon 23 Nov 16:15 JST'."""
    local = moment.astimezone(hours.timezone)
    return local.strftime("%a %d %b %H:%M ") + (local.tzname() or "")


def enquiry_buttons(enquiry: Enquiry) -> Buttons:
    """Claim / Resolve (or Reopen) / Add to knowledge base, as fits the enquiry's state."""
    row: list[tuple[str, str]] = []
    if enquiry.state in CLAIMABLE_STATES:
        row.append(("Claim", callback(StaffAction.CLAIM, enquiry.ref)))
    if enquiry.is_open:
        row.append(("Resolve", callback(StaffAction.RESOLVE, enquiry.ref)))
    else:
        row.append(("Reopen", callback(StaffAction.REOPEN, enquiry.ref)))
    if not enquiry.kb_suggested:
        row.append(("Add to knowledge base", callback(StaffAction.ADD_TO_KB, enquiry.ref)))
    return (tuple(row),) if row else ()


def considered(enquiry: Enquiry, limit: int = 3) -> str:
    """The closest entries the bot considered, with their scores (0-100)."""
    return (
        ", ".join(
            f"{html.escape(c.title)} [{html.escape(c.entry_id)}] ({c.score:.0f})"
            for c in enquiry.candidates[:limit]
        )
        or "nothing close"
    )


def why(enquiry: Enquiry) -> str | None:
    """Why it went to staff: the reason code and the reason in words, if recorded."""
    if not (enquiry.reason or enquiry.code):
        return None
    code = f"[{html.escape(enquiry.code)}] " if enquiry.code else ""
    return f"Why it was forwarded: {code}{html.escape(enquiry.reason)}"


def announcement(enquiry: Enquiry, hours: OfficeHours, reminder: bool = False) -> str:
    """The staff-chat message for a new (or re-announced) enquiry."""
    head = (
        f"⏰ Still waiting: <b>#{enquiry.ref}</b>"
        if reminder
        else f"<b>#{enquiry.ref}</b> new enquiry"
    )
    lines = [
        head,
        f"From: {who(enquiry)} · wrote in {language_name(enquiry.language)}",
        f"When: {local_time(enquiry.created_at, hours)}",
        f"<blockquote>{html.escape(shorten(enquiry.text, PREVIEW))}</blockquote>",
        f"Bot considered: {considered(enquiry)}",
    ]
    if (reason := why(enquiry)) is not None:
        lines.append(reason)
    lines.append(f"Reply to this message to answer the user, or use /reply {enquiry.ref} text.")
    return "\n".join(lines)


def follow_up(enquiry: Enquiry, text: str, after_reply: bool = False) -> str:
    """A user's follow-up, for the staff thread; `after_reply` when staff had answered."""
    quoted = html.escape(shorten(text, PREVIEW))
    when = " after staff's reply" if after_reply else ""
    return (
        f"<b>#{enquiry.ref}</b> {who(enquiry)} wrote again{when}:\n"
        f"<blockquote>{quoted}</blockquote>"
    )


def staff_reply_to_user(ref: int, text: str) -> str:
    """A staff answer to enquiry `ref` relayed to the user, attributed to CLAIR staff."""
    return f"<b>CLAIR staff</b> (about your enquiry #{ref}):\n{html.escape(text)}"


def delivery_failed(ref: int, reason: str) -> str:
    """Told in the staff thread when a reply could not reach the user."""
    return (
        f"⚠️ <b>#{ref}</b>: the reply could not be delivered to the user ({html.escape(reason)})."
    )


def state_changed(enquiry: Enquiry, by: str, event: Event | None = None) -> str:
    """A short note in the staff thread after claim / resolve / reopen."""
    if event is Event.REOPEN:
        return f"<b>#{enquiry.ref}</b> is open again ({html.escape(by)})."
    return f"<b>#{enquiry.ref}</b> is now {enquiry.state.value} ({html.escape(by)})."


def show(enquiry: Enquiry, messages: Sequence[Message], hours: OfficeHours) -> str:
    """One enquiry with its whole thread, for /show and `clair-bot queue show`."""
    lines = [
        f"<b>#{enquiry.ref}</b> · {enquiry.state.value}"
        + (f" · claimed by {enquiry.assignee}" if enquiry.assignee else ""),
        f"From: {who(enquiry)}",
        f"Opened: {local_time(enquiry.created_at, hours)}",
        f"Bot considered: {considered(enquiry, limit=5)}",
    ]
    if (reason := why(enquiry)) is not None:
        lines.append(reason)
    answered = False
    for message in messages:
        if message.author is Author.STAFF:
            answered = True
            author = f"staff ({html.escape(message.author_name)})"
        else:
            author = "user, after staff's reply" if answered else "user"
        when = local_time(message.created_at, hours)
        lines.append(f"- {author}, {when}:\n{html.escape(message.text)}")
    return "\n".join(lines)


def queue_page(
    enquiries: Sequence[Enquiry], total: int, page: int, per_page: int, now: datetime
) -> tuple[str, Buttons]:
    """One page of open enquiries, oldest first, with their age, and paging buttons."""
    if not total:
        return "The queue is empty: no open enquiries.", ()
    pages = (total + per_page - 1) // per_page
    lines = [f"<b>Open enquiries</b> ({total}), page {page + 1} of {pages}, oldest first:"]
    for enquiry in enquiries:
        lines.append(
            f"<b>#{enquiry.ref}</b> {enquiry.state.value}, {age(now - enquiry.created_at)} old: "
            f"{html.escape(shorten(enquiry.text, 80))}"
        )
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append(("‹ Older", callback(StaffAction.QUEUE_PAGE, page - 1)))
    if page + 1 < pages:
        nav.append(("Newer ›", callback(StaffAction.QUEUE_PAGE, page + 1)))
    return "\n".join(lines), ((tuple(nav),) if nav else ())


def stats(figures: Stats) -> str:
    """The /stats report."""
    median = (
        age_seconds(figures.median_first_reply_s)
        if figures.median_first_reply_s is not None
        else "no replies yet"
    )
    lines = [
        "<b>Enquiry statistics</b>",
        f"Open: {figures.open}",
        f"Median time to first staff reply: {median}",
        f"Answered today: {figures.answered_today}; this week: {figures.answered_this_week}",
    ]
    if figures.unanswered_topics:
        lines.append("Most common unanswered topics (closest entry):")
        lines += [f"- {html.escape(title)}: {count}" for title, count in figures.unanswered_topics]
    return "\n".join(lines)


def age(delta: timedelta) -> str:
    """A timedelta in rough words: '3 d', '5 h', '12 min'."""
    return age_seconds(delta.total_seconds())


def age_seconds(seconds: float) -> str:
    """Seconds in rough words."""
    if seconds >= 86400:
        return f"{seconds / 86400:.0f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{max(seconds, 0) / 60:.0f} min"
