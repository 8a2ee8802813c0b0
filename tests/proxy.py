"""A small round-robin HTTP proxy on 127.0.0.1, standing in for the load balancer in front of
webhook replicas (deploy/nginx.conf) in the replica test and benchmark.

Each request goes to the next backend in turn. A backend that refuses the connection (its
replica is down) is skipped for the next one, as nginx's upstream does with
``proxy_next_upstream error``; when every backend refuses, the answer is 502. A backend that
took the request and then failed (the connection cut, no answer within ``timeout``) is not
tried again elsewhere, as nginx does not resend a POST it has sent: the answer is 502, and
Telegram sends the update again.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Self

import aiohttp
from aiohttp import web

#: Hop-by-hop headers, and those aiohttp sets itself: not passed on.
_DROPPED = frozenset(
    h.lower()
    for h in ("Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Upgrade")
)


class RoundRobinProxy:
    """``async with RoundRobinProxy([port, ...]) as proxy``: serves on ``proxy.url``."""

    def __init__(self, backends: list[int], *, port: int = 0, timeout: float = 60.0) -> None:
        self.backends = list(backends)
        self.timeout = timeout
        #: Requests answered by each backend's port, connections each refused, and 502s given.
        self.answered: Counter[int] = Counter()
        self.refused: Counter[int] = Counter()
        self.failed: Counter[int] = Counter()
        self.unavailable = 0
        #: (backend port, time.monotonic()) of every answer passed on.
        self.answers: list[tuple[int, float]] = []
        self._next = 0
        self._port = port
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        """Its base URL (no trailing slash)."""
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        """Serve on 127.0.0.1 (a free port unless one was given)."""
        # One connection a request, as nginx without upstream keepalive: a replica killed
        # between requests leaves no pooled connection behind to fail the next one.
        connector = aiohttp.TCPConnector(force_close=True)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            auto_decompress=False,
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED}
        headers["X-Forwarded-For"] = request.remote or ""
        first = self._next
        self._next = (self._next + 1) % max(1, len(self.backends))
        for turn in range(len(self.backends)):
            port = self.backends[(first + turn) % len(self.backends)]
            url = f"http://127.0.0.1:{port}{request.path_qs}"
            try:
                async with self._session.request(
                    request.method, url, headers=headers, data=body, allow_redirects=False
                ) as response:
                    payload = await response.read()
                    self.answered[port] += 1
                    self.answers.append((port, time.monotonic()))
                    kept = {k: v for k, v in response.headers.items() if k.lower() not in _DROPPED}
                    return web.Response(status=response.status, body=payload, headers=kept)
            except aiohttp.ClientConnectorError:
                self.refused[port] += 1  # nothing was sent: the next backend may have it
                continue
            except (aiohttp.ClientError, TimeoutError):
                self.failed[port] += 1  # it may have acted on it: not sent anywhere else
                return web.Response(status=502, text="the backend failed mid-request")
        self.unavailable += 1
        return web.Response(status=502, text="no backend is up")
