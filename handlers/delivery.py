"""Delivering the outbox over Telegram: the Sender the outbox worker uses, and its lifecycle.

`TelegramSender` turns one outbox item into one Bot API call (sendMessage threaded as a reply
to the enquiry's announcement or into its forum topic; copyMessage for an attachment;
editMessageText or editMessageCaption for an edited reply; editMessageReplyMarkup for the
announcement's buttons) and translates Telegram's errors into the worker's two outcomes: try
again later, or give up. `start` starts the worker and the periodic jobs (reminders, the
automatic close, purge) in post_init; `stop` ends it before the service closes. With several
replicas on one PostgreSQL database the jobs run only in the one that holds the jobs' lock
(`JobsLeader`, polled every storage.jobs_leader_poll_seconds).
"""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, JobQueue
from telegram.warnings import PTBDeprecationWarning

from bot.config import StaffSettings
from bot.core import UnknownEnquiry
from bot.markup import shorten
from bot.outbox import RetryLater, Undeliverable
from bot.staffwork import StaffService
from bot.storage.records import Kind, OutboxItem
from bot.storage.replicas import JobsLeader, SharedWindow, forget_handled
from handlers.state import BotData, Context

logger = logging.getLogger(__name__)

REMIND_EVERY = timedelta(minutes=10)
PURGE_EVERY = timedelta(days=1)
PURGE_FIRST = timedelta(minutes=1)  # soon after start-up, then daily
FLOOD_KEPT_S = 3600.0  # the shared flood windows of users quiet this long go at the purge
TOPIC_NAME_LIMIT = 128  # Telegram's limit for a forum topic name

ButtonRows = tuple[tuple[tuple[str, str], ...], ...]
_NOT_MODIFIED = "message is not modified"


def keyboard(rows: ButtonRows) -> InlineKeyboardMarkup | None:
    """Rows of (label, callback data) as an inline keyboard; None when there are none."""
    buttons = [
        [InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows
    ]
    buttons = [row for row in buttons if row]
    return InlineKeyboardMarkup(buttons) if buttons else None


def retry_after_seconds(error: RetryAfter) -> float:
    """The wait a 429 asks for, in seconds."""
    with warnings.catch_warnings():  # PTB warns that the int form will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """Sends outbox items with the application's bot (see bot.outbox.Sender)."""

    def __init__(self, bot: Bot, staff_work: StaffService, staff: StaffSettings) -> None:
        self.bot = bot
        self.staff_work = staff_work
        self.staff = staff

    async def send(self, item: OutboxItem) -> int:
        """Deliver one item; raise RetryLater or Undeliverable as the error deserves."""
        try:
            if item.kind is Kind.EDIT:
                return await self._edit(item)
            if item.kind is Kind.KEYBOARD:
                return await self._keyboard(item)
            thread_id = await self._thread_for(item)
            reply_to = (
                ReplyParameters(item.reply_to_message_id, allow_sending_without_reply=True)
                if item.in_thread and item.reply_to_message_id is not None
                else None
            )
            if item.copy_of is not None:
                copied = await self.bot.copy_message(
                    item.chat_id,
                    item.copy_of.chat_id,
                    item.copy_of.message_id,
                    caption=item.text or None,
                    parse_mode=ParseMode.HTML if item.text else None,
                    reply_markup=keyboard(item.markup),
                    reply_parameters=reply_to,
                    message_thread_id=thread_id,
                )
                return copied.message_id
            message = await self.bot.send_message(
                item.chat_id,
                item.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(item.markup),
                reply_parameters=reply_to,
                message_thread_id=thread_id,
            )
        except RetryAfter as exc:
            raise RetryLater("flood control", retry_after_seconds(exc)) from exc
        except Forbidden as exc:  # blocked by the user, or removed from the chat
            raise Undeliverable(exc.message) from exc
        except BadRequest as exc:  # "chat not found", bad markup...: sending again won't help
            raise Undeliverable(exc.message) from exc
        except ChatMigrated as exc:
            raise Undeliverable(f"the chat moved to {exc.new_chat_id}") from exc
        except NetworkError as exc:  # timeouts, connection errors and 5xx
            raise RetryLater(exc.message or type(exc).__name__) from exc
        except TelegramError as exc:
            raise RetryLater(exc.message) from exc
        return message.message_id

    async def _edit(self, item: OutboxItem) -> int:
        """Change a delivered message (a relayed reply) to the item's text."""
        target = item.edit_message_id
        if target is None:
            raise Undeliverable("the message to edit was never delivered")
        try:
            if item.edit_caption:
                await self.bot.edit_message_caption(
                    item.chat_id, target, caption=item.text, parse_mode=ParseMode.HTML
                )
            else:
                await self.bot.edit_message_text(
                    item.text, item.chat_id, target, parse_mode=ParseMode.HTML
                )
        except BadRequest as exc:
            if _NOT_MODIFIED not in exc.message.lower():  # sent before a restart: done
                raise
        return target

    async def _keyboard(self, item: OutboxItem) -> int:
        """Bring the announcement's buttons up to date."""
        target = item.reply_to_message_id
        if target is None:
            raise Undeliverable("the enquiry has no announcement to update")
        try:
            await self.bot.edit_message_reply_markup(
                item.chat_id, target, reply_markup=keyboard(item.markup)
            )
        except BadRequest as exc:
            if _NOT_MODIFIED not in exc.message.lower():  # a button press already did it
                raise
        return target

    async def _thread_for(self, item: OutboxItem) -> int | None:
        """The forum topic to send into; for an announcement in forum mode, create it."""
        if item.thread_id is not None or not self._forum(item):
            return item.thread_id
        if item.kind is not Kind.ANNOUNCE or item.ref is None:
            return None
        try:
            enquiry = await self.staff_work.enquiry(item.ref)
        except UnknownEnquiry:  # deleted (/forget) since the message was written
            return None
        if enquiry.staff_thread_id is not None:  # created on an attempt that then failed
            return enquiry.staff_thread_id
        name = shorten(
            f"#{enquiry.ref} {enquiry.name or 'enquiry'}: {enquiry.text}", TOPIC_NAME_LIMIT
        )
        topic = await self.bot.create_forum_topic(item.chat_id, name)
        await self.staff_work.set_topic(enquiry.ref, topic.message_thread_id)
        logger.info("enquiry #%d: forum topic %d created", enquiry.ref, topic.message_thread_id)
        return topic.message_thread_id

    def _forum(self, item: OutboxItem) -> bool:
        return (
            self.staff.forum_topics
            and bool(self.staff.chat_id)
            and (item.chat_id == self.staff.chat_id)
        )


async def start(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Start delivering the outbox (always: CLI replies need it) and schedule the jobs."""
    data = application.bot_data
    services = data.core
    sender = TelegramSender(application.bot, services.staff, services.settings.staff)
    data.outbox = services.outbox_worker(sender, data.backoff)
    await data.outbox.start()
    jobs: JobQueue[Any] | None = application.job_queue
    if jobs is None:  # the [job-queue] extra is a dependency; without it, no reminders
        logger.warning("no job queue: reminders and the daily purge will not run")
        return
    data.leader = JobsLeader(services.storage.database)
    await data.leader.poll()
    every = timedelta(seconds=services.settings.storage.jobs_leader_poll_seconds)
    jobs.run_repeating(poll_leader, interval=every, first=every)
    jobs.run_repeating(send_reminders, interval=REMIND_EVERY, first=REMIND_EVERY)
    jobs.run_repeating(autoclose, interval=REMIND_EVERY, first=REMIND_EVERY)
    jobs.run_repeating(purge, interval=PURGE_EVERY, first=PURGE_FIRST)


async def stop(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Stop the outbox worker after the message in hand (idempotent)."""
    data = application.bot_data
    if data.outbox is not None:
        await data.outbox.stop()
        data.outbox = None
    if data.leader is not None:  # another replica takes the jobs at its next poll
        await data.leader.release()
        data.leader = None


def leads(context: Context) -> bool:
    """Whether this bot runs the periodic jobs (one replica at a time; always on SQLite)."""
    leader = context.bot_data.leader
    return leader is not None and leader.held


async def poll_leader(context: Context) -> None:
    """Job: keep or take the jobs' lead (a replica that died frees it with its session)."""
    if context.bot_data.leader is not None:
        await context.bot_data.leader.poll()


async def send_reminders(context: Context) -> None:
    """Job: re-announce enquiries waiting longer than staff.remind_after_hours."""
    if not leads(context):
        return
    for ref in await context.bot_data.core.maintenance.send_reminders():
        logger.info("enquiry #%d: reminder sent to staff", ref)


async def autoclose(context: Context) -> None:
    """Job: resolve enquiries pending on the user for staff.autoclose_days."""
    if not leads(context):
        return
    for ref in await context.bot_data.core.maintenance.autoclose():
        logger.info("enquiry #%d: resolved automatically", ref)


async def purge(context: Context) -> None:
    """Job: delete resolved enquiries older than storage.retention_days, the update_ids
    handled before storage.handled_updates_days, and (replicas) flood windows long quiet."""
    if not leads(context):
        return
    deleted = await context.bot_data.core.maintenance.purge()
    if deleted:
        logger.info("purged %d resolved enquiries past retention", deleted)
    services = context.bot_data.core
    days = services.settings.storage.handled_updates_days
    await forget_handled(services.storage.database, days)
    if isinstance(window := services.users.flood.shared, SharedWindow):
        await window.forget(FLOOD_KEPT_S)  # users who wrote in no window of the last hour
