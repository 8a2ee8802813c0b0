"""What every console page shares: the signed-in member of staff, the CSRF check, the texts
in their language, and rendering a template.

Every page goes through `staff_page`: without a valid session nothing is served (only a page
that says how to sign in), and a POST without the session's CSRF token is refused. Templates
are Jinja2 with autoescaping, so every text a person wrote is shown as text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot import consoletexts, stafftexts, texts
from bot.consoleauth import Session
from bot.service import Services
from bot.storage.records import Media

logger = logging.getLogger("console")

COOKIE = "clair_console"
TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

#: Fetches an attachment's bytes from Telegram by its file_id (None without a bot).
FileFetcher = Callable[[str], Awaitable[bytes]]
Page = Callable[[Request, Session], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass
class Console:
    """What the pages need: the services, attachments' source, and how cookies are set."""

    services: Services
    files: FileFetcher | None
    secure: bool  # the console is published on https: cookies are Secure
    templates: jinja2.Environment


def environment() -> jinja2.Environment:
    """The templates, every value escaped unless a template says otherwise (none does)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def console_of(request: Request) -> Console:
    """The console this request reached."""
    found: Console = request.app.state.console
    return found


def session_of(request: Request) -> Session | None:
    """The signed-in member of staff behind the request's cookie, if any."""
    access = console_of(request).services.console
    return access.session(request.cookies.get(COOKIE, ""))


async def language_of(console: Console, session: Session) -> str:
    """The staff member's language: their /language choice, else staff.language."""
    words = await console.services.staff.words_for(session.staff_id)
    return words.language


def staff_page(page: Page) -> Endpoint:
    """`page` for signed-in staff only; a form must carry the session's CSRF token."""

    async def endpoint(request: Request) -> Response:
        console = console_of(request)
        session = session_of(request)
        if session is None:
            return signed_out(request, 401)
        if request.method == "POST":
            form = await request.form()
            sent = form.get("csrf")
            if not console.services.console.csrf_ok(
                session, sent if isinstance(sent, str) else None
            ):
                logger.warning(
                    "console: staff %d sent a form without its CSRF token", session.staff_id
                )
                return await message(request, session, "csrf_refused", 403)
        return await page(request, session)

    return endpoint


def signed_out(request: Request, status: int, key: str = "sign_in_needed") -> Response:
    """The one page anyone may see: how to sign in (in both languages: nobody is known)."""
    console = console_of(request)
    template = console.templates.get_template("signed_out.html")
    both = [consoletexts.get(language) for language in ("ja", "en")]
    return HTMLResponse(template.render(texts_both=both, key=key), status_code=status)


async def render(
    request: Request, session: Session, template: str, status: int = 200, **values: Any
) -> Response:
    """A page for a signed-in member of staff, in their language."""
    console = console_of(request)
    language = await language_of(console, session)
    flash, session.flash = session.flash, []
    page = console.templates.get_template(template).render(
        t=consoletexts.get(language),
        words=stafftexts.get(language),
        language=language,
        csrf=session.csrf,
        staff=session,
        flash=flash,
        path=request.url.path,
        **values,
    )
    return HTMLResponse(page, status_code=status)


async def message(request: Request, session: Session, key: str, status: int) -> Response:
    """A short page that says one thing (a refusal, something not found)."""
    return await render(request, session, "message.html", status=status, key=key)


def back(url: str, session: Session, *said: str) -> Response:
    """After a change: to `url`, with what was done said once there."""
    session.flash.extend(said)
    return RedirectResponse(url, status_code=303)


def when(console: Console, moment: Any, language: str) -> str:
    """A moment in the office's time zone, as the staff chat writes it."""
    return texts.format_time(moment, console.services.staff.hours, language)


def media_label(words: Mapping[str, str], media: Media) -> str:
    """An attachment in words: "a file form.pdf"."""
    what = words.get(media.type, media.type)
    return f"{what} {media.file_name}".strip()
