"""Handlers for CLAIR staff: queue commands, the announcement buttons, replies in the staff chat.

Staff are the user ids in staff.user_ids, acting in the staff chat or in their private chat
with the bot. Anyone else gets one polite refusal that says nothing about the queue (the
same whether or not an enquiry exists). Every text (HTML) comes from bot.staffview.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ChatType
from telegram.ext import filters

from bot import staffview
from bot.callback_data import StaffAction, StaffButton, parse
from bot.core import EmptyReply, UnknownEnquiry
from bot.knowledge import KnowledgeError
from bot.markup import split_html
from bot.storage.records import Event
from handlers.delivery import keyboard
from handlers.replies import edit_view, send_view, set_keyboard
from handlers.state import Context
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


async def _say(
    update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Reply in the update's chat (and forum topic) with one HTML message."""
    sent = await send_view(update, context, View((text,), markup))
    return sent[0] if sent else None


def staff_only(handler: Handler) -> Handler:
    """Run `handler` for staff where staff may act; refuse everyone else the same way."""

    @wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        user, chat = update.effective_user, update.effective_chat
        if chat is None:
            return
        if not may_act(context, user.id if user else None, chat.id, chat.type):
            await _say(update, context, html.escape(staffview.REFUSED))
            return
        await handler(update, context)

    return guarded


def _number(context: Context) -> int | None:
    args = context.args or []
    if not args or not args[0].lstrip("#").isdigit() or len(args[0]) > 12:
        return None
    return int(args[0].lstrip("#"))


def _staff(update: Update) -> tuple[int, str]:
    user = update.effective_user
    if user is None:
        raise ValueError(f"update {update.update_id} has no sender")
    return user.id, user.full_name


async def _send_parts(update: Update, context: Context, text: str) -> None:
    await send_view(update, context, View(tuple(split_html(text))))


# -------------------------------------------------------------------------------- commands
@staff_only
async def queue(update: Update, context: Context) -> None:
    """/queue: open enquiries, oldest first, ten a page."""
    service = context.bot_data.core.staff
    enquiries, total = await service.queue(0, PER_PAGE)
    text, buttons = staffview.queue_page(enquiries, total, 0, PER_PAGE, service.now())
    await _say(update, context, text, keyboard(buttons))


@staff_only
async def show(update: Update, context: Context) -> None:
    """/show N: an enquiry and its whole thread."""
    if (ref := _number(context)) is None:
        await _say(update, context, html.escape(staffview.USAGE["show"]))
        return
    service = context.bot_data.core.staff
    try:
        enquiry, messages = await service.show(ref)
    except UnknownEnquiry:
        await _say(update, context, staffview.NO_SUCH_ENQUIRY.format(ref=ref))
        return
    await _send_parts(update, context, staffview.show(enquiry, messages, service.hours))


async def _change_state(update: Update, context: Context, command: str) -> None:
    if (ref := _number(context)) is None:
        await _say(update, context, html.escape(staffview.USAGE[command]))
        return
    service = context.bot_data.core.staff
    staff_id, name = _staff(update)
    event = {"claim": Event.CLAIM, "resolve": Event.RESOLVE, "reopen": Event.REOPEN}[command]
    try:
        enquiry = await service.change(event, ref, staff_id, name)
    except UnknownEnquiry:
        await _say(update, context, staffview.NO_SUCH_ENQUIRY.format(ref=ref))
        return
    logger.info("enquiry #%d: %s by staff %d", ref, enquiry.state.value, staff_id)
    chat = update.effective_chat
    if chat is None or not service.is_staff_chat(chat.id):
        # In the staff group the core's notice, threaded under the enquiry, confirms it.
        await _say(update, context, staffview.state_changed(enquiry, name, event))


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
    """/reply N text: answer the user through the outbox."""
    message = update.effective_message
    words = (message.text or "").split(maxsplit=2) if message else []
    ref = _number(context)
    if ref is None or len(words) < 3:
        await _say(update, context, html.escape(staffview.USAGE["reply"]))
        return
    await _relay(update, context, ref, words[2])  # a blank answer is refused by the core


@staff_only
async def stats(update: Update, context: Context) -> None:
    """/stats: open count, reply times, common unanswered topics."""
    figures = await context.bot_data.core.maintenance.stats()
    await _say(update, context, staffview.stats(figures))


@staff_only
async def export(update: Update, context: Context) -> None:
    """/export: every enquiry as a CSV document."""
    service = context.bot_data.core.staff
    data = await service.export_csv()
    day = service.now().astimezone(service.hours.timezone).strftime("%Y%m%d")
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        InputFile(data.encode("utf-8"), filename=f"enquiries-{day}.csv"),
        caption=staffview.EXPORT_CAPTION,
    )
    logger.info("enquiries exported by staff %d", _staff(update)[0])


@staff_only
async def reload(update: Update, context: Context) -> None:
    """/reload: load the knowledge base again; on errors keep the old one and list them."""
    try:
        kb = context.bot_data.core.staff.reload()
    except KnowledgeError as exc:
        logger.warning("knowledge base reload failed: %d problem(s)", len(exc.problems))
        problems = "\n".join(str(p) for p in exc.problems)
        await send_view(update, context, View(escaped_parts(problems, staffview.NOT_RELOADED)))
        return
    logger.info("knowledge base reloaded: %d entries", len(kb.entries))
    await _say(update, context, staffview.RELOADED.format(entries=len(kb.entries)))


COMMANDS: dict[str, Handler] = {
    "queue": queue,
    "show": show,
    "claim": claim,
    "resolve": resolve,
    "reopen": reopen,
    "reply": reply,
    "stats": stats,
    "export": export,
    "reload": reload,
}


# --------------------------------------------------------------------- the staff chat itself
async def staff_chat_message(update: Update, context: Context) -> None:
    """A message in the staff chat: a reply into an enquiry's thread goes to the user."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not context.bot_data.core.staff.is_staff(user.id):
        return  # not staff: nothing said in the staff chat reaches a user
    replied = message.reply_to_message
    topic = message.message_thread_id if message.is_topic_message else None
    ref = await context.bot_data.core.staff.thread_ref(
        message.chat.id, replied.message_id if replied is not None else None, topic
    )
    if ref is None:
        return  # staff talking among themselves
    await context.bot_data.core.record_thread(ref, message.chat.id, [message.message_id])
    if message.text is None:
        await _say(update, context, html.escape(staffview.ONLY_TEXT.format(ref=ref)))
        return
    await _relay(update, context, ref, message.text)


async def _relay(update: Update, context: Context, ref: int, text: str) -> None:
    staff_id, name = _staff(update)
    try:
        await context.bot_data.core.staff.reply(ref, staff_id, name, text)
    except UnknownEnquiry:
        await _say(update, context, staffview.NO_SUCH_ENQUIRY.format(ref=ref))
        return
    except EmptyReply:
        await _say(update, context, html.escape(staffview.EMPTY_REPLY.format(ref=ref)))
        return
    logger.info("enquiry #%d: staff %d replied", ref, staff_id)
    confirmation = await _say(update, context, html.escape(staffview.SENT_TO_USER.format(ref=ref)))
    chat = update.effective_chat
    if confirmation is not None and chat is not None and chat.type != ChatType.PRIVATE:
        # A reply to the confirmation threads too, like a reply to the announcement.
        await context.bot_data.core.record_thread(ref, chat.id, [confirmation.message_id])


# ---------------------------------------------------------------------------------- buttons
async def button(update: Update, context: Context) -> None:
    """Staff buttons (st:...): claim, resolve, add to the knowledge base, queue pages."""
    query = update.callback_query
    if query is None:
        return
    message = query.message
    chat = message.chat if message is not None else None
    if chat is None or not may_act(context, query.from_user.id, chat.id, chat.type):
        await query.answer(staffview.REFUSED)
        return
    parsed = parse(query.data)
    if not isinstance(parsed, StaffButton):
        await query.answer(staffview.BUTTON_EXPIRED)
        return
    action, number = parsed.action, parsed.number
    if action is StaffAction.QUEUE_PAGE:
        await _queue_page(update, context, number)
        return
    service = context.bot_data.core.staff
    name = query.from_user.full_name
    try:
        if action is StaffAction.ADD_TO_KB:
            await query.answer(await _add_to_kb(context, number))
            enquiry = await service.enquiry(number)
        else:
            change = {
                StaffAction.CLAIM: service.claim,
                StaffAction.RESOLVE: service.resolve,
                StaffAction.REOPEN: service.reopen,
            }[action]
            enquiry = await change(number, query.from_user.id, name)
            await query.answer(staffview.BUTTON_ANSWERS[action].format(ref=number))
    except UnknownEnquiry:  # purged, or forged data
        await query.answer(staffview.BUTTON_EXPIRED)
        return
    logger.info("enquiry #%d: %s (button)", number, enquiry.state.value)
    buttons = keyboard(staffview.enquiry_buttons(enquiry))
    current = query.message.reply_markup if isinstance(query.message, Message) else None
    if buttons != current:  # editing to the same keyboard is an error on Telegram's side
        await set_keyboard(query, buttons)


async def _add_to_kb(context: Context, ref: int) -> str:
    try:
        path = await context.bot_data.core.staff.add_to_knowledge_base(ref)
    except ValueError:
        return staffview.RESOLVE_FIRST.format(ref=ref)
    if path is None:
        return staffview.ALREADY_IN_KB.format(ref=ref)
    logger.info("enquiry #%d: added to the knowledge base suggestions", ref)
    return staffview.ADDED_TO_KB.format(ref=ref)


async def _queue_page(update: Update, context: Context, page: int) -> None:
    query = update.callback_query
    assert query is not None
    service = context.bot_data.core.staff
    enquiries, total = await service.queue(page, PER_PAGE)
    if page and not enquiries:  # the queue shrank since: back to the first page
        page = 0
        enquiries, total = await service.queue(0, PER_PAGE)
    text, buttons = staffview.queue_page(enquiries, total, page, PER_PAGE, service.now())
    await query.answer()
    await edit_view(update, context, View((text,), keyboard(buttons)))
