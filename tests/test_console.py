"""The staff console without a browser: sign-in and its refusals, CSRF, escaping, the queue's
filters, changes to the knowledge base, /console, and webhook mode on the console's server.

The bot runs for real (Application, outbox, fake Bot API over HTTP) with the console on a
free port of 127.0.0.1; the tests speak HTTP to it with httpx, as a browser would.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import logging
import os
import re
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from conftest import (
    STAFF_CHAT_ID,
    STAFF_USER_ID,
    TOKEN,
    USER_ID,
    Clock,
    Harness,
    config_file,
    console_overrides,
    console_url,
    free_port,
    is_escalated,
    open_services,
    recorded,
    running_bot,
    running_bot_at,
    settings_for,
    sign_in_link,
    staff_command,
)
from fakebotapi import FakeBotApi

from bot import consoletexts, stafftexts
from bot.cli import chat
from bot.config import load_settings
from bot.consoleauth import LINK_LIFETIME, ConsoleAccess, check_init_data
from bot.decision import Action
from bot.kbedit import EditRefused, NewEntry, Question
from bot.storage.records import Author, MessageKind, State
from handlers.app import EXIT_FAILED, EXIT_OK, serve

QUESTION = "what do jets do on weekends"
EN = consoletexts.EN


def init_data(user: dict[str, object], token: str = TOKEN, signed: float | None = None) -> str:
    """initData as Telegram signs it for a Mini App (the Bot API's documented HMAC)."""
    fields = {
        "auth_date": str(int(signed if signed is not None else time.time())),
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":")),
    }
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


KENJI = {"id": STAFF_USER_ID, "first_name": "Kenji", "language_code": "en"}


@pytest.fixture
async def desk(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> AsyncIterator[Harness]:
    """The bot with a staff chat and the console on, on the test's own knowledge base."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    async with running_bot_at(staff_api, tmp_path, clock, console_overrides(tmp_path)) as bot:
        yield bot


@pytest.fixture
async def browser(desk: Harness) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the console, keeping cookies like a browser."""
    async with httpx.AsyncClient(base_url=console_url(desk), timeout=10) as client:
        yield client


async def signed_in(bot: Harness, client: httpx.AsyncClient) -> str:
    """Sign in with a link from /console; return the session's CSRF token."""
    link = await sign_in_link(bot)
    token = link.rsplit("/", 1)[1]
    page = await client.get(f"/signin/{token}")
    assert page.status_code == 200
    response = await client.post("/signin", data={"token": token})
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    return csrf_of((await client.get("/queue")).text)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


async def escalate(bot: Harness, text: str = QUESTION, ref: int = 1) -> None:
    assert is_escalated((await bot.say(text)).text, ref)
    await bot.api.next_message(STAFF_CHAT_ID)
    await recorded(bot, ref)


# ------------------------------------------------------------------------- signing in
def test_init_data_is_checked_with_the_bot_api_hmac() -> None:
    now = datetime.now(UTC)
    assert check_init_data(init_data(KENJI), TOKEN, now) == KENJI
    assert check_init_data(init_data(KENJI, token="999:other"), TOKEN, now) is None  # forged
    tampered = init_data(KENJI).replace("Kenji", "Kenjo")
    assert check_init_data(tampered, TOKEN, now) is None
    day_old = init_data(KENJI, signed=time.time() - 86400)
    assert check_init_data(day_old, TOKEN, now) is None
    assert check_init_data("user=%7B%7D", TOKEN, now) is None  # no hash at all
    assert check_init_data(init_data(KENJI), "", now) is None  # the terminal: no token


def test_a_link_works_once_and_only_for_ten_minutes() -> None:
    moment = [datetime.now(UTC)]
    access = ConsoleAccess((STAFF_USER_ID,), lambda: moment[0], TOKEN)
    with pytest.raises(PermissionError):
        access.issue_link(USER_ID, "Ana")  # not staff
    token = access.issue_link(STAFF_USER_ID, "Kenji")
    opened = access.redeem(token)
    assert opened is not None and opened[1].staff_id == STAFF_USER_ID
    assert access.redeem(token) is None  # used
    late = access.issue_link(STAFF_USER_ID, "Kenji")
    moment[0] += LINK_LIFETIME + timedelta(seconds=1)
    assert not access.link_usable(late) and access.redeem(late) is None  # expired
    assert access.session(opened[0]) is not None  # the session itself lasts longer


async def test_nothing_is_served_without_a_session(
    desk: Harness, browser: httpx.AsyncClient
) -> None:
    await escalate(desk, "my <b>secret</b> question about visas")
    for path in ("/", "/queue", "/enquiries/1", "/figures", "/figures/data", "/knowledge"):
        response = await browser.get(path)
        assert response.status_code == 401, path
        assert "secret" not in response.text and EN.said["sign_in_needed"] in response.text
    reply = await browser.post("/enquiries/1/reply", data={"text": "hi", "csrf": "x"})
    assert reply.status_code == 401
    messages = await desk.service.storage.enquiries.messages(1)
    assert [m.author for m in messages] == [Author.USER]  # nothing was sent or kept
    browser.cookies.set("clair_console", "forged-session")
    assert (await browser.get("/queue")).status_code == 401


async def test_a_link_signs_in_once_with_a_strict_http_only_cookie(
    desk: Harness, browser: httpx.AsyncClient, clock: Clock
) -> None:
    link = await sign_in_link(desk)
    token = link.rsplit("/", 1)[1]
    assert link.startswith(console_url(desk))
    response = await browser.post("/signin", data={"token": token})
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1
    assert (await browser.get("/queue")).status_code == 200
    # The same link again, in another browser: refused.
    async with httpx.AsyncClient(base_url=console_url(desk)) as other:
        again = await other.post("/signin", data={"token": token})
        assert again.status_code == 403 and EN.said["link_refused"] in again.text
        assert (await other.get(f"/signin/{token}")).status_code == 403
        assert (await other.get("/queue")).status_code == 401
        # A link older than ten minutes: refused.
        old = (await sign_in_link(desk)).rsplit("/", 1)[1]
        clock.offset += LINK_LIFETIME + timedelta(seconds=5)
        assert (await other.post("/signin", data={"token": old})).status_code == 403
        assert (await other.get("/queue")).status_code == 401


async def test_the_mini_app_signs_in_staff_only_with_genuine_init_data(
    desk: Harness, browser: httpx.AsyncClient
) -> None:
    page = await browser.get("/app")
    assert page.status_code == 200 and "/static/miniapp.js" in page.text
    ana = {"id": USER_ID, "first_name": "Ana"}
    for refused in (
        init_data(KENJI, token="654321:forged"),  # not signed with our token
        init_data(ana),  # genuine, but not staff
        init_data(KENJI, signed=time.time() - 7200),  # too old
        "",
    ):
        response = await browser.post("/app/signin", data={"init_data": refused})
        assert response.status_code == 403
        assert (await browser.get("/queue")).status_code == 401
    response = await browser.post("/app/signin", data={"init_data": init_data(KENJI)})
    assert response.status_code == 204 and "HttpOnly" in response.headers["set-cookie"]
    queue = await browser.get("/queue")
    assert queue.status_code == 200 and "Kenji" in queue.text


async def test_console_in_the_group_or_from_others_gives_no_link(desk: Harness) -> None:
    words = stafftexts.EN
    in_group = await staff_command(desk, "/console", chat=STAFF_CHAT_ID)
    assert in_group.text == words.console_private_only
    assert "/signin/" not in in_group.text
    desk.api.send_message("/console", user=USER_ID)
    refused = await desk.api.next_message(USER_ID)
    assert refused.text == words.refused


async def test_an_https_public_url_gives_a_mini_app_button_and_secure_cookies(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    overrides = console_overrides(tmp_path, CLAIRBOT_CONSOLE_PUBLIC_URL="https://desk.example/")
    async with running_bot(staff_api, tmp_path, **overrides) as bot:
        reply = await staff_command(bot, "/console")
        assert "https://desk.example/signin/" in reply.text
        assert reply.buttons() == [(stafftexts.EN.console_button, "https://desk.example/app")]
        token = reply.text.rsplit("/", 1)[1]
        async with httpx.AsyncClient(base_url=console_url(bot)) as client:
            response = await client.post("/signin", data={"token": token})
        assert "Secure" in response.headers["set-cookie"]


# --------------------------------------------------------------------- forms and escaping
async def test_a_form_without_its_csrf_token_changes_nothing(
    desk: Harness, browser: httpx.AsyncClient
) -> None:
    await escalate(desk)
    csrf = await signed_in(desk, browser)
    for data in ({"text": "a note"}, {"text": "a note", "csrf": "not-the-token"}):
        response = await browser.post("/enquiries/1/note", data=data)
        assert response.status_code == 403 and EN.said["csrf_refused"] in response.text
    assert (await browser.post("/enquiries/1/resolve", data={})).status_code == 403
    enquiries = desk.service.storage.enquiries
    assert [m.kind for m in await enquiries.messages(1)] == [MessageKind.TEXT]
    assert (await enquiries.get(1)) is not None
    assert await _state(desk, 1) is State.NEW
    done = await browser.post("/enquiries/1/note", data={"text": "a note", "csrf": csrf})
    assert done.status_code == 303
    assert [m.kind for m in await enquiries.messages(1)] == [MessageKind.TEXT, MessageKind.NOTE]


async def test_what_people_wrote_is_shown_as_text(
    desk: Harness, browser: httpx.AsyncClient
) -> None:
    desk.api.user(USER_ID, "<img src=x onerror=alert(1)>", username="ana", language_code="en")
    await escalate(desk, "<script>alert('x')</script> what about visas?")
    await signed_in(desk, browser)
    for path in ("/queue", "/enquiries/1", "/queue?q=%3Cscript%3E"):
        page = (await browser.get(path)).text
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;alert(" in page, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in (await browser.get("/enquiries/1")).text
    headers = (await browser.get("/queue")).headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"


async def test_the_queue_filters_by_state_and_holder_and_searches(
    desk: Harness, browser: httpx.AsyncClient
) -> None:
    await escalate(desk, QUESTION, 1)
    desk.api.user(44, "Mei", language_code="en")
    desk.api.send_message("Can CIRs bring their families?", user=44)
    assert is_escalated((await desk.api.next_message(44)).text, 2)
    await desk.api.next_message(STAFF_CHAT_ID)
    await recorded(desk, 2)
    await desk.service.staff.claim(2, STAFF_USER_ID, "Kenji")
    await signed_in(desk, browser)

    async def refs(query: str) -> list[str]:
        page = (await browser.get(f"/queue?{query}")).text
        return re.findall(r'<td><a href="/enquiries/(\d+)">', page)

    assert await refs("") == ["1", "2"]  # oldest first
    assert await refs("state=claimed") == ["2"]
    assert await refs("holder=mine") == ["2"]
    assert await refs("holder=none") == ["1"]
    assert await refs(f"holder={STAFF_USER_ID}") == ["2"]
    assert await refs("q=families") == ["2"]
    assert await refs("q=100%25") == []  # a wildcard is taken literally
    assert await refs("state=resolved") == []
    assert (await browser.get("/queue?state=bogus")).status_code == 400
    # Numbers people type are ASCII digits only: '²'.isdigit() is true, int('²') raises.
    assert await refs("page=%C2%B2") == ["1", "2"]  # the first page
    assert (await browser.get("/figures?days=%C2%B2")).status_code == 200
    assert (await browser.get("/enquiries/%C2%B2")).status_code == 404


async def test_claim_saved_reply_merge_resolve_and_reopen_from_the_thread(
    desk: Harness, browser: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    await escalate(desk, QUESTION, 1)
    # A second enquiry of the same user (so the two may merge): "New question".
    asked = await desk.say("and can my family visit me there?")
    desk.api.press(asked, asked.button("New question"), user=USER_ID)
    assert is_escalated((await desk.api.next_message(USER_ID)).text, 2)
    await desk.api.next_message(STAFF_CHAT_ID)
    await recorded(desk, 2)
    csrf = await signed_in(desk, browser)
    enquiries = desk.service.storage.enquiries

    async def act(ref: int, action: str, **form: str) -> str:
        response = await browser.post(f"/enquiries/{ref}/{action}", data=form | {"csrf": csrf})
        assert response.status_code == 303 and response.headers["location"] == f"/enquiries/{ref}"
        return (await browser.get(f"/enquiries/{ref}")).text

    with caplog.at_level(logging.INFO, logger="console"):
        page = await act(1, "claim")
    assert await _state(desk, 1) is State.CLAIMED and EN.said["done_claim"] in page
    enquiry = await enquiries.get(1)
    assert enquiry is not None and enquiry.assignee == STAFF_USER_ID
    assert f"console: staff {STAFF_USER_ID}: claim on #1" in caplog.text
    # A saved reply goes to the user through the outbox, filled in for them.
    await act(1, "saved", key="details")
    relayed = await desk.api.next_message(USER_ID)
    assert "please tell us more about #1" in relayed.text
    # #2 folds into #1; a second time is refused, politely.
    page = await act(1, "merge", other="#2")
    assert EN.said["done_merge"] in page and "and can my family visit me there?" in page
    merged = await enquiries.get(2)
    assert merged is not None and merged.merged_into == 1
    told = (await desk.api.next_message(USER_ID)).text
    assert told.startswith("Your enquiries #2 and #1 are about the same thing")
    assert EN.said["merge_number"] in await act(1, "merge", other="two")
    await act(1, "resolve")
    assert await _state(desk, 1) is State.RESOLVED
    assert EN.said["resolved_first"] in await act(1, "reply", text="one more thing")
    await act(1, "reopen")
    assert await _state(desk, 1) is not State.RESOLVED
    missing = await browser.post("/enquiries/99/claim", data={"csrf": csrf})
    assert missing.status_code == 404 and EN.said["no_such_enquiry"] in missing.text


async def test_attachments_are_links_that_fetch_the_file_from_telegram(
    desk: Harness, browser: httpx.AsyncClient
) -> None:
    desk.api.send_document("form.pdf", b"%PDF-1.7 form", caption="The form", user=USER_ID)
    assert is_escalated((await desk.api.next_message(USER_ID)).text, 1)
    await desk.api.next_message(STAFF_CHAT_ID)
    await recorded(desk, 1)
    await signed_in(desk, browser)
    page = (await browser.get("/enquiries/1")).text
    [link] = re.findall(r'href="(/enquiries/1/files/\d+)"', page)
    download = await browser.get(link)
    assert download.status_code == 200 and download.content == b"%PDF-1.7 form"
    assert download.headers["content-type"] == "application/pdf"
    assert "form.pdf" in download.headers["content-disposition"]
    assert (await browser.get("/enquiries/1/files/999")).status_code == 404


async def test_japanese_staff_see_it_in_japanese_with_a_font_served_by_the_bot(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    overrides = console_overrides(tmp_path, CLAIRBOT_STAFF_LANGUAGE="ja")
    async with (
        running_bot(staff_api, tmp_path, **overrides) as bot,
        httpx.AsyncClient(base_url=console_url(bot)) as client,
    ):
        await signed_in(bot, client)
        queue = (await client.get("/queue")).text
        ja = consoletexts.get("ja")
        assert ja.queue_title in queue and ja.nav_figures in queue and EN.nav_figures not in queue
        font = await client.get("/static/fonts/ipaexg.ttf")
        assert font.status_code == 200 and font.headers["content-type"] == "font/ttf"
        assert font.content[:4] == b"\x00\x01\x00\x00"  # a TrueType font
        css = (await client.get("/static/console.css")).text
        assert 'url("/static/fonts/ipaexg.ttf")' in css


# -------------------------------------------------------------------- the knowledge base
async def test_questions_join_an_entry_only_when_the_checks_pass(
    desk: Harness, browser: httpx.AsyncClient
) -> None:
    await escalate(desk, QUESTION, 1)
    csrf = await signed_in(desk, browser)
    page = await browser.get("/knowledge")
    assert QUESTION in page.text
    jet_file = desk.settings.knowledge.path / "jet.yaml"
    before = jet_file.read_text()
    # The question is already under another entry: refused, nothing written.
    kbedit = desk.service.kbedit
    with pytest.raises(EditRefused):
        kbedit.add_questions("no-such-entry", [Question(1, QUESTION, "en")], save=True)
    clash = kbedit.add_questions(
        "jet-roles", [Question(1, "What is the JET Programme?", "en")], save=True
    )
    assert not clash.saved and "also under entry 'jet-overview'" in str(clash.errors[0])
    assert jet_file.read_text() == before
    # A preview writes nothing; saving writes the diff and reloads.
    form = {"csrf": csrf, "ref": "1", "entry": "jet-roles"}
    preview = await browser.post("/knowledge/questions", data=form | {"preview": "1"})
    assert f"+  - {QUESTION}" in preview.text and jet_file.read_text() == before
    saved = await browser.post("/knowledge/questions", data=form | {"save": "1"})
    assert EN.edit_saved.format(file="knowledge/jet.yaml") in saved.text
    after = jet_file.read_text()
    assert after.count(QUESTION) == 1 and len(after.splitlines()) == len(before.splitlines()) + 1
    assert after.startswith(before.splitlines(keepends=True)[0])  # the comments stay
    decision = desk.service.knowledge.matcher.decide(QUESTION)
    assert decision.action is Action.ANSWER and decision.entry_id == "jet-roles"
    assert QUESTION not in (await browser.get("/knowledge")).text  # no longer suggested


async def test_a_new_entry_is_saved_only_when_valid(
    desk: Harness, browser: httpx.AsyncClient
) -> None:
    csrf = await signed_in(desk, browser)
    exchange = desk.settings.knowledge.path / "exchange.yaml"
    before = exchange.read_text()
    draft = {
        "csrf": csrf,
        "id": "exchange-weekends",
        "category": "Exchange programmes",
        "source": "our-activities-2025",
        "file": "",
        "title": "Weekend visits",
        "title_ja": "週末の訪問",
        "questions": "can we visit on a weekend\nweekend visits",
        "questions_ja": "週末に訪問できますか",
        "answer": "Visits are arranged on weekdays, in 2 groups.",
        "answer_ja": "訪問は平日に3つのグループで行います。",
        "facets": "procedure",
        "save": "1",
    }
    refused = await browser.post("/knowledge/new", data=draft)
    assert "numbers differ between answer and answer_ja" in refused.text
    assert EN.edit_has_errors in refused.text and exchange.read_text() == before
    fixed = draft | {"answer_ja": "訪問は平日に2つのグループで行います。"}
    saved = await browser.post("/knowledge/new", data=fixed)
    assert EN.edit_saved.format(file="knowledge/exchange.yaml") in saved.text
    entry = desk.service.kb.entries["exchange-weekends"]
    assert entry.questions_ja == ("週末に訪問できますか",) and entry.facets == {"procedure"}
    assert exchange.read_text().startswith(before.rstrip("\n"))


def test_a_draft_is_written_as_block_yaml(tmp_path: Path) -> None:
    from bot.kbedit import _entry_yaml

    draft = NewEntry(
        "x-y", "Cat", "src", "T: colon", "題", ("q: one",), ("質問",), "a\nb", "あ", ("list",)
    )
    text = "".join(_entry_yaml(draft, "  "))
    assert "  - id: x-y\n" in text and "    answer: |\n      a\n      b\n" in text
    assert "'q: one'" in text or '"q: one"' in text


# --------------------------------------------------------------------------- webhook mode
async def test_in_webhook_mode_the_console_server_takes_telegram_updates(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    port = free_port()
    overrides = console_overrides(
        tmp_path,
        CLAIRBOT_CONSOLE_PORT=str(port),
        CLAIRBOT_WEBHOOK_URL="https://bot.example/telegram",
        CLAIRBOT_WEBHOOK_SECRET_TOKEN="s3cret",
    )
    settings = settings_for(staff_api, tmp_path, **overrides)
    services = await open_services(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, stop, webhook=True, services=services))
    try:
        [set_webhook] = await staff_api.wait_for(lambda: staff_api.calls_to("setWebhook"))
        assert set_webhook.params["url"] == "https://bot.example/telegram"
        assert set_webhook.params["secret_token"] == "s3cret"
        assert not staff_api.calls_to("getUpdates")  # no polling beside the webhook
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": USER_ID, "type": "private", "first_name": "Ana"},
                "from": {"id": USER_ID, "is_bot": False, "first_name": "Ana"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url) as client:
            forged = await client.post("/telegram", json=update)
            assert forged.status_code == 401
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            taken = await client.post("/telegram", json=update, headers=headers)
            assert taken.status_code == 200
        answer = await staff_api.next_message(USER_ID)
        assert "/topics" in answer.text
        stop.set()
        assert await asyncio.wait_for(running, 10) == EXIT_OK
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
        await services.close()


async def test_in_webhook_mode_a_console_that_cannot_listen_stops_the_bot(
    staff_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        overrides = console_overrides(
            tmp_path,
            CLAIRBOT_CONSOLE_PORT=port,
            CLAIRBOT_WEBHOOK_URL="https://bot.example/t",
            CLAIRBOT_WEBHOOK_SECRET_TOKEN="s3cret",
        )
        settings = settings_for(staff_api, tmp_path, **overrides)
        services = await open_services(settings)
        try:
            code = await asyncio.wait_for(
                serve(settings, asyncio.Event(), webhook=True, services=services), 10
            )
        finally:
            await services.close()
    assert code == EXIT_FAILED
    error = capsys.readouterr().err
    assert f"clair-bot: webhook mode: cannot listen on 127.0.0.1:{port}" in error
    assert "Traceback" not in error
    assert staff_api.webhook_url == ""  # Telegram was not told to call a dead address


async def _state(bot: Harness, ref: int) -> State:
    enquiry = await bot.service.storage.enquiries.get(ref)
    assert enquiry is not None
    return enquiry.state


# ---------------------------------------------------------------------- the terminal chat
async def test_without_a_token_the_terminal_prints_a_link_to_a_local_console(
    tmp_path: Path,
) -> None:
    config = config_file(tmp_path, more="console:\n  listen: 0.0.0.0\n  port: 0\n")
    read, write = os.pipe()
    stdout = io.StringIO()
    # Unbuffered underneath, and the writing end closed (Ctrl-D) before the reading end: the
    # chat's reader thread must not be left blocked in a read the close would wait for.
    with io.TextIOWrapper(io.FileIO(read, "r"), encoding="utf-8") as stdin:
        try:
            chatting = asyncio.create_task(
                chat(load_settings(config, environ={}), stdin, stdout, 0.05, with_console=True)
            )
            link = await _printed_link(stdout)
            assert link.startswith("http://127.0.0.1:")  # never further than this machine
            base, token = link.split("/signin/")
            async with httpx.AsyncClient(base_url=base) as client:
                assert (await client.get("/queue")).status_code == 401
                assert (await client.post("/signin", data={"token": token})).status_code == 303
                queue = await client.get("/queue")
                assert queue.status_code == 200 and "(console)" in queue.text
            os.write(write, b"/console\n/quit\n")
        finally:
            os.close(write)
        assert await asyncio.wait_for(chatting, timeout=10) == 0
    links = re.findall(r"/signin/(\S+)", stdout.getvalue())
    assert len(links) == 2 and links[0] != links[1]  # /console printed a new one


async def _printed_link(stdout: io.StringIO) -> str:
    async def poll() -> str:
        # A poll with a deadline: the chat prints the link from its own task.
        while not (found := re.search(r"Staff console: (\S+)", stdout.getvalue())):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return found.group(1)

    return await asyncio.wait_for(poll(), timeout=10)
