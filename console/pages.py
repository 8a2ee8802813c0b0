"""The queue and an enquiry's thread, and what staff do from there, on the staff service.

Every change goes through bot.staffwork exactly as the staff commands do (a reply through
the outbox, a note kept internal, the same refusals) and is logged with the staff id.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import stafftexts
from bot.consoleauth import Session
from bot.core import EmptyReply, EnquiryResolved, UnknownEnquiry
from bot.inbound import number
from bot.relay import Refused
from bot.staffwork import MergeRefused, UnknownSavedReply
from bot.storage.records import Author, Enquiry, Event, Message, MessageKind, State
from console.web import (
    Console,
    back,
    console_of,
    language_of,
    logger,
    media_label,
    message,
    render,
    staff_page,
    when,
)

PER_PAGE = 20
STATES = ("", *(state.value for state in State), "all")


@dataclass(frozen=True)
class Row:
    """One enquiry in the queue, as the table shows it."""

    enquiry: Enquiry
    age_hours: float
    first_line: str


@dataclass(frozen=True)
class ThreadItem:
    """One message of a thread, as the page shows it."""

    author: str
    kind: str  # user, staff, note, edit
    when: str
    text: str
    attachment: str  # what is attached, in words; "" for none
    link: str  # where to download it; "" when it cannot be


async def queue(request: Request, session: Session) -> Response:
    """The queue: filter by state and holder, search, oldest first."""
    console = console_of(request)
    staff = console.services.staff
    query = request.query_params
    state = query.get("state", "")
    holder = query.get("holder", "")
    search = query.get("q", "").strip()
    page = number(query.get("page", "")) or 0
    try:
        enquiries, total = await staff.find(
            state, holder, search, page, PER_PAGE, session.staff_id
        )
    except ValueError:
        return await message(request, session, "bad_filter", 400)
    rows = [
        Row(e, staff.office_age(e), (e.text.strip().splitlines() or [""])[0][:120])
        for e in enquiries
    ]
    filters = {"state": state, "holder": holder, "q": search}
    pages = staff.pages(total, PER_PAGE)
    return await render(
        request,
        session,
        "queue.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        states=STATES,
        holders=await staff.holders(),
        page_url=lambda n: "/queue?" + urlencode({**filters, "page": n}),
    )


async def enquiry(request: Request, session: Session) -> Response:
    """One enquiry: the whole thread, what the bot considered, and the forms to act."""
    console = console_of(request)
    staff = console.services.staff
    ref = _ref(request)
    try:
        found, messages, rating = await staff.show(ref)
    except UnknownEnquiry:
        return await message(request, session, "no_such_enquiry", 404)
    language = await language_of(console, session)
    return await render(
        request,
        session,
        "enquiry.html",
        enquiry=found,
        thread=_thread(console, found.ref, messages, language),
        rating=rating,
        opened=when(console, found.created_at, language),
        age_hours=staff.office_age(found),
        saved=await staff.saved_replies(language),
        resolved=found.state is State.RESOLVED,
    )


def _thread(
    console: Console, ref: int, messages: list[Message], language: str
) -> list[ThreadItem]:
    words = stafftexts.get(language)
    items = []
    answered = False  # marks what the user wrote after staff's first reply
    for item in messages:
        if item.kind is MessageKind.NOTE:
            author, kind = words.author_note.format(name=item.author_name), "note"
        elif item.author is Author.USER:
            author = words.author_user_after_reply if answered else words.author_user
            kind = "user"
        else:
            author, kind = words.author_staff.format(name=item.author_name), "staff"
            answered = answered or item.is_staff_reply
        if item.kind is MessageKind.EDIT:
            author, kind = f"{author}, {words.edited_mark}", f"{kind} edit"
        attachment = link = ""
        if item.media is not None:
            attachment = media_label(words.media, item.media)
            if item.media.file_id and console.files is not None:
                link = f"/enquiries/{ref}/files/{item.id}"
        items.append(
            ThreadItem(
                author,
                kind,
                when(console, item.created_at, language),
                item.text,
                attachment,
                link,
            )
        )
    return items


async def act(request: Request, session: Session) -> Response:
    """Reply, note, saved reply, claim, resolve, reopen or merge, then back to the thread."""
    staff = console_of(request).services.staff
    ref = _ref(request)
    action = request.path_params["action"]
    form = await request.form()
    text = str(form.get("text") or "")
    here = f"/enquiries/{ref}"
    who, name = session.staff_id, session.name
    try:
        if action == "reply":
            await staff.reply(ref, who, name, text)
        elif action == "note":
            if not text.strip():
                return back(here, session, "empty_note")
            await staff.note(ref, who, name, text)
        elif action == "saved":
            await staff.send_saved(ref, str(form.get("key") or ""), who, name)
        elif action in ("claim", "resolve", "reopen"):
            await staff.change(Event(action), ref, who, name)
        elif action == "merge":
            other = number(str(form.get("other") or ""))
            if other is None:
                return back(here, session, "merge_number")
            await staff.merge(ref, other)
        else:
            return await message(request, session, "no_such_page", 404)
    except UnknownEnquiry:
        return await message(request, session, "no_such_enquiry", 404)
    except EmptyReply:
        return back(here, session, "empty_reply")
    except EnquiryResolved:
        return back(here, session, "resolved_first")
    except UnknownSavedReply:
        return back(here, session, "no_such_saved_reply")
    except MergeRefused as refused:
        return back(here, session, f"merge_{refused.problem.value}")
    except Refused:
        return back(here, session, "refused")
    logger.info("console: staff %d: %s on #%d", who, action, ref)
    return back(here, session, f"done_{action}")


async def attachment(request: Request, session: Session) -> Response:
    """An attachment of the thread, fetched from Telegram and handed to the browser."""
    console = console_of(request)
    ref = _ref(request)
    wanted = request.path_params["message"]
    try:
        _, messages, _ = await console.services.staff.show(ref)
    except UnknownEnquiry:
        return await message(request, session, "no_such_enquiry", 404)
    found = next((m for m in messages if str(m.id) == wanted and m.media is not None), None)
    if found is None or found.media is None or console.files is None or not found.media.file_id:
        return await message(request, session, "no_such_file", 404)
    try:
        data = await console.files(found.media.file_id)
    except Exception:  # Telegram refused it (too big, gone): said, not a traceback
        logger.warning("console: attachment %s of #%d could not be fetched", wanted, ref)
        return await message(request, session, "file_unavailable", 502)
    media = found.media
    name = media.file_name or f"{media.type}-{found.id}"
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return Response(
        data,
        media_type=media.mime_type or "application/octet-stream",
        headers={"Content-Disposition": disposition},
    )


def _ref(request: Request) -> int:
    return number(str(request.path_params["ref"])) or 0


ROUTES = [
    Route("/queue", staff_page(queue)),
    Route("/enquiries/{ref}", staff_page(enquiry)),
    Route("/enquiries/{ref}/files/{message}", staff_page(attachment)),
    Route("/enquiries/{ref}/{action}", staff_page(act), methods=["POST"]),
]
