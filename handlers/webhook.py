"""Webhook mode: Telegram's updates over HTTP, handled before they are answered.

Telegram posts each update to webhook.path on the bot's own Starlette server (the console's,
or one of the updates alone when the console's pages are off: handlers.console), with the
secret token in a header (console.app checks it). An update is handled inside the request,
through the application's update processor (one chat at a time, in order), so the 200 goes
back only once it is handled; Telegram sends again what got no 2xx. `/healthz` and `/readyz`
are there for a load balancer.

Replicas (several bots on one PostgreSQL database behind one URL): an update is handled
holding its chat's lock across all of them (`ChatTurns`), and only if its update_id is not
recorded as handled. The record is written in the transaction of the update's effects (an
enquiry, a follow-up or a staff reply stored, with every message owed because of it put in
the outbox, the user's acknowledgement included: bot.storage.updates), or, for an update
that changes nothing, once it is handled, before the 200. A retried update waits for its
chat's lock behind the first delivery, then finds it recorded. A bot that dies mid-update
either committed its effects with the record (the others send the queued messages, and the
update sent again is not handled again) or left nothing: then another handles it from the
start. What it had sent directly before dying (an answer from the knowledge base) may then
come twice: better twice than never, as for the outbox.

What a bot keeps of a user in memory (the numbered recent questions that "did you mean"
buttons refer to: handlers.state.UserData) is, on PostgreSQL, read from the database
before each of their updates and written back after it when it changed, under the chat's
lock, so a button pressed on one replica finds the question asked on another.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.storage.database import StorageUnavailable, describe
from bot.storage.replicas import ChatTurns
from bot.storage.updates import handling
from console.app import Webhook
from handlers.state import BotData, UserData

logger = logging.getLogger(__name__)

#: How long /readyz waits for the database's answer before it says the database is not ready.
READY_TIMEOUT_S = 3.0


class NoWebhookServer(RuntimeError):
    """Webhook mode, but the server that takes the updates could not start."""


def missing_setting(settings: Settings) -> str | None:
    """Why webhook mode cannot start with these settings (one line), or None."""
    if not settings.webhook.url:
        return (
            "webhook.url is not set: set it in config.yaml or CLAIRBOT_WEBHOOK_URL "
            "to the public https URL Telegram should call"
        )
    if not settings.webhook.secret_token:
        return (
            "webhook.secret_token is not set: set CLAIRBOT_WEBHOOK_SECRET_TOKEN (1-256 of "
            "A-Z, a-z, 0-9, _ and -); every update must carry it"
        )
    return None


def take_updates(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Before post_init starts the server: have it take Telegram's updates at webhook.path."""
    data = application.bot_data
    assert data.settings is not None, "build_application stores the settings"
    hook = data.settings.webhook
    bot = application.bot

    async def take(payload: dict[str, Any]) -> bool:
        if not application.running:  # starting or stopping: Telegram sends it again
            return False
        update = Update.de_json(payload, bot)
        outcome: list[bool] = []

        async def handle() -> None:
            outcome.append(await handle_once(application, update))

        # The processor keeps this bot's updates of a chat in order (first come, first
        # served); the chat's lock then waits for the other bots'.
        await application.update_processor.process_update(update, handle())
        return outcome == [True]

    async def ready() -> str | None:
        return await readiness(application)

    data.webhook = Webhook(hook.path, hook.secret_token, take, ready)


def turn_key(update: Update) -> int:
    """The key of the lock an update is handled under: its chat's id (a user's private chat
    has the user's), else its sender's, else its own id."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return update.update_id


async def handle_once(
    application: Application[Any, Any, Any, Any, BotData, Any], update: Update
) -> bool:
    """Handle `update` unless some bot did, holding its chat's lock, and record it; whether
    it is done with (False: the database failed, and Telegram should send it again)."""
    data = application.bot_data
    services = data.core
    database = services.storage.database
    if data.turns is None:
        data.turns = ChatTurns(database, services.settings.storage.chat_lock_connections)
    try:
        async with data.turns.turn(turn_key(update)) as turn:
            if await turn.handled(update.update_id):
                logger.info("update %d was handled before: not again", update.update_id)
                return True
            user = update.effective_user
            state: UserData | None = None
            if turn.shared and user is not None:  # the last replica's copy of their state
                state = application.user_data[user.id]
                state.restore(await turn.user_state(user.id))
                before = state.dump()
            with handling(update.update_id) as current:  # recorded with its effects
                await application.process_update(update)  # errors go to the error handler
            if current.elsewhere:  # another bot had it meanwhile: this one changed nothing
                logger.info("update %d was handled by another bot meanwhile", update.update_id)
                return True
            if state is not None and user is not None and (after := state.dump()) != before:
                await turn.keep_user_state(user.id, after)
            await turn.record(update.update_id)  # one with no effects is recorded here
    except (StorageUnavailable, SQLAlchemyError, OSError, TimeoutError) as exc:
        problem = exc.problem if isinstance(exc, StorageUnavailable) else describe(exc)
        logger.warning(
            "update %d not taken (%s): Telegram sends it again", update.update_id, problem
        )
        return False
    return True


async def readiness(application: Application[Any, Any, Any, Any, BotData, Any]) -> str | None:
    """None when the bot runs and its database answers a query; else why not, in words that
    name no address and no secret."""
    data = application.bot_data
    if not application.running or data.service is None:
        return "the bot is not running yet"
    query = asyncio.ensure_future(data.service.storage.database.scalar(select(literal(1))))
    query.add_done_callback(lambda task: task.cancelled() or task.exception())
    done, _ = await asyncio.wait({query}, timeout=READY_TIMEOUT_S)
    if not done:  # the read goes on to its end in the background (it cannot be cut short)
        return f"the database did not answer within {READY_TIMEOUT_S:g} s"
    if (error := query.exception()) is not None:
        return f"the database does not answer: {describe(error)}"
    return None


async def set_webhook(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """After post_init: tell Telegram to send updates to webhook.url. NoWebhookServer when the
    server did not start (then Telegram is not told: nothing would take them)."""
    data = application.bot_data
    assert data.settings is not None, "build_application stores the settings"
    hook, console = data.settings.webhook, data.settings.console
    if (server := data.console) is None:
        where = (
            f"{console.listen}:{console.port} (set console.port)"
            if console.enabled
            else f"{hook.listen}:{hook.port} (set webhook.port)"
        )
        raise NoWebhookServer(f"webhook mode: cannot listen on {where}; see the log")
    await application.bot.set_webhook(
        hook.url, secret_token=hook.secret_token, allowed_updates=Update.ALL_TYPES
    )
    logger.info("webhook: Telegram's updates arrive at %s/%s", server.url, hook.path.strip("/"))
