"""Logging set-up, and the filter that keeps the bot token out of every line written.

The token is a password: whoever has it is the bot. python-telegram-bot and httpx put it in
URLs (``https://api.telegram.org/bot<token>/getMe``) and in exception texts, so every record
of every logger is redacted before any handler writes it: its message, its arguments, the
text of its exception and traceback, and its stack. `SecretFilter` sits on every handler of
the root logger (every logger's records reach those), including handlers added later
through `install`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "<redacted>"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The token part of a Bot API URL: .../bot<token>/method and .../file/bot<token>/path.
_URL_TOKEN = re.compile(r"(/bot)[0-9]+:[^/\s'\"<>?#]+")
# Anything shaped like a bot token (digits, a colon, 30 or more URL-safe characters).
_TOKEN_SHAPE = re.compile(r"\b[0-9]{3,}:[A-Za-z0-9_-]{30,}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secrets, the token part of Bot API URLs, and token shapes."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _URL_TOKEN.sub(rf"\1{REDACTED}", text)
    return _TOKEN_SHAPE.sub(REDACTED, text)


class SecretFilter(logging.Filter):
    """Rewrites each record so that no secret reaches a handler; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("secrets")
        self.secrets = tuple(s for s in secrets if s)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the message (with its arguments), the exception text and the stack.

        Running it twice (a record reaching two handlers) changes nothing the second time."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what can be shown, redacted
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self._clean(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        record.exc_info = None  # the text below is what every formatter prints
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True

    def _clean(self, text: str) -> str:
        return redact(text, self.secrets)


def install(secrets: Iterable[str] = ()) -> SecretFilter:
    """Put one `SecretFilter` on every handler of the root logger and on logging's last
    resort; returns it. Call again after adding a handler."""
    root = logging.getLogger()
    found = next(
        (f for h in root.handlers for f in h.filters if isinstance(f, SecretFilter)), None
    )
    secret_filter = found or SecretFilter(secrets)
    secret_filter.secrets = tuple(dict.fromkeys((*secret_filter.secrets, *secrets)))
    handlers = [*root.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if secret_filter not in handler.filters:
            handler.addFilter(secret_filter)
    return secret_filter


def setup(level: str, secrets: Iterable[str] = ()) -> SecretFilter:
    """Log to stderr at `level`, with every record redacted; httpx's request lines off."""
    logging.basicConfig(level=level.upper(), format=FORMAT)
    # httpx logs every request at INFO, with its URL; at WARNING only what went wrong.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return install(secrets)
