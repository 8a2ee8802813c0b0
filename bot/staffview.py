"""What the staff workflow says, in the staff chat and to users, as HTML text and button specs.

Every function takes the `StaffTexts` (bot.stafftexts) of the language to speak. Everything a
person wrote is escaped here, once, so no handler has to remember to. Buttons are (label,
callback data) pairs, the data built by bot.callback_data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot import texts
from bot.callback_data import Rate, StaffAction, StaffButton
from bot.markup import shorten, visible_length
from bot.media import caption_room
from bot.stafftexts import StaffTexts
from bot.storage.records import (
    CLAIMABLE_STATES,
    Author,
    Buttons,
    Enquiry,
    Event,
    Media,
    Message,
    MessageKind,
    Rating,
    State,
    Stats,
)
from bot.workhours import OfficeHours

PREVIEW = 3000  # leaves room for the rest of a message within 4096 characters


def callback(action: StaffAction, number: int, key: str = "") -> str:
    """Callback data for a staff button."""
    return StaffButton(action, number, key).data


def language_name(code: str | None, words: StaffTexts) -> str:
    """The language an enquiry was written in, for staff: "English", "日本語"."""
    name = words.language_names.get((code or "")[:2])
    return name or html.escape(code or words.unknown_language)


def who(enquiry: Enquiry, words: StaffTexts) -> str:
    """Name, @username and user id, escaped."""
    parts = [html.escape(enquiry.name or words.no_name)]
    if enquiry.username:
        parts.append(f"@{html.escape(enquiry.username)}")
    parts.append(f"id {enquiry.user_id}")
    return ", ".join(parts)


def local_time(moment: datetime, hours: OfficeHours, language: str = "en") -> str:
    """A moment in the office's time zone: 'Mon 23 Nov 16:15 JST', '11月23日（月）16:15 JST'."""
    return texts.format_time(moment, hours, language)


def enquiry_buttons(enquiry: Enquiry, words: StaffTexts) -> Buttons:
    """Claim (or who has it) / Resolve (or Reopen) / Add to knowledge base / Saved replies."""
    ref = enquiry.ref
    row: list[tuple[str, str]] = []
    if enquiry.merged_into is not None:
        return ()
    if enquiry.assignee is not None and enquiry.is_open:
        name = html.unescape(shorten(enquiry.assignee_name or str(enquiry.assignee), 24))
        row.append((words.button_claimed_by.format(name=name), callback(StaffAction.WHO, ref)))
    elif enquiry.state in CLAIMABLE_STATES:
        row.append((words.button_claim, callback(StaffAction.CLAIM, ref)))
    if enquiry.is_open:
        row.append((words.button_resolve, callback(StaffAction.RESOLVE, ref)))
    else:
        row.append((words.button_reopen, callback(StaffAction.REOPEN, ref)))
    rows = [tuple(row)]
    second: list[tuple[str, str]] = []
    if enquiry.is_open:
        second.append((words.button_saved_replies, callback(StaffAction.SAVED_MENU, ref)))
    if not enquiry.kb_suggested:
        second.append((words.button_add_to_kb, callback(StaffAction.ADD_TO_KB, ref)))
    if second:
        rows.append(tuple(second))
    return tuple(rows)


def saved_reply_buttons(ref: int, keys: Sequence[tuple[str, str]], words: StaffTexts) -> Buttons:
    """The most used saved replies as buttons (key, title), and a way back."""
    rows = [((title, callback(StaffAction.SEND_SAVED, ref, key)),) for key, title in keys]
    rows.append(((words.button_back, callback(StaffAction.BACK, ref)),))
    return tuple(rows)


def considered(enquiry: Enquiry, words: StaffTexts, limit: int = 3) -> str:
    """The closest entries the bot considered, with their ids and scores (0-100)."""
    return (
        ", ".join(
            f"{html.escape(c.title)} [{html.escape(c.entry_id)}] ({c.score:.0f})"
            for c in enquiry.candidates[:limit]
        )
        or words.nothing_close
    )


def why(enquiry: Enquiry, words: StaffTexts) -> str | None:
    """Why it went to staff: the reason code and the reason in words, if recorded."""
    if not (enquiry.reason or enquiry.code):
        return None
    code = f"[{html.escape(enquiry.code)}] " if enquiry.code else ""
    return words.why_line.format(why=f"{code}{html.escape(enquiry.reason)}")


def announcement(
    enquiry: Enquiry, hours: OfficeHours, words: StaffTexts, reminder: bool = False
) -> str:
    """The staff-chat message for a new (or re-announced) enquiry."""
    head = (words.still_waiting if reminder else words.new_enquiry).format(ref=enquiry.ref)
    lines = [
        head,
        words.from_line.format(
            who=who(enquiry, words), language=language_name(enquiry.language, words)
        ),
        words.when_line.format(when=local_time(enquiry.created_at, hours, words.language)),
        f"<blockquote>{html.escape(shorten(enquiry.text, PREVIEW))}</blockquote>",
        words.considered_line.format(considered=considered(enquiry, words)),
    ]
    if (reason := why(enquiry, words)) is not None:
        lines.append(reason)
    lines.append(words.reply_hint.format(ref=enquiry.ref))
    return "\n".join(lines)


def follow_up(enquiry: Enquiry, text: str, words: StaffTexts, after_reply: bool = False) -> str:
    """A user's follow-up, for the staff thread; `after_reply` when staff had answered."""
    return follow_up_head(enquiry, words, after_reply) + follow_up_more(text)


def follow_up_head(enquiry: Enquiry, words: StaffTexts, after_reply: bool = False) -> str:
    """The line a follow-up starts with: who wrote again about which enquiry."""
    again = words.wrote_again_after_reply if after_reply else words.wrote_again
    return again.format(ref=enquiry.ref, who=who(enquiry, words))


def follow_up_more(text: str) -> str:
    """One more follow-up, added to the previous one while it waits to be sent."""
    return f"\n<blockquote>{html.escape(shorten(text, PREVIEW))}</blockquote>"


def user_edited(enquiry: Enquiry, text: str, words: StaffTexts) -> str:
    """A user's edit of a message staff already have, for the staff thread."""
    quoted = html.escape(shorten(text, PREVIEW))
    head = words.edited.format(ref=enquiry.ref, who=who(enquiry, words))
    return f"{head}\n<blockquote>{quoted}</blockquote>"


def attachment_header(enquiry: Enquiry, media: Media, words: StaffTexts) -> str:
    """The first line of a user's attachment copied into the staff thread."""
    what = words.media.get(media.type, media.type)
    return words.sent_attachment.format(ref=enquiry.ref, who=who(enquiry, words), what=what)


def with_caption(header: str, caption: str) -> str:
    """A relayed caption: the header (HTML), then the person's caption, escaped and cut to fit
    Telegram's 1,024 characters (the full text is stored)."""
    if not caption:
        return header
    room = caption_room(header) - 1  # the newline
    return f"{header}\n{html.escape(shorten(caption, max(room, 1)))}"


def header_length(header: str) -> int:
    """Characters a relay header takes of a caption (as Telegram counts them)."""
    return visible_length(header) + 1


def staff_reply_to_user(ref: int, language: str | None, text: str) -> str:
    """A staff answer to enquiry `ref` relayed to the user, attributed to CLAIR staff, in the
    enquiry's language."""
    return f"{staff_reply_header(ref, language)}\n{html.escape(text)}"


def staff_reply_header(ref: int, language: str | None) -> str:
    """The first line of everything staff send a user about enquiry `ref`."""
    return texts.get(language).staff_reply.format(ref=ref)


def rating_question(enquiry: Enquiry) -> tuple[str, Buttons]:
    """ "Did this answer your question?" with 1-5 buttons, in the user's language."""
    words = texts.get(enquiry.language)
    buttons = tuple((str(n), Rate(enquiry.ref, n).data) for n in range(1, 6))
    return words.rating_question.format(ref=enquiry.ref), (buttons,)


def autoclosed_to_user(enquiry: Enquiry, days: int, ask: bool) -> tuple[str, Buttons]:
    """The user is told an enquiry was closed and how to reopen it (and asked to rate it)."""
    words = texts.get(enquiry.language)
    text = words.autoclosed.format(ref=enquiry.ref, days=days)
    if not ask:
        return text, ()
    question, buttons = rating_question(enquiry)
    return f"{text}\n\n{question}", buttons


def merged_to_user(enquiry: Enquiry, merged: int) -> str:
    """The user is told two of their enquiries are now one."""
    return texts.get(enquiry.language).merged.format(merged=merged, into=enquiry.ref)


def delivery_failed(ref: int, reason: str, words: StaffTexts) -> str:
    """Told in the staff thread when a reply could not reach the user."""
    return words.delivery_failed.format(ref=ref, reason=html.escape(reason))


def state_changed(enquiry: Enquiry, by: str, words: StaffTexts, event: Event | None = None) -> str:
    """A short note in the staff thread after claim / resolve / reopen."""
    if event is Event.REOPEN:
        return words.open_again.format(ref=enquiry.ref, by=html.escape(by))
    state = words.states[enquiry.state]
    return words.state_changed.format(ref=enquiry.ref, state=state, by=html.escape(by))


def rated(enquiry: Enquiry, score: int, words: StaffTexts) -> str:
    """A user's rating, for the staff thread."""
    return words.rated.format(ref=enquiry.ref, score=score)


def commented(enquiry: Enquiry, comment: str, words: StaffTexts) -> str:
    """A user's comment on the answer, for the staff thread."""
    head = words.commented.format(ref=enquiry.ref)
    return f"{head}\n<blockquote>{html.escape(shorten(comment, PREVIEW))}</blockquote>"


def show(
    enquiry: Enquiry,
    messages: Sequence[Message],
    hours: OfficeHours,
    words: StaffTexts,
    rating: Rating | None = None,
) -> str:
    """One enquiry with its whole thread (notes, attachments, edits), for /show."""
    language = words.language
    head = words.show_header.format(ref=enquiry.ref, state=words.states[enquiry.state])
    if enquiry.assignee:
        head += words.claimed_by.format(
            name=html.escape(enquiry.assignee_name or str(enquiry.assignee))
        )
    if enquiry.merged_into is not None:
        head += words.merged_into.format(ref=enquiry.merged_into)
    lines = [
        head,
        words.from_line.format(
            who=who(enquiry, words), language=language_name(enquiry.language, words)
        ),
        words.opened.format(when=local_time(enquiry.created_at, hours, language)),
        words.considered_line.format(considered=considered(enquiry, words, limit=5)),
    ]
    if (reason := why(enquiry, words)) is not None:
        lines.append(reason)
    if rating is not None:
        if rating.score is None:
            lines.append(words.rating_asked)
        else:
            comment = f": {html.escape(rating.comment)}" if rating.comment else ""
            lines.append(words.rating_line.format(score=rating.score, comment=comment))
    answered = False  # marks what the user wrote after staff's first reply
    for message in messages:
        name = html.escape(message.author_name)
        if message.kind is MessageKind.NOTE:
            author = words.author_note.format(name=name)
        elif message.author is Author.USER:
            author = words.author_user_after_reply if answered else words.author_user
        else:
            author = words.author_staff.format(name=name)
            answered = answered or message.is_staff_reply
        if message.kind is MessageKind.EDIT:
            author += f", {words.edited_mark}"
        when = local_time(message.created_at, hours, language)
        body = html.escape(message.text)
        if message.media is not None:
            what = words.media.get(message.media.type, message.media.type)
            name_part = (
                f" {html.escape(message.media.file_name)}" if message.media.file_name else ""
            )
            body = f"[{what}{name_part}] {body}".rstrip()
        lines.append(f"- {author}, {when}:\n{body}")
    return "\n".join(lines)


def queue_page(
    enquiries: Sequence[Enquiry],
    total: int,
    page: int,
    per_page: int,
    now: datetime,
    words: StaffTexts,
    view: str = "",
) -> tuple[str, Buttons]:
    """One page of enquiries, oldest first, with their age, and paging buttons; `view` is
    the filter ("mine", a state), empty for every open enquiry."""
    heading = words.queue_titles[view or "open"]
    if not total:
        return words.queue_empty.format(title=heading), ()
    pages = (total + per_page - 1) // per_page
    lines = [words.queue_header.format(title=heading, total=total, page=page + 1, pages=pages)]
    for enquiry in enquiries:
        lines.append(
            words.queue_line.format(
                ref=enquiry.ref,
                state=words.states[enquiry.state],
                age=age(now - enquiry.created_at, words),
                text=html.escape(shorten(enquiry.text, 80)),
            )
        )
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append((words.button_older, callback(StaffAction.QUEUE_PAGE, page - 1, view)))
    if page + 1 < pages:
        nav.append((words.button_newer, callback(StaffAction.QUEUE_PAGE, page + 1, view)))
    return "\n".join(lines), ((tuple(nav),) if nav else ())


def saved_reply_list(entries: Sequence[tuple[str, str, int]], words: StaffTexts) -> str:
    """/replies: each saved reply's key, title and how often it was sent."""
    if not entries:
        return words.no_saved_replies
    lines = [words.saved_replies_header]
    lines += [
        f"#{html.escape(key)} - {html.escape(title)} ({uses})" for key, title, uses in entries
    ]
    return "\n".join(lines)


def stats(figures: Stats, words: StaffTexts) -> str:
    """The /stats report."""
    say = words.stats
    days = figures.days
    counts = figures.by_state
    lines = [
        say["title"],
        say["open"].format(
            open=figures.open,
            new=counts.get(State.NEW, 0),
            claimed=counts.get(State.CLAIMED, 0),
            pending=counts.get(State.PENDING, 0),
        ),
    ]
    if figures.first_reply_median_h is None or figures.first_reply_p90_h is None:
        lines.append(say["no_replies"].format(days=days))
    else:
        lines.append(
            say["first_reply"].format(
                days=days,
                median=say["hours"].format(hours=figures.first_reply_median_h),
                p90=say["hours"].format(hours=figures.first_reply_p90_h),
            )
        )
    lines.append(
        say["answered"].format(today=figures.answered_today, week=figures.answered_this_week)
    )
    share = figures.bot_share
    if share is None:
        lines.append(say["no_questions"].format(days=days))
    else:
        lines.append(
            say["bot_share"].format(
                days=days,
                share=f"{share:.0%}",
                bot=figures.answered_by_bot,
                total=figures.answered_by_bot + figures.escalated,
            )
        )
    average = figures.rating_average
    asked = figures.ratings_asked
    if average is None:
        lines.append(say["no_ratings"].format(days=days, asked=asked))
    else:
        spread = " ".join(f"{s}★×{figures.ratings.get(s, 0)}" for s in range(5, 0, -1))
        count = sum(figures.ratings.values())
        lines.append(
            say["satisfaction"].format(
                days=days, average=f"{average:.1f}", count=count, asked=asked, spread=spread
            )
        )
    if figures.unanswered_topics:
        lines.append(say["topics"].format(days=days))
        lines += [
            f"- {html.escape(title or say['no_entry'])}: {count}"
            for title, count in figures.unanswered_topics
        ]
    return "\n".join(lines)


def age(delta: timedelta, words: StaffTexts) -> str:
    """A timedelta in rough words: '3 d', '5 h', '12 min' (or '3 日', '5 時間', '12 分')."""
    seconds = delta.total_seconds()
    days, hours, minutes = words.age_units
    if seconds >= 86400:
        return days.format(n=seconds / 86400)
    if seconds >= 3600:
        return hours.format(n=seconds / 3600)
    return minutes.format(n=max(seconds, 0) / 60)
