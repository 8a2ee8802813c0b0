"""uvicorn inside the bot's own event loop: the console starts and stops with the bot.

The socket is bound before the server starts, so a port in use is reported at once and a
test may ask for port 0 and read the one it got. Signals stay with the bot: python-telegram-bot
(or the terminal chat) handles Ctrl-C and SIGTERM and stops the console through `stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers (the bot has its own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Leave the signals to the bot."""
        yield


class ConsoleServer:
    """One uvicorn server for the console's ASGI app, as a task of the running loop."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bind the address (OSError if it is taken) and start serving."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family, reuse_port=False)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", proxy_headers=False
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="console")

    @property
    def url(self) -> str:
        """Where it can be opened on this machine (the port it got, when asked for 0)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = "[::1]" if host == "::" else (f"[{host}]" if ":" in host else host)
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        """Finish the requests in hand and close the socket."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None
