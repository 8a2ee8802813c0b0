"""The staff console's Telegram side: /console, and the server started and stopped with the bot.

`start` (from post_init) serves the console (console.app) in the bot's event loop with
uvicorn, giving it the bot to fetch attachments with; `stop` (from post_shutdown) ends it
before the services close. In webhook mode Telegram's updates always arrive on this server
(handlers.webhook): the console's, or with the console's pages off a server of the updates
and the health checks alone on webhook.listen and webhook.port.
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

from console.app import build_app, build_webhook_app
from console.server import ConsoleServer
from handlers.staff import staff_only, words_for
from handlers.state import BotData, Context

logger = logging.getLogger(__name__)


async def start(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Serve the console when console.enabled (in webhook mode, with the updates), or in
    webhook mode with the console off the updates alone; a port in use is logged."""
    data = application.bot_data
    services = data.core
    settings = services.settings.console
    if settings.enabled:
        bot = application.bot

        async def files(file_id: str) -> bytes:
            telegram_file = await bot.get_file(file_id)
            return bytes(await telegram_file.download_as_bytearray())

        app = build_app(services, files=files, webhook=data.webhook)
        what, host, port, advice = (
            "console",
            settings.listen,
            settings.port,
            ("set console.port, or console.enabled: false"),
        )
    elif data.webhook is not None:
        hook = services.settings.webhook
        app = build_webhook_app(data.webhook)
        what, host, port, advice = "webhook", hook.listen, hook.port, "set webhook.port"
    else:
        return
    server = ConsoleServer(app, host, port)
    try:
        await server.start()
    except OSError as exc:
        logger.error(
            "%s: cannot listen on %s:%d (%s): %s", what, host, port, exc.strerror or exc, advice
        )
        return
    data.console = server
    if settings.enabled:
        logger.info(
            "console: serving on %s (%s)", server.url, settings.public_url or "no public_url"
        )
    else:
        logger.info("webhook: serving the updates alone on %s", server.url)


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
