"""The staff console's Telegram side: /console, and the server started and stopped with the bot.

`start` (from post_init) serves the console (console.app) in the bot's event loop with
uvicorn, giving it the bot to fetch attachments with; `stop` (from post_shutdown) ends it
before the services close. In webhook mode with the console on, Telegram's updates arrive on
the console's own server (`take_webhook_updates`, then `set_webhook`, from the runner in
handlers/app.py), as python-telegram-bot's customwebhookbot example does.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
    WebAppInfo,
)
from telegram.constants import ChatType, ParseMode
from telegram.ext import Application

from bot.config import Settings
from console.app import Webhook, build_app
from console.server import ConsoleServer
from handlers.staff import staff_only, words_for
from handlers.state import BotData, Context

logger = logging.getLogger(__name__)


class NoWebhookServer(RuntimeError):
    """Webhook mode, but the console's server, which takes the updates, could not start."""


async def start(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Serve the console when console.enabled; a port in use is logged, and the bot runs on."""
    data = application.bot_data
    services = data.core
    settings = services.settings.console
    if not settings.enabled:
        return
    bot = application.bot

    async def files(file_id: str) -> bytes:
        telegram_file = await bot.get_file(file_id)
        return bytes(await telegram_file.download_as_bytearray())

    app = build_app(services, files=files, webhook=data.webhook)
    server = ConsoleServer(app, settings.listen, settings.port)
    try:
        await server.start()
    except OSError as exc:
        logger.error(
            "console: cannot listen on %s:%d (%s): set console.port, or console.enabled: false",
            settings.listen,
            settings.port,
            exc.strerror or exc,
        )
        return
    data.console = server
    logger.info("console: serving on %s (%s)", server.url, settings.public_url or "no public_url")


async def stop(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Stop serving the console (the requests in hand finish first)."""
    data = application.bot_data
    if data.console is not None:
        await data.console.stop()
        data.console = None


@staff_only
async def console(update: Update, context: Context) -> None:
    """/console: a one-time sign-in link (10 minutes), and the Mini App's button on https."""
    words = await words_for(update, context)
    chat, user = update.effective_chat, update.effective_user
    core = context.bot_data.core
    settings = core.settings.console
    if chat is None or user is None:
        return
    server = context.bot_data.console
    url = settings.public_url or (server.url if server is not None else "")
    if not settings.enabled:
        text = words.console_off
    elif not url:
        text = words.console_not_running
    elif chat.type != ChatType.PRIVATE:  # a link in the group would sign in whoever taps it
        text = words.console_private_only
    else:
        token = core.console.issue_link(user.id, user.full_name)
        text = words.console_link.format(url=html.escape(f"{url}/signin/{token}"))
    markup = None
    if url.startswith("https://") and chat.type == ChatType.PRIVATE:  # Mini Apps need https
        button = InlineKeyboardButton(words.console_button, web_app=WebAppInfo(f"{url}/app"))
        markup = InlineKeyboardMarkup([[button]])
    await context.bot.send_message(
        chat.id,
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    logger.info("console: sign-in link asked for by staff %d", user.id)


def take_webhook_updates(
    application: Application[Any, Any, Any, Any, BotData, Any], settings: Settings
) -> None:
    """Webhook mode with the console on: before post_init starts the console, have its server
    take Telegram's updates at webhook.path (checking the secret token) into the update queue,
    as python-telegram-bot's customwebhookbot example does."""
    hook = settings.webhook
    bot = application.bot

    async def take(data: dict[str, Any]) -> None:
        update = Update.de_json(data, bot)
        if update is not None:
            await application.update_queue.put(update)

    application.bot_data.webhook = Webhook(hook.path, hook.secret_token, take)


async def set_webhook(
    application: Application[Any, Any, Any, Any, BotData, Any], settings: Settings
) -> None:
    """After post_init: tell Telegram to send updates to webhook.url. NoWebhookServer when the
    console's server did not start (then Telegram is not told: nothing would take them)."""
    hook, console = settings.webhook, settings.console
    if (server := application.bot_data.console) is None:
        raise NoWebhookServer(
            f"webhook mode: cannot listen on {console.listen}:{console.port} (see the log); "
            "set console.port, or console.enabled: false for python-telegram-bot's own "
            "webhook server on webhook.listen and webhook.port"
        )
    await application.bot.set_webhook(
        hook.url, secret_token=hook.secret_token or None, allowed_updates=Update.ALL_TYPES
    )
    logger.info("webhook: Telegram's updates arrive at %s/%s", server.url, hook.path.strip("/"))
