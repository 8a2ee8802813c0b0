"""An in-process fake of the Telegram Bot API for end-to-end tests.

:class:`FakeBotApi` is a small aiohttp server bound to 127.0.0.1 that speaks enough of the Bot
API for the real python-telegram-bot ``Application`` to run against it over HTTP::

    async with FakeBotApi(token="123:ABC") as api:
        app = (ApplicationBuilder().token(api.token).base_url(api.base_url)
               .base_file_url(api.base_file_url).build())
        ...
        api.send_message("/start", user=api.user(42))
        reply = await api.next_message(42)

The test side enqueues updates (served through real long polling on ``getUpdates``, or, after
``setWebhook``, posted to the webhook's URL as Telegram does) and inspects what the bot
sent. Requests are validated the way Telegram does for the things bots
commonly get wrong (HTML markup, message length, callback data size, editing unchanged
messages), and faults (429/5xx/delays, blocked users) can be injected.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any, NoReturn, Self, TypedDict, TypeVar, Unpack
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

__all__ = [
    "ApiCall",
    "ApiError",
    "CallbackAnswer",
    "FakeBotApi",
    "MessageOptions",
    "SentMessage",
    "UploadedFile",
    "WebhookDelivery",
]

JSON = dict[str, Any]
T = TypeVar("T")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MAX_TEXT_LENGTH = 4096  # counted in code points after entity parsing
MAX_CAPTION_LENGTH = 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses larger files
#: Message fields that make up its content: what copyMessage copies.
MEDIA_FIELDS = _words(
    "photo document voice audio video video_note animation location venue sticker contact"
)
MAX_CALLBACK_DATA_BYTES = 64
#: Update types Telegram withholds unless explicitly listed in ``allowed_updates``.
OPT_IN_UPDATES = _words("chat_member message_reaction message_reaction_count")
#: Form fields kept as strings; every other form field is JSON-decoded, because PTB posts
#: str values as they are and JSON-dumps everything else (ints, bools, ``reply_markup``...).
STRING_PARAMS = _words(
    "text caption parse_mode callback_query_id url action name icon_custom_emoji_id title "
    "language_code secret_token ip_address inline_message_id document emoji file_id"
)
CHAT_ACTIONS = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note"
)
_TOKEN_RE = re.compile(r"^\d+:[\w-]+$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """A Telegram-shaped API error; raised inside method handlers, sent as the response."""

    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after

    def to_json(self) -> JSON:
        """Return the body Telegram sends for this error."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if (ra := self.retry_after) is not None:
            body["parameters"] = {"retry_after": int(ra) if float(ra).is_integer() else ra}
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class UploadedFile:
    """A file the bot uploaded (multipart) or referenced by file_id/URL."""

    filename: str
    content: bytes
    mime_type: str | None = None


@dataclass
class ApiCall:
    """One HTTP call to the fake API: canonical method name, decoded params, final status."""

    method: str
    params: JSON
    status: int = 200


@dataclass
class CallbackAnswer:
    """Parameters of an ``answerCallbackQuery`` call."""

    callback_query_id: str
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


@dataclass
class SentMessage:
    """A message the bot sent; edits update it in place, deleting sets ``deleted``."""

    message_id: int
    chat_id: int
    text: str  # plain text (HTML stripped and unescaped); the caption for documents
    raw_text: str
    parse_mode: str | None
    reply_markup: JSON | None
    payload: JSON  # the Message object as last returned to the bot
    entities: list[JSON] = field(default_factory=list)
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    document: UploadedFile | None = None
    photo: UploadedFile | None = None  # an uploaded photo (sendPhoto)
    copied_from: tuple[int, int] | None = None  # copyMessage: (from_chat_id, message_id)
    edited: bool = False
    deleted: bool = False

    def buttons(self) -> list[tuple[str, str]]:
        """Return ``(text, callback_data or url)`` for every keyboard button, row by row.

        Reply-keyboard buttons yield ``(text, text)``.
        """
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        out: list[tuple[str, str]] = []
        for button in itertools.chain.from_iterable(rows):
            button = {"text": button} if isinstance(button, str) else button
            web_app = (button.get("web_app") or {}).get("url")
            value = button.get("callback_data", button.get("url", web_app or button.get("text")))
            out.append((button["text"], str(value)))
        return out

    def button(self, text_substring: str) -> str:
        """Return the callback data (or url) of the first button whose text contains the arg."""
        for text, value in self.buttons():
            if text_substring in text:
                return value
        raise LookupError(f"no button containing {text_substring!r} in {self.buttons()!r}")


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update to the webhook: the answer's status, or None and the error when
    there was none (connection refused or cut, no answer within the timeout)."""

    update_id: int
    status: int | None
    error: str = ""
    at: float = 0.0  # time.monotonic()

    @property
    def ok(self) -> bool:
        """A 2xx answer: Telegram counts the update delivered."""
        return self.status is not None and 200 <= self.status < 300


#: The header Telegram sends the webhook's secret_token in.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Webhook URLs the fake posts to: the tests reach only this machine.
LOOPBACK_HOSTS = frozenset(("127.0.0.1", "localhost"))


class MessageOptions(TypedDict, total=False):
    """Sender and placement of an incoming message; see :meth:`FakeBotApi.send_message`."""

    user: JSON | int | None
    chat: JSON | int | None
    reply_to: int | SentMessage | None
    message_thread_id: int | None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2  # a lone surrogate is one unit


_TAG_ENTITY = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "span": "spoiler", "tg-spoiler": "spoiler", "a": "text_link",
    "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
#: An '&' that does not start one of the entities Telegram supports (the ';' is required).
_BAD_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);)")


class _TelegramHtml(HTMLParser):
    """Parse Telegram's HTML subset into plain text plus MessageEntity dicts."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.parts: list[str] = []
        self.utf16_offset = 0  # in UTF-16 code units, like Telegram's entity offsets
        self.stack: list[tuple[str, int, dict[str, str]]] = []
        self.entities: list[JSON] = []

    def char_index(self, extra: int = 0) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col + extra

    def fail(self, message: str, extra: int = 0) -> NoReturn:
        byte_offset = len(self.source[: self.char_index(extra)].encode())
        raise _bad(f"can't parse entities: {message} at byte offset {byte_offset}")

    def add_text(self, text: str) -> None:
        self.parts.append(text)
        self.utf16_offset += _utf16_len(text)

    def handle_data(self, data: str) -> None:
        for char in "<&":
            if char in data:
                self.fail(f"Unexpected {char!r}, escape it as an HTML entity", data.index(char))
        self.add_text(data)

    def handle_entityref(self, name: str) -> None:  # validated by _BAD_AMPERSAND already
        self.add_text(_NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        try:
            self.add_text(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))
        except (ValueError, OverflowError):
            self.fail(f'Invalid character reference "&#{name};"')

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag not in _TAG_ENTITY:
            self.fail(f'Unsupported start tag "{tag}"')
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            self.fail('Tag "span" must have class "tg-spoiler"')
        if tag == "tg-emoji" and not attributes.get("emoji-id"):
            self.fail('Tag "tg-emoji" must have attribute "emoji-id"')
        self.stack.append((tag, self.utf16_offset, attributes))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self.fail("Unexpected end tag")
        open_tag, start, attributes = self.stack.pop()
        if open_tag != tag:
            self.fail(f'Unmatched end tag, expected "</{open_tag}>", found "</{tag}>"')
        entity: JSON = {
            "type": _TAG_ENTITY[tag],
            "offset": start,
            "length": self.utf16_offset - start,
        }
        if tag == "a":
            if "href" not in attributes:
                return  # Telegram ignores <a> without href
            entity["url"] = attributes["href"]
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes["emoji-id"]
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            if language := attributes.get("class", "").removeprefix("language-"):
                self.stack[-1][2]["language"] = language
            return  # <pre><code> is a single pre entity
        elif tag == "pre" and attributes.get("language"):
            entity["language"] = attributes["language"]
        if entity["length"]:
            self.entities.append(entity)

    def handle_comment(self, data: str) -> None:
        self.fail('Unsupported start tag "!--"')

    def handle_decl(self, decl: str) -> None:
        self.fail('Unsupported start tag "!"')

    def unknown_decl(self, data: str) -> None:
        self.handle_decl(data)

    def handle_pi(self, data: str) -> None:
        self.fail('Unsupported start tag "?"')


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``; raise ApiError 400."""
    if bad := _BAD_AMPERSAND.search(text):
        offset = len(text[: bad.start()].encode())
        raise _bad(f"can't parse entities: Unsupported HTML entity at byte offset {offset}")
    parser = _TelegramHtml(text)
    parser.feed(text)
    parser.close()
    if parser.stack:
        tag = parser.stack[-1][0]
        raise _bad(f"can't parse entities: Can't find end tag corresponding to start tag {tag!r}")
    parser.entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), parser.entities


def _format(params: JSON, key: str, entities_key: str, limit: int) -> tuple[str, list[JSON]]:
    """Validate a text/caption like Telegram; return plain text and entities."""
    text, what = str(params.get(key) or ""), "message" if key == "text" else "caption"
    if what == "message" and not text.strip():
        raise _bad("message text is empty")
    mode = str(params.get("parse_mode") or "").lower()
    if mode == "html":
        plain, entities = parse_html(text)
    elif mode in ("", "markdown", "markdownv2"):  # Markdown is passed through unchecked
        plain, entities = text, list(params.get(entities_key) or [])
    else:
        raise _bad("unsupported parse_mode")
    if what == "message" and not plain.strip():
        raise _bad("message text is empty")
    if len(plain) > limit:
        raise _bad("message is too long" if what == "message" else "message caption is too long")
    return plain, entities


def _check_markup(markup: Any) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    for button in itertools.chain.from_iterable(markup.get("inline_keyboard", [])):
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
            raise _bad("BUTTON_URL_INVALID")
        web_app = button.get("web_app")
        if web_app is not None and not str(web_app.get("url", "")).startswith("https://"):
            raise _bad(
                f"inline keyboard button Web App URL '{web_app.get('url')}' is invalid: "
                "Only HTTPS links are allowed"
            )
    return markup


@dataclass(frozen=True)
class _Fault:
    """One injected failure (see FakeBotApi.fail_next)."""

    status: int | None
    retry_after: float | None
    delay: float
    description: str | None
    chat_id: int | None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.status, self.retry_after, self.delay, self.description, self.chat_id))


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (from its IHDR chunk); (0, 0) for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0, 0


def _update_kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _update_chat(update: JSON) -> int | str:
    """What a webhook's updates are ordered by: the chat of the update's message (a callback
    query's message's), else the update alone."""
    content = update[_update_kind(update)]
    if isinstance(content, dict):
        chat = (content.get("message") or content).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
    return f"update {update['update_id']}"


class FakeBotApi:
    """A fake Bot API server; use as ``async with FakeBotApi() as api``.

    ``max_poll_timeout`` caps how long ``getUpdates`` long-polls so shutdowns stay fast.
    With ``strict_chats`` the bot can only talk to chats the test created or that sent updates
    (anything else is 400 "chat not found", as on Telegram).

    After ``setWebhook`` the updates are POSTed to its URL instead (``getUpdates`` is then 409,
    as on Telegram): one update a request, with the ``secret_token`` in
    ``X-Telegram-Bot-Api-Secret-Token``; a chat's next update only once its last was answered
    2xx, up to ``webhook_max_connections`` chats at once (Telegram's default, 40). A non-2xx
    answer, a refused or cut connection or no answer within ``webhook_timeout`` seconds is
    tried again after ``webhook_retry[0]`` seconds, doubling up to ``webhook_retry[1]``. Every
    attempt is in :attr:`deliveries`. Only URLs on 127.0.0.1 or localhost are posted to.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_username: str = "clair_test_bot",
        bot_first_name: str = "Clair Test Bot",
        max_poll_timeout: float = 1.0,
        strict_chats: bool = True,
        port: int = 0,
        webhook_retry: tuple[float, float] = (0.1, 2.0),
        webhook_timeout: float = 10.0,
        webhook_max_connections: int = 40,
    ) -> None:
        self.token = token
        self.max_poll_timeout = max_poll_timeout
        self.strict_chats = strict_chats
        bot_id = token.split(":")[0]
        self.bot_user: JSON = {
            "id": int(bot_id) if bot_id.isdigit() else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[ApiCall] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_retry = webhook_retry
        self.webhook_timeout = webhook_timeout
        self.webhook_max_connections = webhook_max_connections
        #: Every POST of an update to the webhook, in the order they were answered.
        self.deliveries: list[WebhookDelivery] = []
        self._webhook_error: tuple[int, str] | None = None  # getWebhookInfo's last error
        self._webhook_task: asyncio.Task[None] | None = None
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, JSON] = {}
        self.blocked: set[int] = set()
        self._sent: list[SentMessage] = []
        self._all_messages: dict[tuple[int, int], JSON] = {}  # bot's and users', for replies
        self._last_ids: dict[tuple[str, int], int] = {}  # ("message"|"thread", chat) -> last id
        self._consumed: dict[int, int] = {}
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._allowed_updates: list[str] = []
        self._files: dict[str, tuple[str, bytes]] = {}
        self._sizes: dict[str, int] = {}  # file_id -> declared size, when not len(content)
        self._faults: dict[str, list[_Fault]] = {}
        self._random_faults: tuple[random.Random, float, frozenset[str], float] | None = None
        #: Faults injected by :meth:`fail_randomly`, by kind ("500", "429", "timeout").
        self.injected: Counter[str] = Counter()
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Event()  # set and replaced by a fresh Event on every change
        self._runner: web.AppRunner | None = None
        self._port = port
        self.default_user = self.user(1001, "Ana", username="ana")

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start serving on 127.0.0.1, on the port given (a free one by default)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Release pending long polls, stop posting to the webhook, shut the server down."""
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The port it serves on (or will, for a fake not started yet)."""
        return self._port

    @property
    def base_url(self) -> str:
        """URL for ``ApplicationBuilder().base_url()``; PTB appends the token."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """URL for ``ApplicationBuilder().base_file_url()``; PTB appends the token."""
        return f"http://127.0.0.1:{self._port}/file/bot"

    # ------------------------------------------------------------------ test side: setup
    def user(
        self,
        id: int,
        first_name: str = "Ana",
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSON:
        """Register a user and its private chat (chat id == user id); return the User."""
        user: JSON = {"id": id, "is_bot": False, "first_name": first_name}
        chat: JSON = {"id": id, "type": "private", "first_name": first_name}
        if username:
            user["username"] = chat["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[id], self.chats[id] = user, chat
        return user

    def group(self, chat_id: int, title: str = "Test Group", is_forum: bool = False) -> JSON:
        """Register a group (a supergroup if a forum or a ``-100…`` id); return the Chat."""
        supergroup = is_forum or str(chat_id).startswith("-100")
        chat: JSON = {"id": chat_id, "type": "supergroup" if supergroup else "group"}
        chat |= {"title": title} | ({"is_forum": True} if is_forum else {})
        self.chats[chat_id] = chat
        return chat

    def block_user(self, chat_id: int) -> None:
        """Make sends to ``chat_id`` fail with 403 "Forbidden: bot was blocked by the user"."""
        self.blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        """Undo :meth:`block_user`."""
        self.blocked.discard(chat_id)

    def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        status: int | None = 429,
        retry_after: float | None = None,
        delay: float = 0.0,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with HTTP ``status``.

        429 carries ``parameters.retry_after`` (default 1). ``delay`` postpones the response;
        with ``status=None`` the delayed call then succeeds (for client timeout tests). With
        ``chat_id`` only calls to that chat count (the bot may send to several at once).
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = _Fault(status, retry_after, delay, description, chat_id)
        self._faults.setdefault(method.lower(), []).extend([fault] * count)

    def fail_randomly(
        self, rate: float, methods: Iterable[str], *, seed: int = 0, timeout_s: float = 1.0
    ) -> None:
        """Make a share ``rate`` of the calls of ``methods`` fail, chosen by a seeded random
        generator, a third each as 500, as 429 (retry_after 1) and as a timeout (no answer
        for ``timeout_s``, then a 504; the call is not carried out)."""
        names = frozenset(m.lower() for m in methods)
        self._random_faults = (random.Random(seed), rate, names, timeout_s)

    # ------------------------------------------------------------------ test side: updates
    def enqueue_update(self, kind: str, payload: JSON) -> int:
        """Queue a raw update of type ``kind`` (e.g. "message"); return its update_id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        self._notify()
        return update_id

    def send_message(
        self,
        text: str,
        user: JSON | int | None = None,
        chat: JSON | int | None = None,
        reply_to: int | SentMessage | None = None,
        entities: list[JSON] | None = None,
        message_thread_id: int | None = None,
    ) -> int:
        """Queue a text message from ``user`` (default :attr:`default_user`); return its id.

        ``chat`` defaults to the user's private chat. A leading ``/command`` (also
        ``/command@botname``) gets the bot_command entity PTB's CommandHandler needs.
        """
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        content: JSON = {"text": text} | ({"entities": entities} if entities else {})
        return self._incoming(
            content, user=user, chat=chat, reply_to=reply_to, message_thread_id=message_thread_id
        )

    def send_sticker(self, emoji: str = "👍", **options: Unpack[MessageOptions]) -> int:
        """Queue a sticker message; ``options`` as for :meth:`send_message`."""
        sticker = self._file("stickers/s.webp", b"RIFF", type="regular", emoji=emoji)
        sticker |= {"width": 512, "height": 512, "is_animated": False, "is_video": False}
        return self._incoming({"sticker": sticker}, **options)

    def send_photo(
        self,
        caption: str | None = None,
        media_group_id: str | None = None,
        **options: Unpack[MessageOptions],
    ) -> int:
        """Queue a photo message (two sizes) with an optional caption; photos sent together
        as an album share a ``media_group_id``."""
        sizes = [
            self._file(f"photos/{w}.jpg", b"\xff\xd8\xff", width=w, height=w * 2 // 3)
            for w in (90, 1280)
        ]
        content: JSON = {"photo": sizes} | ({"caption": caption} if caption else {})
        if media_group_id is not None:
            content["media_group_id"] = media_group_id
        return self._incoming(content, **options)

    def send_voice(self, duration: int = 3, **options: Unpack[MessageOptions]) -> int:
        """Queue a voice note."""
        voice = self._file("voice/v.oga", b"OggS", duration=duration, mime_type="audio/ogg")
        return self._incoming({"voice": voice}, **options)

    def send_document(
        self,
        filename: str = "file.pdf",
        content: bytes = b"%PDF-1.4",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        file_size: int | None = None,
        size_in_update: bool = True,
        **options: Unpack[MessageOptions],
    ) -> int:
        """Queue a document; the bot can download it via getFile and ``base_file_url``.

        ``file_size`` declares a size other than the content's (a large file without the
        bytes); ``size_in_update=False`` leaves the field out of the update, as Telegram
        may, so that only getFile tells."""
        doc = self._file(f"documents/{filename}", content, file_name=filename, mime_type=mime_type)
        if file_size is not None:
            self._sizes[doc["file_id"]] = file_size
            doc |= {"file_size": file_size}
        if not size_in_update:
            del doc["file_size"]
        return self._incoming(
            {"document": doc} | ({"caption": caption} if caption else {}), **options
        )

    def edit_message(
        self,
        chat_id: int,
        message_id: int,
        text: str | None = None,
        caption: str | None = None,
        user: JSON | int | None = None,
    ) -> int:
        """Queue an ``edited_message`` update: a person edited their message's text or
        caption; return the update id."""
        message = dict(self._all_messages[(chat_id, message_id)])
        if text is not None:
            message["text"] = text
        if caption is not None:
            message["caption"] = caption
        message["edit_date"] = int(time.time())
        if user is not None:
            message["from"] = self._resolve_user(user)
        self._all_messages[(chat_id, message_id)] = message
        return self.enqueue_update("edited_message", message)

    def send_location(
        self,
        latitude: float = 1.2834,
        longitude: float = 103.8607,
        **options: Unpack[MessageOptions],
    ) -> int:
        """Queue a location message (defaults to Singapore)."""
        return self._incoming(
            {"location": {"latitude": latitude, "longitude": longitude}}, **options
        )

    def press(self, message: SentMessage, data: str, user: JSON | int | None = None) -> str:
        """Queue a callback_query for a button of a bot message; return the query id."""
        valid = [value for _, value in message.buttons()]
        if message.deleted or data not in valid:
            raise ValueError(f"{data!r} is not a live button of {message.message_id}: {valid}")
        return self._callback(data, message.payload, user)

    def press_raw(
        self, data: str, chat_id: int, message_id: int, user: JSON | int | None = None
    ) -> str:
        """Queue a callback_query with arbitrary (e.g. forged) data; return the query id."""
        message = self._all_messages.get((chat_id, message_id))
        if message is None:
            message = {"message_id": message_id, "date": 0, "chat": self.chats[chat_id]}
        return self._callback(data, message, user)

    def stray_copy(self, message: SentMessage) -> SentMessage:
        """A second copy of a bot message, as Telegram delivers it when the bot's first
        sendMessage stalled after delivery and was sent again: in the chat, with its own id,
        but never in any answer the bot received."""
        params = {"chat_id": message.chat_id, "text": message.raw_text}
        params |= {"parse_mode": message.parse_mode, "reply_markup": message.reply_markup}
        if message.message_thread_id is not None:
            params["message_thread_id"] = message.message_thread_id
        content: JSON = {"text": message.text}
        if message.entities:
            content["entities"] = message.entities
        self._send(params, content, message.entities)
        copy = self._sent.pop()  # delivered, but not among the messages the bot sent
        self._all_messages[(copy.chat_id, copy.message_id)] = copy.payload
        return copy

    # ------------------------------------------------------------------ test side: inspection
    def messages(self, chat_id: int) -> list[SentMessage]:
        """All bot messages sent to ``chat_id`` in order (including edited/deleted ones)."""
        return [m for m in self._sent if m.chat_id == chat_id]

    def calls_to(self, method: str) -> list[ApiCall]:
        """Recorded calls of one method (case-insensitive)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def next_message(self, chat_id: int, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """Wait for the next bot message to ``chat_id`` that this method has not returned yet."""
        seen = self._consumed.get(chat_id, 0)
        try:
            message = await self.wait_for(lambda: self.messages(chat_id)[seen:], timeout)
        except TimeoutError:
            sent = [m.text for m in self.messages(chat_id)]
            raise TimeoutError(
                f"no new message to {chat_id} in {timeout}s; sent: {sent}"
            ) from None
        self._consumed[chat_id] = seen + 1
        return message[0]

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Wait until ``predicate()`` is truthy and return its value.

        The predicate is re-checked whenever the fake's state changes (any API call or queued
        update), so it should depend on that state. Raises :class:`TimeoutError`.
        """
        async with asyncio.timeout(timeout):
            while True:
                changed = self._changed  # taken before checking, so no change is missed
                if result := predicate():
                    return result
                await changed.wait()

    # ------------------------------------------------------------------ helpers
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _drop_unwanted(self) -> None:
        """Drop queued updates of kinds the bot did not ask for (allowed_updates)."""
        allowed = self._allowed_updates
        self._updates = [
            u
            for u in self._updates
            if (_update_kind(u) in allowed if allowed else _update_kind(u) not in OPT_IN_UPDATES)
        ]

    async def _post_updates(self) -> None:
        """From the first setWebhook on: while a webhook is set, post each chat's first queued
        update, a chat at a time (idle while there is none, until the server stops)."""
        in_flight: dict[int | str, asyncio.Task[None]] = {}
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                while not self._closing:
                    changed = self._changed  # taken before looking, so no change is missed
                    self._drop_unwanted()
                    for update in self._updates if self.webhook_url else []:
                        if len(in_flight) >= self.webhook_max_connections:
                            break
                        chat = _update_chat(update)
                        if chat in in_flight:  # its earlier update is not answered yet
                            continue
                        task = asyncio.create_task(self._post_until_taken(session, update))
                        task.add_done_callback(partial(self._taken, in_flight, chat))
                        in_flight[chat] = task
                    await changed.wait()
        finally:
            for task in list(in_flight.values()):
                task.cancel()

    def _taken(self, in_flight: dict[int | str, Any], chat: int | str, _: object) -> None:
        in_flight.pop(chat, None)  # the chat's next update may go
        self._notify()

    async def _post_until_taken(self, session: aiohttp.ClientSession, update: JSON) -> None:
        """Post `update` until the webhook answers 2xx, backing off as Telegram does; then it
        leaves the queue. Gives up (leaving it queued) when the webhook is deleted."""
        wait, most = self.webhook_retry
        for attempt in itertools.count():
            if attempt:
                await asyncio.sleep(wait)  # Telegram's back-off before the next try
                wait = min(wait * 2, most)
            if not self.webhook_url:
                return
            delivery = await self._post(session, self.webhook_url, update)
            self.deliveries.append(delivery)
            self._notify()
            if delivery.ok:
                self._updates = [u for u in self._updates if u is not update]
                return
            message = delivery.error or f"Wrong response from the webhook: {delivery.status}"
            self._webhook_error = (int(time.time()), message)

    async def _post(
        self, session: aiohttp.ClientSession, url: str, update: JSON
    ) -> WebhookDelivery:
        update_id = int(update["update_id"])
        if urlsplit(url).hostname not in LOOPBACK_HOSTS:
            error = "the fake posts only to 127.0.0.1 and localhost"
            return WebhookDelivery(update_id, None, error, time.monotonic())
        headers = {SECRET_HEADER: self.webhook_secret} if self.webhook_secret else {}
        try:
            async with session.post(url, json=update, headers=headers) as response:
                await response.read()
                return WebhookDelivery(update_id, response.status, "", time.monotonic())
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return WebhookDelivery(update_id, None, error, time.monotonic())

    def _next_id(self, kind: str, chat_id: int, first: int = 1) -> int:
        value = self._last_ids.get((kind, chat_id), first - 1) + 1
        self._last_ids[(kind, chat_id)] = value
        return value

    def _resolve_user(self, user: JSON | int | None) -> JSON:
        if user is None:
            return self.default_user
        if isinstance(user, int):
            return self.users.get(user) or self.user(user)
        return user

    def _chat(self, chat_id: Any) -> JSON:
        if chat_id in (None, ""):
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if chat_id in self.chats:
            return self.chats[chat_id]
        if self.strict_chats or not isinstance(chat_id, int):
            raise _bad("chat not found")
        return self.group(chat_id) if chat_id < 0 else self.chats[self.user(chat_id)["id"]]

    def _file(self, path: str, content: bytes, **fields: Any) -> JSON:
        file_id = f"F{len(self._files) + 1:05d}"
        self._files[file_id] = (path, content)
        ids = {"file_id": file_id, "file_unique_id": f"U{file_id}"}
        return ids | {"file_size": len(content)} | fields

    def _new_message(self, chat: JSON, sender: JSON, thread_id: Any, reply: Any) -> JSON:
        message_id = self._next_id("message", chat["id"])
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat}
        message["from"] = sender
        if thread_id is not None:
            message |= {"message_thread_id": int(thread_id), "is_topic_message": True}
        if reply is not None:  # Telegram does not nest replies deeper than one level
            message["reply_to_message"] = {
                k: v for k, v in reply.items() if k != "reply_to_message"
            }
        return message

    def _incoming(self, content: JSON, **options: Unpack[MessageOptions]) -> int:
        sender, chat = self._resolve_user(options.get("user")), options.get("chat")
        if sender["id"] not in self.chats:
            self.user(sender["id"], sender["first_name"], sender.get("username"))
        if not isinstance(chat, dict):
            chat = self.chats[sender["id"] if chat is None else chat]
        self.chats.setdefault(chat["id"], chat)
        reply_to = options.get("reply_to")
        reply_id = reply_to.message_id if isinstance(reply_to, SentMessage) else reply_to
        reply = self._all_messages.get((chat["id"], reply_id or 0))
        thread_id = options.get("message_thread_id")
        message = self._new_message(chat, sender, thread_id, reply) | content
        self._all_messages[(chat["id"], message["message_id"])] = message
        self.enqueue_update("message", message)
        return int(message["message_id"])

    def _callback(self, data: str, message: JSON, user: JSON | int | None) -> str:
        query = self._callback_query(data, message, user)
        self.enqueue_update("callback_query", query)
        return str(query["id"])

    def _callback_query(self, data: str, message: JSON, user: JSON | int | None) -> JSON:
        query_id = str(next(self._callback_ids))
        self._open_callbacks.add(query_id)
        query = {"id": query_id, "from": self._resolve_user(user), "message": message}
        return query | {"chat_instance": f"ci{message['chat']['id']}", "data": data}

    def button_update(
        self, update_id: int, message: SentMessage, data: str, user: JSON | int | None = None
    ) -> JSON:
        """A press of a button of a bot message as an update, not queued: for a test that
        posts updates to bots by hand (the query can be answered like a queued one's)."""
        return {
            "update_id": update_id,
            "callback_query": self._callback_query(data, message.payload, user),
        }

    def _find_sent(self, params: JSON) -> SentMessage:
        if "inline_message_id" in params:
            raise _bad("inline messages are not supported by FakeBotApi")
        key = (self._chat(params.get("chat_id"))["id"], int(params.get("message_id") or 0))
        for message in self._sent:
            if (message.chat_id, message.message_id) == key and not message.deleted:
                return message
        if key in self._all_messages:
            raise _bad("message can't be edited")
        raise _bad("message to edit not found")

    def _reply_to(self, chat: JSON, params: JSON) -> JSON | None:
        reply_params = params.get("reply_parameters") or {}
        if "reply_to_message_id" in params:
            reply_params = {"message_id": params["reply_to_message_id"]}
        if not reply_params:
            return None
        reply = self._all_messages.get((chat["id"], int(reply_params.get("message_id") or 0)))
        if reply is None and not reply_params.get("allow_sending_without_reply"):
            raise _bad("message to be replied not found")
        return reply

    def _send(self, params: JSON, content: JSON, entities: list[JSON], **extra: Any) -> JSON:
        """Store and return a new bot message built from ``content`` (text or document)."""
        chat = self._chat(params.get("chat_id"))
        if chat["id"] in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        thread_id, reply = params.get("message_thread_id"), self._reply_to(chat, params)
        markup = _check_markup(params.get("reply_markup"))
        payload = self._new_message(chat, self.bot_user, thread_id, reply) | content
        if markup and "inline_keyboard" in markup:  # only inline keyboards are echoed back
            payload["reply_markup"] = markup
        self._all_messages[(chat["id"], payload["message_id"])] = payload
        message = SentMessage(
            message_id=payload["message_id"],
            chat_id=chat["id"],
            text=str(content.get("text", content.get("caption", ""))),
            raw_text=str(params.get("text", params.get("caption")) or ""),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            payload=payload,
            entities=entities,
            reply_to_message_id=reply["message_id"] if reply else None,
            message_thread_id=None if thread_id is None else int(thread_id),
            **extra,
        )
        self._sent.append(message)
        return payload

    def _store_edit(self, message: SentMessage, markup: JSON | None, content: JSON) -> JSON:
        message.reply_markup, message.edited = markup, True
        payload = message.payload | {"edit_date": int(time.time())} | content
        payload.pop("reply_markup", None)
        if not payload.get("entities"):
            payload.pop("entities", None)
        if markup and "inline_keyboard" in markup:
            payload["reply_markup"] = markup
        message.payload = self._all_messages[(message.chat_id, message.message_id)] = payload
        return payload

    # ------------------------------------------------------------------ HTTP layer
    async def _handle(self, request: web.Request) -> web.Response:
        token, requested = request.match_info["token"], request.match_info["method"]
        if token != self.token:  # Telegram: 401 for a wrong token, 404 for a malformed one
            error = ApiError(401, "Unauthorized") if _TOKEN_RE.match(token) else None
            error = error or ApiError(404, "Not Found")
            return web.json_response(error.to_json(), status=error.status)
        method = _METHODS.get(requested.lower())  # method names are case-insensitive
        call = ApiCall(method.__name__.removeprefix("_api_") if method else requested, {})
        self.calls.append(call)
        try:
            call.params = await self._parse_params(request)
            if method is None:
                raise ApiError(404, "Not Found")
            await self._apply_fault(call.method, call.params)
            # Through the instance, so that a subclass may override a method (benchmarks.chaos).
            body: JSON = {"ok": True, "result": await getattr(self, method.__name__)(call.params)}
        except ApiError as error:
            call.status, body = error.status, error.to_json()
        except Exception as exc:  # a bug in the fake: make it visible to the bot and the test
            call.status, body = 500, ApiError(500, f"FakeBotApi bug: {exc!r}").to_json()
        finally:
            self._notify()
        return web.json_response(body, status=call.status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        for path, content in self._files.values():
            if request.match_info["token"] == self.token and path == request.match_info["path"]:
                return web.Response(body=content)
        return web.json_response(ApiError(404, "Not Found").to_json(), status=404)

    def _random_fault(self, method: str) -> tuple[int | None, float | None, float, str | None]:
        if self._random_faults is None:
            return (None, None, 0.0, None)
        rng, rate, methods, timeout_s = self._random_faults
        if method.lower() not in methods or rng.random() >= rate:
            return (None, None, 0.0, None)
        kind = rng.choice(("500", "429", "timeout"))
        self.injected[kind] += 1
        if kind == "429":
            return (429, 1, 0.0, None)
        if kind == "timeout":
            return (504, None, timeout_s, None)
        return (500, None, 0.0, None)

    async def _apply_fault(self, method: str, params: JSON) -> None:
        faults = self._faults.get(method.lower(), [])
        chat = params.get("chat_id")
        chosen = next((f for f in faults if f.chat_id is None or f.chat_id == chat), None)
        if chosen is not None:
            faults.remove(chosen)
            status, retry_after, delay, description, _ = chosen
        else:
            status, retry_after, delay, description = self._random_fault(method)
        if delay:
            await asyncio.sleep(delay)  # a deliberately slow response, not a polling loop
        if status is None:
            return
        if description is None:
            try:
                description = HTTPStatus(status).phrase
            except ValueError:
                description = f"Error {status}"
            if status == 429:
                description += f": retry after {retry_after}"
        raise ApiError(status, description, retry_after if status == 429 else None)

    @staticmethod
    async def _parse_params(request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise _bad("request body must be a JSON object")
            return params | body
        if request.method == "POST":
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    params[key] = UploadedFile(
                        value.filename, value.file.read(), value.content_type
                    )
                else:
                    params[key] = value
        for key, value in params.items():
            if isinstance(value, str) and key not in STRING_PARAMS:
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params

    # ------------------------------------------------------------------ Bot API methods
    async def _api_getMe(self, params: JSON) -> JSON:
        return self.bot_user

    async def _api_getUpdates(self, params: JSON) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        if params.get("allowed_updates") is not None:  # persists, like on Telegram
            self._allowed_updates = list(params["allowed_updates"])
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # a newer getUpdates terminates an older one, as on Telegram

        def deliverable() -> list[JSON]:
            if offset:  # confirms everything before offset; negative: keep the last -offset
                kept = self._updates[offset:] if offset < 0 else self._updates
                self._updates = [u for u in kept if u["update_id"] >= offset]
            self._drop_unwanted()
            return self._updates[: max(1, min(limit, 100))]

        def done() -> bool:
            return bool(self._closing or generation != self._poll_generation or deliverable())

        if (wait := min(float(params.get("timeout") or 0), self.max_poll_timeout)) > 0:
            with contextlib.suppress(TimeoutError):
                await self.wait_for(done, wait)
        if generation != self._poll_generation:
            raise ApiError(409, "Conflict: terminated by other getUpdates request")
        return deliverable()

    async def _api_deleteWebhook(self, params: JSON) -> bool:
        return await self._api_setWebhook({"url": ""} | params)

    async def _api_setWebhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = str(params.get("secret_token") or "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{0,256}", secret):
            raise _bad("secret token contains unallowed characters")
        self.webhook_url, self.webhook_secret = url, secret if url else ""
        if params.get("allowed_updates") is not None:  # persists, like on Telegram
            self._allowed_updates = list(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if url and self._webhook_task is None and not self._closing:
            self._webhook_task = asyncio.create_task(self._post_updates())
        return True

    async def _api_getWebhookInfo(self, params: JSON) -> JSON:
        info = {"url": self.webhook_url, "has_custom_certificate": False}
        info |= {"pending_update_count": len(self._updates)}
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
        if self._webhook_error is not None:
            date, message = self._webhook_error
            info |= {"last_error_date": date, "last_error_message": message}
        return info

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        return scope, str(params.get("language_code") or "")

    async def _api_setMyCommands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be a list of at most 100 BotCommand")
        for command in commands:
            if not _COMMAND_RE.match(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _api_deleteMyCommands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _api_getMyCommands(self, params: JSON) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    async def _api_sendMessage(self, params: JSON) -> JSON:
        text, entities = _format(params, "text", "entities", MAX_TEXT_LENGTH)
        content: JSON = {"text": text} | ({"entities": entities} if entities else {})
        return self._send(params, content, entities)

    async def _api_sendDocument(self, params: JSON) -> JSON:
        document = params.get("document")
        if isinstance(document, str):
            if document in self._files:
                path, data = self._files[document]
                document = UploadedFile(path.rsplit("/", 1)[-1], data)
            elif document.startswith(("http://", "https://")):  # never fetched
                document = UploadedFile(document.rsplit("/", 1)[-1] or "file", b"")
            else:
                raise _bad("wrong file identifier/HTTP URL specified")
        if not isinstance(document, UploadedFile):
            raise _bad("there is no document in the request")
        caption, entities = _format(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
        mime_type = document.mime_type or "application/octet-stream"
        content: JSON = {
            "document": self._file(f"documents/{document.filename}", document.content)
        }
        content["document"] |= {"file_name": document.filename, "mime_type": mime_type}
        if caption:
            content |= {"caption": caption} | ({"caption_entities": entities} if entities else {})
        return self._send(params, content, entities, document=document)

    async def _api_sendPhoto(self, params: JSON) -> JSON:
        photo = params.get("photo")
        if isinstance(photo, str):
            if photo not in self._files:
                raise _bad("wrong file identifier/HTTP URL specified")
            path, data = self._files[photo]
            photo = UploadedFile(path.rsplit("/", 1)[-1], data)
        if not isinstance(photo, UploadedFile):
            raise _bad("there is no photo in the request")
        caption, entities = _format(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
        width, height = _image_size(photo.content)
        sizes = [self._file(f"photos/{photo.filename}", photo.content, width=width, height=height)]
        content: JSON = {"photo": sizes}
        if caption:
            content |= {"caption": caption} | ({"caption_entities": entities} if entities else {})
        return self._send(params, content, entities, photo=photo)

    async def _api_copyMessage(self, params: JSON) -> JSON:
        source_chat = self._chat(params.get("from_chat_id"))
        key = (source_chat["id"], int(params.get("message_id") or 0))
        original = self._all_messages.get(key)
        if original is None:
            raise _bad("message to copy not found")
        content = {k: v for k, v in original.items() if k in MEDIA_FIELDS or k == "text"}
        if not content:
            raise _bad("message can't be copied")
        entities: list[JSON] = []
        if "text" in content:
            content["entities"] = original.get("entities") or []
        elif "caption" in params:  # a new caption replaces the original one
            caption, entities = _format(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
            if caption:
                content |= {"caption": caption}
                content |= {"caption_entities": entities} if entities else {}
        elif original.get("caption"):
            content["caption"] = original["caption"]
        if not content.get("entities"):
            content.pop("entities", None)
        payload = self._send(params, content, entities, copied_from=key)
        return {"message_id": payload["message_id"]}

    async def _api_editMessageCaption(self, params: JSON) -> JSON:
        message = self._find_sent(params)
        if not any(k in message.payload for k in MEDIA_FIELDS) or "location" in message.payload:
            raise _bad("there is no caption in the message to edit")
        caption, entities = _format(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
        markup = _check_markup(params.get("reply_markup"))
        if (caption, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise _bad(_NOT_MODIFIED)
        message.text, message.raw_text, message.entities = (
            caption,
            str(params.get("caption")),
            entities,
        )
        message.parse_mode = params.get("parse_mode")
        content: JSON = {"caption": caption}
        content |= {"caption_entities": entities} if entities else {}
        return self._store_edit(message, markup, content)

    async def _api_editMessageText(self, params: JSON) -> JSON:
        message = self._find_sent(params)
        if "text" not in message.payload:
            raise _bad("there is no text in the message to edit")
        text, entities = _format(params, "text", "entities", MAX_TEXT_LENGTH)
        markup = _check_markup(params.get("reply_markup"))
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise _bad(_NOT_MODIFIED)
        message.text, message.raw_text, message.entities = text, str(params["text"]), entities
        message.parse_mode = params.get("parse_mode")
        return self._store_edit(message, markup, {"text": text, "entities": entities})

    async def _api_editMessageReplyMarkup(self, params: JSON) -> JSON:
        message = self._find_sent(params)
        markup = _check_markup(params.get("reply_markup"))
        if (markup or None) == (message.reply_markup or None):
            raise _bad(_NOT_MODIFIED)
        return self._store_edit(message, markup, {})

    async def _api_deleteMessage(self, params: JSON) -> bool:
        key = (self._chat(params.get("chat_id"))["id"], int(params.get("message_id") or 0))
        if self._all_messages.pop(key, None) is None:
            raise _bad("message to delete not found")
        for message in self._sent:
            message.deleted |= (message.chat_id, message.message_id) == key
        return True

    async def _api_answerCallbackQuery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self._open_callbacks:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self._open_callbacks.discard(query_id)
        text, show_alert, url = (
            params.get("text"),
            bool(params.get("show_alert")),
            params.get("url"),
        )
        self.callback_answers.append(CallbackAnswer(query_id, text, show_alert, url))
        return True

    async def _api_sendChatAction(self, params: JSON) -> bool:
        if self._chat(params.get("chat_id"))["id"] in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _api_getChat(self, params: JSON) -> JSON:
        gifts = dict.fromkeys(_words("unlimited_gifts limited_gifts unique_gifts"), False)
        gifts |= {"premium_subscription": False, "gifts_from_channels": False}
        info = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}
        return self._chat(params.get("chat_id")) | info

    async def _api_createForumTopic(self, params: JSON) -> JSON:
        chat = self._chat(params.get("chat_id"))
        if not chat.get("is_forum"):
            raise _bad("the chat is not a forum")
        if not 1 <= len(name := str(params.get("name") or "")) <= 128:
            raise _bad("invalid forum topic name specified")
        topic: JSON = {"message_thread_id": self._next_id("thread", chat["id"], first=2)}
        topic |= {"name": name, "icon_color": int(params.get("icon_color") or 7322096)}
        if params.get("icon_custom_emoji_id"):
            topic["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        return topic

    async def _api_getFile(self, params: JSON) -> JSON:
        if (file_id := str(params.get("file_id"))) not in self._files:
            raise _bad("invalid file_id")
        path, content = self._files[file_id]
        size = self._sizes.get(file_id) or len(content)
        if size > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        ids = {"file_id": file_id, "file_unique_id": f"U{file_id}"}
        return ids | {"file_size": size, "file_path": path}

    async def _api_close(self, params: JSON) -> bool:
        return True

    async def _api_logOut(self, params: JSON) -> bool:
        return True


#: Served methods, keyed by lower-cased name.
_METHODS: Mapping[str, Callable[[FakeBotApi, JSON], Awaitable[Any]]] = {
    name.removeprefix("_api_").lower(): function
    for name, function in vars(FakeBotApi).items()
    if name.startswith("_api_")
}
