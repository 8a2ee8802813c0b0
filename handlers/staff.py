"""Handlers for CLAIR staff: queue commands, the announcement buttons, replies in the staff chat.

Staff are the user ids in staff.user_ids, acting in the staff chat or in their private chat
with the bot. Anyone else gets one polite refusal that says nothing about the queue (the
same whether or not an enquiry exists). Every text (HTML) comes from bot.staffview and
bot.stafftexts, in the language the staff member chose with /language, else staff.language.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ChatType
from telegram.ext import filters

from bot import chart, stafftexts, staffview
from bot.callback_data import StaffAction, StaffButton, parse
from bot.core import EmptyReply, EnquiryResolved, UnknownEnquiry
from bot.inbound import number
from bot.knowledge import KnowledgeError
from bot.markup import split_html
from bot.media import MAX_CAPTION, MAX_DOWNLOAD_BYTES, MAX_UPLOAD_BYTES, MB, Refusal
from bot.relay import Refused
from bot.savedreplies import SavedRepliesError
from bot.stafftexts import StaffTexts
from bot.staffwork import MergeProblem, MergeRefused, UnknownSavedReply, is_queue_view
from bot.storage.records import Event, Media, Source
from handlers.delivery import ButtonRows, keyboard
from handlers.media import media_of
from handlers.replies import (
    MessageGone,
    edit_view,
    quoted_text,
    record_thread,
    send_view,
    set_keyboard,
)
from handlers.state import Context, language_of
from handlers.views import View, escaped_parts

logger = logging.getLogger(__name__)

PER_PAGE = 10

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


class StaffChat(filters.MessageFilter):
    """Passes messages in the staff chat (none when no staff chat is configured)."""

    def __init__(self, chat_id: int) -> None:
        super().__init__(name=f"StaffChat({chat_id})")
        self.chat_id = chat_id

    def filter(self, message: Message) -> bool:
        """Whether the message was sent in the staff chat."""
        return bool(self.chat_id) and message.chat.id == self.chat_id


def may_act(context: Context, user_id: int | None, chat_id: int | None, chat_type: str) -> bool:
    """A staff member, in the staff chat or in their own private chat with the bot."""
    return context.bot_data.core.staff.may_act(user_id, chat_id, chat_type == ChatType.PRIVATE)


async def words_for(update: Update, context: Context) -> StaffTexts:
    """The staff texts for the member of staff behind an update."""
    user = update.effective_user
    return await context.bot_data.core.staff.words_for(user.id if user else None)


async def _say(
    update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Reply in the update's chat (and forum topic) with one HTML message."""
    sent = await send_view(update, context, View((text,), markup))
    return sent[0] if sent else None


def staff_only(handler: Handler) -> Handler:
    """Run `handler` for staff where staff may act; refuse everyone else the same way, in
    their own language."""

    @wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        user, chat = update.effective_user, update.effective_chat
        if chat is None:
            return
        if not may_act(context, user.id if user else None, chat.id, chat.type):
            words = stafftexts.get(await language_of(update, context))
            await _say(update, context, html.escape(words.refused))
            return
        await handler(update, context)

    return guarded


def _number(text: str | None) -> int | None:
    return number(text) if text else None


def _staff(update: Update) -> tuple[int, str]:
    user = update.effective_user
    if user is None:
        raise ValueError(f"update {update.update_id} has no sender")
    return user.id, user.full_name


def _source(update: Update) -> Source | None:
    message = update.effective_message
    return Source(message.chat.id, message.message_id) if message is not None else None


async def _send_parts(update: Update, context: Context, text: str) -> None:
    await send_view(update, context, View(tuple(split_html(text))))


async def _thread_of(update: Update, context: Context) -> int | None:
    """The enquiry a message in the staff chat belongs to: by the message it replies to (its
    recorded id, else the `#N` its text shows, for a copy the bot never recorded), or by its
    forum topic."""
    message = update.effective_message
    if message is None:
        return None
    replied = message.reply_to_message
    topic = message.message_thread_id if message.is_topic_message else None
    return await context.bot_data.core.staff.thread_ref(
        message.chat.id,
        replied.message_id if replied is not None else None,
        topic,
        quoted_text(message, context.bot.id),
    )


# -------------------------------------------------------------------------------- commands
@staff_only
async def queue(update: Update, context: Context) -> None:
    """/queue [mine|new|claimed|pending|resolved]: enquiries, oldest first, ten a page."""
    words = await words_for(update, context)
    view = (context.args or [""])[0].lower() if context.args else ""
    if not is_queue_view(view):
        await _say(update, context, html.escape(words.usage["queue"]))
        return
    await _send_queue(update, context, words, 0, view)


async def _send_queue(
    update: Update, context: Context, words: StaffTexts, page: int, view: str, edit: bool = False
) -> None:
    service = context.bot_data.core.staff
    staff_id, _ = _staff(update)
    enquiries, total = await service.queue(page, PER_PAGE, view, staff_id)
    if page and not enquiries:  # the queue shrank since: back to the first page
        page = 0
        enquiries, total = await service.queue(0, PER_PAGE, view, staff_id)
    text, buttons = staffview.queue_page(
        enquiries, total, page, PER_PAGE, service.now(), words, view
    )
    if edit:
        await edit_view(update, context, View((text,), keyboard(buttons)))  # may be MessageGone
    else:
        await _say(update, context, text, keyboard(buttons))


@staff_only
async def show(update: Update, context: Context) -> None:
    """/show N: an enquiry, its rating and its whole thread (notes included)."""
    words = await words_for(update, context)
    if (ref := _number((context.args or [""])[0] if context.args else None)) is None:
        await _say(update, context, html.escape(words.usage["show"]))
        return
    service = context.bot_data.core.staff
    try:
        enquiry, messages, rating = await service.show(ref)
    except UnknownEnquiry:
        await _say(update, context, words.no_such_enquiry.format(ref=ref))
        return
    await _send_parts(
        update, context, staffview.show(enquiry, messages, service.hours, words, rating)
    )


async def _change_state(update: Update, context: Context, command: str) -> None:
    words = await words_for(update, context)
    if (ref := _number((context.args or [""])[0] if context.args else None)) is None:
        await _say(update, context, html.escape(words.usage[command]))
        return
    service = context.bot_data.core.staff
    staff_id, name = _staff(update)
    event = {"claim": Event.CLAIM, "resolve": Event.RESOLVE, "reopen": Event.REOPEN}[command]
    try:
        enquiry = await service.change(event, ref, staff_id, name)
    except UnknownEnquiry:
        await _say(update, context, words.no_such_enquiry.format(ref=ref))
        return
    logger.info("enquiry #%d: %s by staff %d", ref, enquiry.state.value, staff_id)
    chat = update.effective_chat
    if chat is None or not service.is_staff_chat(chat.id):
        # In the staff group the core's notice, threaded under the enquiry, confirms it.
        await _say(update, context, staffview.state_changed(enquiry, name, words, event))


@staff_only
async def claim(update: Update, context: Context) -> None:
    """/claim N: take an enquiry on."""
    await _change_state(update, context, "claim")


@staff_only
async def resolve(update: Update, context: Context) -> None:
    """/resolve N: close an enquiry."""
    await _change_state(update, context, "resolve")


@staff_only
async def reopen(update: Update, context: Context) -> None:
    """/reopen N: open an enquiry again."""
    await _change_state(update, context, "reopen")


@staff_only
async def reply(update: Update, context: Context) -> None:
    """/reply N text, or /reply N #key for a saved reply: answer the user through the outbox."""
    words = await words_for(update, context)
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=2) if message else []
    ref = _number(parts[1] if len(parts) > 1 else None)
    if ref is None or len(parts) < 3 or not parts[2].strip():
        await _say(update, context, html.escape(words.usage["reply"]))
        return
    body = parts[2].strip()
    if body.startswith("#") and len(body.split()) == 1 and _number(body) is None:
        await _send_saved(update, context, words, ref, body[1:].lower())
        return
    await _relay(update, context, ref, body)  # a blank answer is refused by the core


@staff_only
async def replies(update: Update, context: Context) -> None:
    """/replies: the saved replies, with how often each was sent."""
    words = await words_for(update, context)
    entries = await context.bot_data.core.staff.saved_replies(words.language)
    await _send_parts(update, context, staffview.saved_reply_list(entries, words))


@staff_only
async def note(update: Update, context: Context) -> None:
    """/note N text, or /note text as a reply in an enquiry's thread: an internal note."""
    words = await words_for(update, context)
    message = update.effective_message
    said = (message.text or "") if message is not None else ""
    parts = said.split(maxsplit=2)
    ref = await _thread_of(update, context)
    if ref is not None:  # "/note text" in an enquiry's thread: all of it is the note
        text = said.split(maxsplit=1)[1].strip() if len(parts) > 1 else ""
    else:
        ref = _number(parts[1] if len(parts) > 1 else None)
        text = parts[2].strip() if len(parts) > 2 else ""
    if ref is None or not text:
        await _say(update, context, html.escape(words.usage["note"]))
        return
    staff_id, name = _staff(update)
    try:
        await context.bot_data.core.staff.note(ref, staff_id, name, text, _source(update))
    except UnknownEnquiry:
        await _say(update, context, words.no_such_enquiry.format(ref=ref))
        return
    except EnquiryResolved as exc:
        await _not_sent(update, context, words, exc.ref, text)
        return
    logger.info("enquiry #%d: note by staff %d", ref, staff_id)
    await _say(update, context, words.note_saved.format(ref=ref))


@staff_only
async def merge(update: Update, context: Context) -> None:
    """/merge A B: fold enquiry B into A."""
    words = await words_for(update, context)
    args = context.args or []
    numbers = [_number(a) for a in args]
    if len(numbers) != 2 or None in numbers:
        await _say(update, context, html.escape(words.usage["merge"]))
        return
    into, merged = (n for n in numbers if n is not None)
    try:
        await context.bot_data.core.staff.merge(into, merged)
    except UnknownEnquiry as exc:
        await _say(update, context, words.no_such_enquiry.format(ref=exc.ref))
        return
    except MergeRefused as exc:
        text = {
            MergeProblem.SAME: words.merge_same,
            MergeProblem.OTHER_USER: words.merge_other_user.format(a=into, b=merged),
            MergeProblem.MERGED_BEFORE: words.merge_done_before.format(ref=exc.ref, into=exc.into),
        }[exc.problem]
        await _say(update, context, text)
        return
    logger.info("enquiry #%d merged into #%d by staff %d", merged, into, _staff(update)[0])
    await _say(update, context, words.merged.format(merged=merged, into=into))


@staff_only
async def stats(update: Update, context: Context) -> None:
    """/stats: the figures, then the chart of the last 30 days."""
    words = await words_for(update, context)
    figures = await context.bot_data.core.maintenance.stats()
    await _say(update, context, staffview.stats(figures, words))
    chat = update.effective_chat
    assert chat is not None
    # matplotlib takes a moment (longer the first time): off the event loop, so that the bot
    # keeps answering meanwhile.
    image = await asyncio.to_thread(chart.render, figures, words)
    await context.bot.send_photo(
        chat.id,
        InputFile(image, filename="stats.png"),
        caption=words.chart_caption.format(days=figures.days),
        message_thread_id=_topic(update),
    )


@staff_only
async def export(update: Update, context: Context) -> None:
    """/export: every enquiry as a CSV document."""
    words = await words_for(update, context)
    service = context.bot_data.core.staff
    data = (await service.export_csv()).encode("utf-8")
    if len(data) > MAX_UPLOAD_BYTES:
        await _say(
            update, context, html.escape(words.export_too_big.format(limit=MAX_UPLOAD_BYTES // MB))
        )
        return
    day = service.now().astimezone(service.hours.timezone).strftime("%Y%m%d")
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        InputFile(data, filename=f"enquiries-{day}.csv"),
        caption=words.export_caption,
        message_thread_id=_topic(update),
    )
    logger.info("enquiries exported by staff %d", _staff(update)[0])


def _topic(update: Update) -> int | None:
    message = update.effective_message
    return message.message_thread_id if message and message.is_topic_message else None


@staff_only
async def reload(update: Update, context: Context) -> None:
    """/reload: load the knowledge base and saved replies again; on errors keep the old ones."""
    words = await words_for(update, context)
    try:
        kb = context.bot_data.core.staff.reload()
    except (KnowledgeError, SavedRepliesError) as exc:
        logger.warning("reload failed: %d problem(s)", len(exc.problems))
        problems = "\n".join(str(p) for p in exc.problems)
        await send_view(update, context, View(escaped_parts(problems, words.not_reloaded)))
        return
    logger.info("knowledge base reloaded: %d entries", len(kb.entries))
    replies_count = len(context.bot_data.core.knowledge.saved.replies)
    await _say(
        update, context, words.reloaded.format(entries=len(kb.entries), replies=replies_count)
    )


COMMANDS: dict[str, Handler] = {
    "queue": queue,
    "show": show,
    "claim": claim,
    "resolve": resolve,
    "reopen": reopen,
    "reply": reply,
    "replies": replies,
    "note": note,
    "merge": merge,
    "stats": stats,
    "export": export,
    "reload": reload,
}


# --------------------------------------------------------------------- the staff chat itself
async def staff_chat_message(update: Update, context: Context) -> None:
    """A message in the staff chat: a reply into an enquiry's thread goes to the user (text,
    or an attachment copied with its caption); stickers and the like get a clear line."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not context.bot_data.core.staff.is_staff(user.id):
        return  # not staff: nothing said in the staff chat reaches a user
    ref = await _thread_of(update, context)
    quoted = quoted_text(message, context.bot.id)
    if ref is None:
        if quoted is not None:  # they meant to answer someone: say it did not go, and how
            words = await words_for(update, context)
            await _say(update, context, html.escape(words.not_tied))
        return  # otherwise staff talking among themselves
    ids = [message.message_id]
    if message.reply_to_message is not None and quoted is not None:
        ids.append(message.reply_to_message.message_id)  # tied by its text: replies join too
    await record_thread(context, ref, message.chat.id, ids)
    if message.text is not None:
        await _relay(update, context, ref, message.text)
        return
    media = media_of(message)
    if media is None:
        words = await words_for(update, context)
        await _say(update, context, html.escape(words.unsupported.format(ref=ref)))
        return
    await _relay(update, context, ref, message.caption or "", media=media)


async def _relay(
    update: Update, context: Context, ref: int, text: str, media: Media | None = None
) -> None:
    staff_id, name = _staff(update)
    words = await words_for(update, context)
    in_staff_chat = _in_staff_chat(update, context)
    try:
        await context.bot_data.core.staff.reply(
            ref,
            staff_id,
            name,
            text,
            source=_source(update),
            media=media,
            confirm=in_staff_chat,  # "Sent to the user" through the outbox, into the thread
        )
    except UnknownEnquiry:
        await _say(update, context, words.no_such_enquiry.format(ref=ref))
        return
    except EnquiryResolved as exc:
        await _not_sent(update, context, words, exc.ref, text)
        return
    except Refused as exc:
        await _refused(update, context, words, ref, exc.why)
        return
    except EmptyReply:
        await _say(update, context, html.escape(words.empty_reply.format(ref=ref)))
        return
    logger.info("enquiry #%d: staff %d replied", ref, staff_id)
    if not in_staff_chat:
        await _say(update, context, words.sent_to_user.format(ref=ref))


async def _send_saved(
    update: Update, context: Context, words: StaffTexts, ref: int, key: str
) -> None:
    staff_id, name = _staff(update)
    service = context.bot_data.core.staff
    in_staff_chat = _in_staff_chat(update, context)
    try:
        await service.send_saved(ref, key, staff_id, name, confirm=in_staff_chat)
    except UnknownSavedReply:
        keys = ", ".join(f"#{k}" for k in context.bot_data.core.knowledge.saved.replies) or "-"
        await _say(
            update, context, html.escape(words.no_such_saved_reply.format(key=key, keys=keys))
        )
        return
    except UnknownEnquiry:
        await _say(update, context, words.no_such_enquiry.format(ref=ref))
        return
    except EnquiryResolved as exc:
        await _not_sent(update, context, words, exc.ref, f"#{key}")
        return
    logger.info("enquiry #%d: saved reply %s by staff %d", ref, key, staff_id)
    if not in_staff_chat:
        await _say(update, context, html.escape(words.saved_reply_sent.format(key=key, ref=ref)))


def _in_staff_chat(update: Update, context: Context) -> bool:
    """Whether the update comes from the staff chat, where a reply's confirmation goes into
    the enquiry's thread through the outbox (a handler waiting on the group's 20-a-minute
    limit would hold up every later message of the staff chat, and a stop)."""
    chat = update.effective_chat
    return chat is not None and context.bot_data.core.staff.is_staff_chat(chat.id)


async def _not_sent(
    update: Update, context: Context, words: StaffTexts, ref: int, text: str
) -> None:
    quoted = html.escape(text[:1000])
    await _send_parts(update, context, words.not_sent_resolved.format(ref=ref, text=quoted))


async def _refused(
    update: Update, context: Context, words: StaffTexts, ref: int, why: Refusal
) -> None:
    if why is Refusal.TOO_BIG:
        text = words.file_too_big.format(ref=ref, limit=MAX_DOWNLOAD_BYTES // MB)
    else:
        text = words.caption_too_long.format(ref=ref, limit=MAX_CAPTION)
    await _say(update, context, html.escape(text))


# ---------------------------------------------------------------------------------- buttons
async def button(update: Update, context: Context) -> None:
    """Staff buttons (st:...): claim, resolve, reopen, add to the knowledge base, saved
    replies, who holds an enquiry, queue pages."""
    query = update.callback_query
    if query is None:
        return
    message = query.message
    chat = message.chat if message is not None else None
    if chat is None or not may_act(context, query.from_user.id, chat.id, chat.type):
        words = stafftexts.get(await language_of(update, context))
        await query.answer(words.refused)
        return
    words = await words_for(update, context)
    parsed = parse(query.data)
    if not isinstance(parsed, StaffButton):
        await query.answer(words.button_expired)
        return
    if parsed.action is StaffAction.QUEUE_PAGE:
        if not is_queue_view(parsed.key):  # forged data: no such view
            await query.answer(words.button_expired)
            return
        try:
            await _send_queue(update, context, words, parsed.number, parsed.key, edit=True)
        except MessageGone:  # the page was deleted
            await query.answer(words.button_expired)
            return
        await query.answer()
        return
    try:
        await _enquiry_button(update, context, words, parsed)
    except UnknownEnquiry:  # purged, or forged data
        await query.answer(words.button_expired)


async def _enquiry_button(
    update: Update, context: Context, words: StaffTexts, pressed: StaffButton
) -> None:
    query = update.callback_query
    assert query is not None
    service = context.bot_data.core.staff
    action, ref = pressed.action, pressed.number
    name = query.from_user.full_name
    if action is StaffAction.ADD_TO_KB:
        await query.answer(await _add_to_kb(context, words, ref))
        enquiry = await service.enquiry(ref)
        await _set_buttons(query, staffview.enquiry_buttons(enquiry, service.words))
    elif action is StaffAction.WHO:
        enquiry = await service.enquiry(ref)
        holder = enquiry.assignee_name or str(enquiry.assignee or "-")
        await query.answer(words.claimed_by_answer.format(ref=ref, name=holder))
    elif action is StaffAction.SAVED_MENU:
        await service.enquiry(ref)
        top = await service.most_used_saved(service.words.language)
        await query.answer()
        await _set_buttons(query, staffview.saved_reply_buttons(ref, top, service.words))
    elif action is StaffAction.BACK:
        enquiry = await service.enquiry(ref)
        await query.answer()
        await _set_buttons(query, staffview.enquiry_buttons(enquiry, service.words))
    elif action is StaffAction.SEND_SAVED:
        # The announcement's own buttons first: a change the reply makes to them follows
        # through the outbox, after this edit.
        enquiry = await service.enquiry(ref)
        await query.answer()
        await _set_buttons(query, staffview.enquiry_buttons(enquiry, service.words))
        await _send_saved(update, context, words, ref, pressed.key)
    else:
        change = {
            StaffAction.CLAIM: service.claim,
            StaffAction.RESOLVE: service.resolve,
            StaffAction.REOPEN: service.reopen,
        }[action]
        enquiry = await change(ref, query.from_user.id, name)
        await query.answer(words.button_answers[_ANSWER_KEYS[action]].format(ref=ref))
        # The announcement's buttons follow through the outbox, for every change of state.
        logger.info("enquiry #%d: %s (button)", ref, enquiry.state.value)


async def _set_buttons(query: CallbackQuery, buttons: ButtonRows) -> None:
    """Show `buttons` on the pressed message, unless it shows them already (Telegram refuses
    an edit that changes nothing)."""
    markup = keyboard(buttons)
    current = query.message.reply_markup if isinstance(query.message, Message) else None
    if markup != current:
        await set_keyboard(query, markup)


_ANSWER_KEYS = {
    StaffAction.CLAIM: "claim",
    StaffAction.RESOLVE: "resolve",
    StaffAction.REOPEN: "reopen",
}


async def _add_to_kb(context: Context, words: StaffTexts, ref: int) -> str:
    try:
        path = await context.bot_data.core.staff.add_to_knowledge_base(ref)
    except ValueError:
        return words.resolve_first.format(ref=ref)
    if path is None:
        return words.already_in_kb.format(ref=ref)
    logger.info("enquiry #%d: added to the knowledge base suggestions", ref)
    return words.added_to_kb.format(ref=ref)
