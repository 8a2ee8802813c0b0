"""The staff console as an ASGI application (Starlette): its routes, sign-in and headers.

`build_app` is what the bot's process serves (console.server). Sign-in is a one-time link
from /console, opened in a browser (a button, so that a link preview cannot use it up), or
the Telegram Mini App's signed initData; both end in a session cookie (HttpOnly,
SameSite=Strict, Secure on https). Every response forbids framing by other sites, inline
scripts and sending the address on as a referrer (sign-in links carry a token).
"""

from __future__ import annotations

import hmac
import importlib.util
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot import consoletexts
from bot.consoleauth import SESSION_IDLE, Session
from bot.service import Services
from console import figures, knowledge, pages
from console.web import (
    COOKIE,
    STATIC,
    Console,
    FileFetcher,
    console_of,
    environment,
    session_of,
    signed_out,
    staff_page,
)

logger = logging.getLogger("console")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
}


#: Japanese text needs a font with its glyphs, and a server (or Chromium on Debian) often has
#: none: the console serves the one matplotlib-fontja ships for /stats' chart (IPAexGothic).
#: Found without importing the package, which would load matplotlib.
_FONTJA = importlib.util.find_spec("matplotlib_fontja")
assert _FONTJA is not None and _FONTJA.origin is not None, "matplotlib-fontja is a dependency"
JAPANESE_FONT = Path(_FONTJA.origin).resolve().parent / "fonts" / "ipaexg.ttf"


async def _japanese_font(request: Request) -> Response:
    return FileResponse(JAPANESE_FONT, media_type="font/ttf")


@dataclass(frozen=True)
class Webhook:
    """In webhook mode, where Telegram posts its updates and what takes them.

    `take` handles one update and returns whether it is done with (handled, or handled
    before): only then does Telegram get a 2xx; otherwise it sends the update again later.
    `ready` says why the bot cannot take updates yet (None once it can), for /readyz.
    """

    path: str
    secret_token: str
    take: Callable[[dict[str, Any]], Awaitable[bool]]
    ready: Callable[[], Awaitable[str | None]]

    def __post_init__(self) -> None:
        if not self.secret_token:
            raise ValueError("a webhook needs a secret token (webhook.secret_token)")


class _Headers(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response


def build_app(
    services: Services,
    *,
    files: FileFetcher | None = None,
    webhook: Webhook | None = None,
    secure: bool | None = None,
) -> Starlette:
    """The console on `services`; `files` fetches attachments from Telegram, `webhook`
    takes Telegram's updates on the same server; `secure` (default: console.public_url is
    https) makes the cookie Secure."""
    if secure is None:
        secure = services.settings.console.public_url.startswith("https://")
    routes: list[Route | Mount] = [
        Route("/", _home),
        Route("/signin/{token}", _signin_page),
        Route("/signin", _signin, methods=["POST"]),
        Route("/app", _mini_app),
        Route("/app/signin", _mini_app_signin, methods=["POST"]),
        Route("/signout", staff_page(_signout), methods=["POST"]),
        *pages.ROUTES,
        *figures.ROUTES,
        *knowledge.ROUTES,
        Route(f"/static/fonts/{JAPANESE_FONT.name}", _japanese_font),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    if webhook is not None:
        routes.extend(webhook_routes(webhook))
    app = Starlette(routes=routes, middleware=[Middleware(_Headers)])
    app.state.console = Console(services, files, secure, environment())
    app.state.webhook = webhook
    return app


def webhook_routes(webhook: Webhook) -> list[Route]:
    """Telegram's updates at webhook.path, and the load balancer's health checks."""
    return [
        Route(f"/{webhook.path.strip('/')}", _updates, methods=["POST"]),
        Route("/healthz", _health),
        Route("/readyz", _ready),
    ]


def build_webhook_app(webhook: Webhook) -> Starlette:
    """Webhook mode with the console's pages off: the updates and the health checks only."""
    app = Starlette(routes=webhook_routes(webhook), middleware=[Middleware(_Headers)])
    app.state.webhook = webhook
    return app


async def _home(request: Request) -> Response:
    if session_of(request) is None:
        return signed_out(request, 401)
    return RedirectResponse("/queue", status_code=303)


async def _signin_page(request: Request) -> Response:
    """The link's page: a button, so that only a person (not a link preview) signs in."""
    token = request.path_params["token"]
    console = console_of(request)
    if not console.services.console.link_usable(token):
        return signed_out(request, 403, "link_refused")
    template = console.templates.get_template("signin.html")
    both = [consoletexts.get(language) for language in ("ja", "en")]
    return HTMLResponse(template.render(texts_both=both, token=token))


async def _signin(request: Request) -> Response:
    form = await request.form()
    token = form.get("token")
    opened = console_of(request).services.console.redeem(token if isinstance(token, str) else "")
    if opened is None:
        return signed_out(request, 403, "link_refused")
    return _with_cookie(request, RedirectResponse("/queue", status_code=303), *opened)


async def _mini_app(request: Request) -> Response:
    """The Mini App's first page: its script hands Telegram's initData to /app/signin."""
    console = console_of(request)
    template = console.templates.get_template("miniapp.html")
    both = [consoletexts.get(language) for language in ("ja", "en")]
    return HTMLResponse(template.render(texts_both=both))


async def _mini_app_signin(request: Request) -> Response:
    form = await request.form()
    init_data = form.get("init_data")
    access = console_of(request).services.console
    opened = access.sign_in_mini_app(init_data if isinstance(init_data, str) else "")
    if opened is None:
        return signed_out(request, 403, "mini_app_refused")
    return _with_cookie(request, Response(status_code=204), *opened)


async def _signout(request: Request, session: Session) -> Response:
    console_of(request).services.console.sign_out(request.cookies.get(COOKIE, ""))
    response = signed_out(request, 200, "signed_out")
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


async def _updates(request: Request) -> Response:
    """Telegram's updates in webhook mode, checked by the secret token Telegram sends; 200
    once the update is handled, 503 (Telegram sends it again) when it could not be."""
    webhook: Webhook = request.app.state.webhook
    sent = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(sent.encode(), webhook.secret_token.encode()):
        return Response(status_code=401)
    try:
        update = await request.json()
    except ValueError:
        return Response(status_code=400)
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return Response(status_code=400)
    if not await webhook.take(update):
        return Response(status_code=503)
    return Response(status_code=200)


async def _health(request: Request) -> Response:
    """Liveness (no auth, no secrets): 200 while the event loop answers; with ``?ready=1``,
    readiness as /readyz."""
    if request.query_params.get("ready") not in (None, "", "0"):
        return await _ready(request)
    return JSONResponse({"status": "ok"})


async def _ready(request: Request) -> Response:
    """Readiness: 200 when the bot has started and the database answers, else 503 and why."""
    webhook: Webhook = request.app.state.webhook
    problem = await webhook.ready()
    if problem is not None:
        return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
    return JSONResponse({"status": "ready"})


def _with_cookie(
    request: Request, response: Response, session_id: str, session: Session
) -> Response:
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=int(SESSION_IDLE.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=console_of(request).secure,
    )
    return response


__all__ = ["Console", "Services", "Webhook", "build_app", "build_webhook_app"]
