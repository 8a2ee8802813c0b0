"""Tests proving tests/fakebotapi.py works with the real python-telegram-bot over HTTP."""

from __future__ import annotations

import asyncio
import html
import itertools
import socket
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from conftest import free_port
from fakebotapi import SECRET_HEADER, FakeBotApi, SentMessage
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

TOKEN = "123:ABC"
USER_ID = 42


@pytest.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    """A running fake Bot API server (reusable from a conftest)."""
    async with FakeBotApi(token=TOKEN) as api:
        api.user(USER_ID, "Ana", username="ana")
        yield api


@pytest.fixture
async def bot(fake_bot_api: FakeBotApi) -> AsyncIterator[Bot]:
    """A bare, initialised ``telegram.Bot`` talking to the fake server."""
    api = fake_bot_api
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        yield bot


# ---------------------------------------------------------------------- a tiny demo bot
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Programmes", callback_data="menu:programmes")],
            [InlineKeyboardButton("Website", url="https://www.clair.org.sg")],
        ]
    )
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Welcome to <b>CLAIR</b> &amp; J.CLAIR!", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    sent = await message.reply_text(
        f"<i>You said:</i> {html.escape(message.text)}", parse_mode=ParseMode.HTML, do_quote=True
    )
    context.bot_data.setdefault("echoed", []).append(sent)
    context.bot_data["echo_done"].set()


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer("Loading…")
    await query.edit_message_text(
        f"You chose <b>{html.escape(query.data)}</b>", parse_mode=ParseMode.HTML
    )


async def send_doc(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_document(
        document=InputFile(b"name,country\nAna,SG\n", filename="report.csv"),
        caption="Your <b>report</b>",
        parse_mode=ParseMode.HTML,
    )


async def bad_html(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    try:
        await update.effective_message.reply_text("<b>oops", parse_mode=ParseMode.HTML)
    except BadRequest as exc:
        await update.effective_message.reply_text(f"error: {exc.message}")


async def media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    if message.document:
        data = await (await message.document.get_file()).download_as_bytearray()
        reply = f"document {message.document.file_name} {bytes(data)!r}"
    elif message.photo:
        reply = f"photo {message.photo[-1].width}x{message.photo[-1].height} {message.caption}"
    elif message.sticker:
        reply = f"sticker {message.sticker.emoji}"
    elif message.voice:
        reply = f"voice {message.voice.mime_type}"
    else:
        assert message.location is not None
        reply = f"location {message.location.latitude},{message.location.longitude}"
    await message.reply_text(reply)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data.setdefault("errors", []).append(context.error)


def build_application(api: FakeBotApi) -> Application[Any, Any, Any, Any, Any, Any]:
    """The builder call every e2e test uses: only base_url/base_file_url point at the fake."""
    application = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("doc", send_doc))
    application.add_handler(CommandHandler("bad", bad_html))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    media_filter = (
        filters.Document.ALL | filters.PHOTO | filters.Sticker.ALL | filters.VOICE
    ) | filters.LOCATION
    application.add_handler(MessageHandler(media_filter, media))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
    return application


@pytest.fixture
async def app(
    fake_bot_api: FakeBotApi,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """The demo bot, polling the fake server; asserts no handler raised."""
    application = build_application(fake_bot_api)
    application.bot_data["echo_done"] = asyncio.Event()
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    assert application.bot_data.get("errors", []) == []


# ---------------------------------------------------------------------- end-to-end
async def test_start_replies_with_inline_keyboard(fake_bot_api: FakeBotApi, app: Any) -> None:
    api = fake_bot_api
    api.send_message("/start", user=USER_ID)
    reply = await api.next_message(USER_ID)
    assert reply.text == "Welcome to CLAIR & J.CLAIR!"
    assert reply.raw_text == "Welcome to <b>CLAIR</b> &amp; J.CLAIR!"
    assert reply.parse_mode == "HTML"
    assert reply.entities == [{"type": "bold", "offset": 11, "length": 5}]
    assert reply.reply_to_message_id is None  # PTB's reply_text only quotes in groups
    assert reply.buttons() == [
        ("Programmes", "menu:programmes"),
        ("Website", "https://www.clair.org.sg"),
    ]
    assert reply.button("Program") == "menu:programmes"
    assert [c.method for c in api.calls[:2]] == ["getMe", "deleteWebhook"]
    assert api.calls_to("getUpdates")


async def test_command_with_bot_username_suffix(fake_bot_api: FakeBotApi, app: Any) -> None:
    fake_bot_api.send_message("/start@clair_test_bot", user=USER_ID)
    assert (await fake_bot_api.next_message(USER_ID)).text.startswith("Welcome")


async def test_echo_parses_returned_message(fake_bot_api: FakeBotApi, app: Any) -> None:
    api = fake_bot_api
    api.send_message("1 < 2 & <b>not bold</b>", user=USER_ID)
    reply = await api.next_message(USER_ID)
    assert reply.text == "You said: 1 < 2 & <b>not bold</b>"
    # wait_for only re-checks on API traffic, so wait for the handler's own signal here
    await asyncio.wait_for(app.bot_data["echo_done"].wait(), 1)
    sent: Message = app.bot_data["echoed"][0]  # what PTB parsed from the fake's response
    assert sent.message_id == reply.message_id and sent.chat.id == USER_ID
    assert sent.from_user is not None and sent.from_user.username == "clair_test_bot"
    assert sent.text_html == "<i>You said:</i> 1 &lt; 2 &amp; &lt;b&gt;not bold&lt;/b&gt;"
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "1 < 2 & <b>not bold</b>"


async def test_messages_are_delivered_in_order(fake_bot_api: FakeBotApi, app: Any) -> None:
    api = fake_bot_api
    for word in ("one", "two", "three"):
        api.send_message(word, user=USER_ID)
    texts = [(await api.next_message(USER_ID)).text for _ in range(3)]
    assert texts == ["You said: one", "You said: two", "You said: three"]
    ids = [m.message_id for m in api.messages(USER_ID)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    with pytest.raises(TimeoutError, match="no new message"):
        await api.next_message(USER_ID, timeout=0.05)


async def test_button_press_round_trip(fake_bot_api: FakeBotApi, app: Any) -> None:
    api = fake_bot_api
    api.send_message("/start", user=USER_ID)
    menu = await api.next_message(USER_ID)
    query_id = api.press(menu, menu.button("Programmes"), user=USER_ID)
    await api.wait_for(lambda: menu.edited)
    assert menu.text == "You chose menu:programmes"
    assert menu.reply_markup is None and "reply_markup" not in menu.payload
    assert [(a.callback_query_id, a.text) for a in api.callback_answers] == [
        (query_id, "Loading…")
    ]
    with pytest.raises(ValueError, match="not a live button"):
        api.press(menu, "menu:forged")


async def test_forged_callback_data_reaches_handler(fake_bot_api: FakeBotApi, app: Any) -> None:
    api = fake_bot_api
    api.send_message("/start", user=USER_ID)
    menu = await api.next_message(USER_ID)
    api.press_raw("x" * 100, USER_ID, menu.message_id, user=USER_ID)
    await api.wait_for(lambda: menu.edited)
    assert menu.text == f"You chose {'x' * 100}"


async def test_send_document_bytes(fake_bot_api: FakeBotApi, app: Any) -> None:
    api = fake_bot_api
    api.send_message("/doc", user=USER_ID)
    sent = await api.next_message(USER_ID)
    assert sent.document is not None
    assert sent.document.filename == "report.csv"
    assert sent.document.content == b"name,country\nAna,SG\n"
    assert sent.text == "Your report" and sent.raw_text == "Your <b>report</b>"
    assert sent.payload["document"]["file_size"] == len(sent.document.content)


async def test_user_media_updates(fake_bot_api: FakeBotApi, app: Any) -> None:
    api = fake_bot_api
    api.send_document("notes.txt", b"hello", mime_type="text/plain", user=USER_ID)
    api.send_photo(caption="my visa", user=USER_ID)
    api.send_sticker("🎉", user=USER_ID)
    api.send_voice(duration=7, user=USER_ID)
    api.send_location(user=USER_ID)
    replies = [(await api.next_message(USER_ID)).text for _ in range(5)]
    assert replies == [
        "document notes.txt b'hello'",  # downloaded via getFile + base_file_url
        "photo 1280x853 my visa",
        "sticker 🎉",
        "voice audio/ogg",
        "location 1.2834,103.8607",
    ]


async def test_html_error_surfaces_in_handler(fake_bot_api: FakeBotApi, app: Any) -> None:
    fake_bot_api.send_message("/bad", user=USER_ID)
    reply = await fake_bot_api.next_message(USER_ID)
    assert reply.text.startswith("error: Can't parse entities")
    assert fake_bot_api.calls_to("sendMessage")[0].status == 400


async def test_updater_start_stop_calls(fake_bot_api: FakeBotApi) -> None:
    api = fake_bot_api
    application = build_application(api)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        await api.wait_for(lambda: api.calls_to("getUpdates"))
        await application.updater.stop()
        await application.stop()
    methods = [c.method for c in api.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert api.calls_to("deleteWebhook")[0].params == {}
    # On stop the updater marks fetched updates as read with a non-blocking getUpdates
    assert methods[-1] == "getUpdates" and api.calls[-1].params["timeout"] == 0


# ---------------------------------------------------------------------- validation (bare Bot)
@pytest.mark.parametrize(
    "text",
    [
        "<b>unclosed",
        "<b>bold</i>",
        "stray</b>",
        "<foo>x</foo>",
        "<br/>",
        "1 < 2",
        "AT&T",
        "AT&T again",
        "x &amp",
        "&#;",
        "&nbsp;",
        "&amp no semicolon",
        "<span>no class</span>",
        "<!-- comment -->x",
    ],
)
async def test_malformed_html_is_rejected(bot: Bot, text: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER_ID, text, parse_mode=ParseMode.HTML)


async def test_valid_html_entities(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    text = (
        '<b>b</b> <i>i</i> <u>u</u> <s>s</s> <tg-spoiler>p</tg-spoiler> <a href="https://x.sg/?a=1&amp;b=2">'
        'l</a> <code>c</code> <pre><code class="language-python">x = 1</code></pre> '
        "<blockquote expandable>q</blockquote> &lt;&gt;&amp;&quot;&#39;&#x41; 🇸🇬 <b>end</b>"
    )
    message = await bot.send_message(USER_ID, text, parse_mode=ParseMode.HTML)
    assert message.text == "b i u s p l c x = 1 q <>&\"'A 🇸🇬 end"
    types = [e.type for e in message.entities]
    assert types == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "text_link",
        "code",
        "pre",
        "expandable_blockquote",
        "bold",
    ]
    assert message.entities[5].url == "https://x.sg/?a=1&b=2"
    assert message.entities[7].language == "python"
    assert message.parse_entity(message.entities[-1]) == "end"  # UTF-16 offsets after the flag


async def test_message_length_limit(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    await bot.send_message(USER_ID, "x" * 4096)
    await bot.send_message(USER_ID, "<b>" + "&lt;" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER_ID, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER_ID, "&amp;" * 4097, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER_ID, "<b> </b>", parse_mode=ParseMode.HTML)
    assert len(fake_bot_api.messages(USER_ID)) == 2


async def test_callback_data_limit(bot: Bot) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="é" * 32)]])
    await bot.send_message(USER_ID, "fits", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER_ID, "66 bytes", reply_markup=too_long)


async def test_fault_injection(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    api = fake_bot_api
    api.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER_ID, "hi")
    assert caught.value.retry_after == timedelta(seconds=3)  # PTB_TIMEDELTA, as the bot runs
    api.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(USER_ID, "hi")
    api.fail_next("sendMessage", status=None, delay=0.3)
    with pytest.raises(TimedOut):
        await bot.send_message(USER_ID, "slow", read_timeout=0.05)
    await bot.send_message(USER_ID, "hi")  # faults are consumed
    assert [c.status for c in api.calls_to("sendMessage")] == [429, 500, 200, 200]


async def test_blocked_user(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.block_user(USER_ID)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER_ID, "hi")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER_ID, "typing")
    fake_bot_api.unblock_user(USER_ID)
    await bot.send_message(USER_ID, "hi again")


async def test_unknown_chat_token_and_method(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "who?")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("fooBar")
    for token in ("123:WRONG", "garbage"):  # Telegram answers 401 / 404; PTB: InvalidToken
        with pytest.raises(InvalidToken, match="rejected by the server"):
            async with Bot(token, base_url=fake_bot_api.base_url):  # __aenter__ calls getMe
                pass


async def test_other_methods(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    api = fake_bot_api
    commands = [BotCommand("start", "Start"), BotCommand("help", "Help")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.send_chat_action(USER_ID, "typing")
    chat = await bot.get_chat(USER_ID)
    assert (chat.type, chat.username) == ("private", "ana")
    assert await bot.set_webhook("https://example.invalid/hook")
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    assert await bot.delete_webhook()
    assert await bot.close() and await bot.log_out()

    first = await bot.send_message(USER_ID, "first")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("first", USER_ID, first.message_id)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    edited = await bot.edit_message_reply_markup(USER_ID, first.message_id, reply_markup=keyboard)
    assert isinstance(edited, Message) and edited.reply_markup == keyboard
    assert await bot.delete_message(USER_ID, first.message_id)
    assert api.messages(USER_ID)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER_ID, first.message_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("nope")


async def test_forum_topic_threads_and_replies(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    api = fake_bot_api
    api.group(-1001234, "Forum", is_forum=True)
    topic = await bot.create_forum_topic(-1001234, "Visas")
    question = api.send_message(
        "how long?", user=USER_ID, chat=-1001234, message_thread_id=topic.message_thread_id
    )
    answer = await bot.send_message(
        -1001234,
        "two weeks",
        message_thread_id=topic.message_thread_id,
        reply_parameters=ReplyParameters(question),
    )
    assert answer.reply_to_message is not None and answer.reply_to_message.text == "how long?"
    sent: SentMessage = await api.next_message(-1001234)
    assert (sent.message_thread_id, sent.reply_to_message_id) == (
        topic.message_thread_id,
        question,
    )
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(-1001234, "x", reply_parameters=ReplyParameters(9999))
    with pytest.raises(BadRequest, match=r"(?i)not a forum"):
        await bot.create_forum_topic(USER_ID, "nope")


# ---------------------------------------------------------------------- raw long polling
async def test_get_updates_long_polling(fake_bot_api: FakeBotApi) -> None:
    api = fake_bot_api
    url = f"{api.base_url}{api.token}/getUpdates"
    async with aiohttp.ClientSession() as session:

        async def get_updates(**params: Any) -> list[dict[str, Any]]:
            async with session.post(url, json=params) as response:
                body = await response.json()
            assert body["ok"], body
            result: list[dict[str, Any]] = body["result"]
            return result

        async def start_long_poll(**params: Any) -> asyncio.Task[list[dict[str, Any]]]:
            polls = len(api.calls_to("getUpdates"))
            task = asyncio.create_task(get_updates(**params))
            await api.wait_for(lambda: len(api.calls_to("getUpdates")) > polls)  # it is waiting
            return task

        assert await get_updates(timeout=0) == []
        started = time.monotonic()
        assert await get_updates(timeout=0.2) == []
        assert time.monotonic() - started >= 0.2  # it waited for the timeout

        # Woken by the update, not by the timeout: with a poll that could last a minute,
        # an answer within half of it can only be the update's (a bound with no speed in it).
        cap, api.max_poll_timeout = api.max_poll_timeout, 60.0
        poll = await start_long_poll(timeout=60)
        first = api.send_message("hello", user=USER_ID)
        updates = await asyncio.wait_for(poll, timeout=30)
        api.max_poll_timeout = cap
        assert [u["message"]["message_id"] for u in updates] == [first]
        assert updates[0]["message"]["date"] > 0

        second = api.send_message("again", user=USER_ID)
        api.press_raw("cb", USER_ID, second, user=USER_ID)
        again = await get_updates(offset=updates[0]["update_id"] + 1, limit=1)
        assert [u["update_id"] for u in again] == [updates[0]["update_id"] + 1]
        only_callbacks = await get_updates(allowed_updates=["callback_query"])
        assert [list(u)[1] for u in only_callbacks] == ["callback_query"]
        assert await get_updates(offset=only_callbacks[0]["update_id"] + 1) == []

        stale = await start_long_poll(timeout=1)
        async with session.post(url, json={"timeout": 0}) as response:
            assert response.status == 200
        with pytest.raises(AssertionError, match="terminated by other getUpdates"):
            await stale

        async with session.post(
            f"{api.base_url}{api.token}/sendMessage",
            data={
                "chat_id": str(USER_ID),
                "text": "42",
                "reply_markup": '{"inline_keyboard": []}',
            },
        ) as response:  # form-encoded, as PTB sends it; "42" must stay a string
            assert (await response.json())["result"]["text"] == "42"


# ---------------------------------------------------------------- media methods (issue 13)
async def test_copy_message_copies_content_and_replaces_the_caption(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    api = fake_bot_api
    api.group(-100, "Staff")
    photo_id = api.send_photo(caption="original", user=USER_ID)
    copied = await bot.copy_message(
        -100, USER_ID, photo_id, caption="<b>new</b> caption", parse_mode=ParseMode.HTML
    )
    [copy] = api.messages(-100)
    assert copy.message_id == copied.message_id and copy.copied_from == (USER_ID, photo_id)
    assert "photo" in copy.payload and copy.text == "new caption"
    assert copy.entities == [{"type": "bold", "offset": 0, "length": 3}]
    kept = await bot.copy_message(-100, USER_ID, photo_id)
    assert api.messages(-100)[-1].text == "original" and kept.message_id == copy.message_id + 1
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(-100, USER_ID, 999)
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.copy_message(-100, USER_ID, photo_id, caption="x" * 1025)


async def test_send_photo_edit_caption_and_get_file(fake_bot_api: FakeBotApi, bot: Bot) -> None:
    api = fake_bot_api
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
        + (640).to_bytes(4, "big")
        + (480).to_bytes(4, "big")
    )
    sent = await bot.send_photo(USER_ID, InputFile(png, filename="c.png"), caption="chart")
    assert sent.photo[-1].width == 640 and sent.photo[-1].height == 480
    edited = await bot.edit_message_caption(USER_ID, sent.message_id, caption="new chart")
    assert isinstance(edited, Message) and edited.caption == "new chart"
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_caption(USER_ID, sent.message_id, caption="new chart")
    text = await bot.send_message(USER_ID, "plain")
    with pytest.raises(BadRequest, match=r"(?i)no caption in the message to edit"):
        await bot.edit_message_caption(USER_ID, text.message_id, caption="x")
    with pytest.raises(BadRequest, match=r"(?i)no text in the message to edit"):
        await bot.edit_message_text("x", USER_ID, sent.message_id)
    api.send_document("big.zip", b"PK", file_size=21 * 1024 * 1024, user=USER_ID)
    big_id = next(m for m in api._all_messages.values() if "document" in m)["document"]["file_id"]
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(big_id)
    small = await bot.get_file(sent.photo[-1].file_id)
    assert small.file_size == len(png) and str(small.file_path).endswith("/photos/c.png")


async def test_random_faults_hit_the_chosen_methods_at_the_chosen_rate(
    fake_bot_api: FakeBotApi, bot: Bot
) -> None:
    api = fake_bot_api
    api.fail_randomly(0.5, ["sendMessage"], seed=1, timeout_s=0.01)
    outcomes = []
    for _ in range(40):
        try:
            await bot.send_message(USER_ID, "hi")
            outcomes.append("ok")
        except (RetryAfter, NetworkError) as exc:
            outcomes.append(type(exc).__name__)
    assert 10 < outcomes.count("ok") < 30
    assert sum(api.injected.values()) == 40 - outcomes.count("ok")
    await bot.get_me()  # not chosen: never fails


# ---------------------------------------------------------------------- webhook mode


class Webhook:
    """A webhook on 127.0.0.1 that records each request and answers as `answer` says."""

    def __init__(self) -> None:
        # Bound but not listening until start(): connections are refused meanwhile, and no
        # other process can take the port.
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.seen: list[tuple[int, int, str | None]] = []  # (update_id, chat, secret header)
        self.answer: dict[int, list[int]] = {}  # update_id -> statuses for its next requests
        self.hold: dict[int, asyncio.Event] = {}  # update_id -> answered once this is set
        self.changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def _take(self, request: web.Request) -> web.Response:
        update = await request.json()
        chat = update["message"]["chat"]["id"]
        self.seen.append((update["update_id"], chat, request.headers.get(SECRET_HEADER)))
        self.changed.set()
        if (event := self.hold.get(update["update_id"])) is not None:
            await event.wait()
        statuses = self.answer.get(update["update_id"]) or [200]
        return web.Response(status=statuses.pop(0))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._take)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int) -> list[tuple[int, int, str | None]]:
        async with asyncio.timeout(5):
            while len(self.seen) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.seen


async def test_a_real_application_takes_its_updates_by_webhook_with_the_secret_token() -> None:
    port = free_port()
    async with FakeBotApi(token=TOKEN) as api:
        api.user(USER_ID, "Ana")
        application = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
        application.add_handler(MessageHandler(filters.TEXT, echo))
        application.bot_data["echo_done"] = asyncio.Event()
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="hook",
                webhook_url=f"http://127.0.0.1:{port}/hook",
                secret_token="s3cret-token_1",
            )
            try:
                for text in ("one", "two", "three"):
                    api.send_message(text, user=USER_ID)
                replies = [(await api.next_message(USER_ID)).text for _ in range(3)]
                assert replies == ["You said: one", "You said: two", "You said: three"]
                with pytest.raises(Conflict, match="webhook is active"):
                    await application.bot.get_updates()
                info = await application.bot.get_webhook_info()
                assert (info.url, info.pending_update_count) == (
                    f"http://127.0.0.1:{port}/hook",
                    0,
                )
                assert [d.status for d in api.deliveries] == [200, 200, 200]
                # PTB's server checks the header: the fake sent it (a wrong one is 403 there).
                api.webhook_secret = "wrong"
                api.send_message("four", user=USER_ID)
                await api.wait_for(lambda: len(api.deliveries) >= 5)
                assert {d.status for d in api.deliveries[3:]} == {403}
                assert (await application.bot.get_webhook_info()).pending_update_count == 1
            finally:
                await application.updater.stop()
                await application.stop()


async def test_the_webhook_is_retried_until_2xx_and_keeps_each_chats_order() -> None:
    hook = Webhook()
    await hook.start()
    try:
        async with FakeBotApi(token=TOKEN, webhook_retry=(0.05, 0.2)) as api:
            async with Bot(api.token, base_url=api.base_url) as bot:
                await bot.set_webhook(hook.url, secret_token="s")
            first = api.send_message("a1", user=1)
            hook.answer[api._updates[-1]["update_id"]] = [500, 502, 200]
            api.send_message("a2", user=1)
            api.send_message("b1", user=2)
            seen = await hook.wait_for(5)
            await api.wait_for(lambda: not api._updates)
        assert first == 1
        # Chat 2 is not held up by chat 1's failures; chat 1's second waits for its first.
        assert [u for u, chat, _ in seen if chat == 1] == [1, 1, 1, 2]
        assert seen.index((3, 2, "s")) < seen.index((1, 1, "s"), 2)  # b1 before a1's last try
        assert {secret for *_, secret in seen} == {"s"}
        tries = [d for d in api.deliveries if d.update_id == 1]
        assert [(d.update_id, d.status) for d in tries] == [(1, 500), (1, 502), (1, 200)]
        gaps = [b.at - a.at for a, b in itertools.pairwise(tries)]
        assert all(gap >= 0.04 for gap in gaps)  # backed off between tries
    finally:
        await hook.stop()


async def test_a_refused_or_unanswered_webhook_is_tried_again_and_getupdates_is_closed() -> None:
    hook = Webhook()  # not listening yet: the connection is refused
    api = FakeBotApi(token=TOKEN, webhook_retry=(0.05, 0.1), webhook_timeout=0.5)
    async with api, Bot(api.token, base_url=api.base_url) as bot:
        await bot.set_webhook(hook.url)
        api.send_message("hello", user=USER_ID)
        await api.wait_for(lambda: len(api.deliveries) >= 2)
        refused = [d.status is None and "Connect" in d.error for d in api.deliveries]
        assert all(refused), api.deliveries
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1 and "Connect" in str(info.last_error_message)
        with pytest.raises(Conflict):
            await bot.get_updates()
        hook.hold[1] = asyncio.Event()  # no answer within the timeout: posted again
        await hook.start()
        try:
            await hook.wait_for(2)
            hook.hold[1].set()
            await api.wait_for(lambda: not api._updates)
            assert [u for u, *_ in hook.seen] == [1, 1]  # as Telegram does: twice
            assert [d.status for d in api.deliveries[:2]] == [None, None]
            assert api.deliveries[-1].status == 200
            # Deleted: nothing more is posted, and getUpdates serves the queue again.
            await bot.delete_webhook()
            api.send_message("again", user=USER_ID)
            updates = await bot.get_updates()
            assert [u.message.text for u in updates if u.message] == ["again"]
            assert len(hook.seen) == 2
        finally:
            await hook.stop()
