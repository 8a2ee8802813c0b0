"""Webhook mode: Telegram's updates over HTTP, handled before they are answered.

Telegram posts each update to webhook.path on the bot's own Starlette server (the console's,
or one of the updates alone when the console's pages are off: handlers.console), with the
secret token in a header (console.app checks it). An update is handled inside the request,
through the application's update processor (one chat at a time, in order), so the 200 goes
back only once it is handled; Telegram sends again what got no 2xx. `/healthz` and `/readyz`
are there for a load balancer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import literal, select
from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.storage.database import describe
from console.app import Webhook
from handlers.state import BotData

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
        processor = application.update_processor
        await processor.process_update(update, application.process_update(update))
        return True

    async def ready() -> str | None:
        return await readiness(application)

    data.webhook = Webhook(hook.path, hook.secret_token, take, ready)


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
