"""tests/proxy.py, the replica test's load balancer: round robin, a refusing backend skipped,
502 when none is up or one fails mid-request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web
from conftest import free_port
from proxy import RoundRobinProxy


@asynccontextmanager
async def backend(name: str, seen: list[tuple[str, str, bytes, str | None]]) -> AsyncIterator[int]:
    """A backend that records (its name, path, body, the secret header) and answers its name;
    /cut drops the connection without an answer, as a replica SIGKILLed mid-request."""

    async def take(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        seen.append((name, request.path_qs, body, secret))
        if request.path == "/cut":
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(1)  # the client sees the cut first
        return web.Response(status=201, text=name, headers={"X-Backend": name})

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", take)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


async def test_requests_go_round_robin_and_skip_a_backend_that_refuses() -> None:
    seen: list[tuple[str, str, bytes, str | None]] = []
    down = free_port()  # nothing listens there
    async with (
        backend("a", seen) as a,
        backend("b", seen) as b,
        RoundRobinProxy([a, down, b]) as proxy,
        aiohttp.ClientSession() as client,
    ):
        answers = []
        for n in range(6):
            async with client.post(
                f"{proxy.url}/hook?n={n}",
                data=f"update {n}".encode(),
                headers={"X-Telegram-Bot-Api-Secret-Token": "s"},
            ) as response:
                answers.append((response.status, await response.text()))
                assert response.headers["X-Backend"] == answers[-1][1]
        # a, then the refusing port's turn goes to b, then b, a, b (down's again), b.
        assert answers == [(201, "a"), (201, "b"), (201, "b"), (201, "a"), (201, "b"), (201, "b")]
        assert [(name, path, body) for name, path, body, _ in seen] == [
            (name, f"/hook?n={n}", f"update {n}".encode())
            for n, name in enumerate(["a", "b", "b", "a", "b", "b"])
        ]
        assert {secret for *_, secret in seen} == {"s"}
        assert proxy.refused == {down: 2} and proxy.unavailable == 0


async def test_502_when_no_backend_is_up_or_one_fails_mid_request() -> None:
    seen: list[tuple[str, str, bytes, str | None]] = []
    async with aiohttp.ClientSession() as client:
        async with RoundRobinProxy([free_port(), free_port()]) as proxy:
            async with client.post(f"{proxy.url}/hook", data=b"x") as response:
                assert (response.status, await response.text()) == (502, "no backend is up")
            assert proxy.unavailable == 1
        async with (
            backend("a", seen) as a,
            backend("b", seen) as b,
            RoundRobinProxy([a, b]) as proxy,
        ):
            async with client.post(f"{proxy.url}/cut", data=b"x") as response:
                assert response.status == 502
            # Sent to a, which may have acted on it: not sent to b as well.
            assert [name for name, *_ in seen] == ["a"] and proxy.failed == {a: 1}
            async with client.get(f"{proxy.url}/healthz") as response:
                assert (response.status, await response.text()) == (201, "b")
