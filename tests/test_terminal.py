"""The terminal chat, driven through its standard input and output: the same bot as on
Telegram (commands, numbered choices, enquiries), staff replies as they arrive, and leaving
on Ctrl-D or the first Ctrl-C."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import config_file, open_services

from bot import texts
from bot.cli import chat
from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = "what is the application deadline for lgotp"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The fixture knowledge base and saved replies, and a database of the test's own."""
    return load_settings(config_file(tmp_path), environ={})


async def converse(settings: Settings, *lines: str) -> str:
    """Type `lines` into the chat, then Ctrl-D; return everything it printed."""
    stdout = io.StringIO()
    assert await chat(settings, io.StringIO("".join(f"{line}\n" for line in lines)), stdout) == 0
    return stdout.getvalue()


async def test_commands_are_the_telegram_ones_and_unknown_ones_never_reach_staff(
    settings: Settings,
) -> None:
    out = await converse(
        settings, "/topics", "4", "/contact", "/privacy", "/nonsense", "/ask", "/status"
    )
    replies = out.split("\nyou> ")[1:]
    assert replies[0].startswith("bot> Topics\n") and "  4. LGOTP" in replies[0]
    assert replies[1].startswith("bot> LGOTP\n")  # choice 4 opened the category
    assert "Fax +81-3-5213-1742" in replies[2]
    assert "365 more days" in replies[3]
    assert replies[4].startswith("bot> I don't know that command. The commands are: /start")
    assert "/ask" in replies[4] and "/quit" in replies[4]
    assert replies[5].startswith("bot> Type /ask followed by your question")
    assert replies[6].startswith(f"bot> {texts.EN.no_enquiries}")  # /nonsense went nowhere
    assert out.rstrip().endswith("bot> Goodbye.")  # Ctrl-D (end of input) leaves


async def test_answers_with_related_topics_feedback_and_ask_staff_as_numbered_choices(
    settings: Settings,
) -> None:
    out = await converse(
        settings, "wen do trainees arive in japan", "4", "3", "/ask is there a visa fee", "/status"
    )
    answer, thanks, forwarded, by_ask, status = out.split("\nyou> ")[1:6]
    assert "mid-May" in answer and "Tel +81-3-5213-1726" in answer
    assert "\nSource: Local Government Officials Training Programme" in answer
    assert "  1. LGOTP training timeline\n" in answer  # a related topic
    assert "  3. Ask staff\n  4. 👍\n  5. 👎" in answer
    assert thanks.startswith(f"bot> {texts.EN.feedback_thanks}")
    assert "Your reference is #1" in forwarded  # choice 3 of the same answer: Ask staff
    assert "Your reference is #2" in by_ask
    assert "#2 (new): is there a visa fee" in status
    assert "#1 (new): wen do trainees arive in japan" in status
    services = await open_services(settings)
    try:
        assert await services.storage.users.feedback_counts("lgotp-arrival") == (1, 0)
    finally:
        await services.close()


async def test_enquiries_gibberish_and_broad_words(settings: Settings) -> None:
    out = await converse(
        settings,
        "asdfgh qwerty zxcv",
        DEADLINE,
        "and what is the application deadline for 2026?",
        "is there a visa fee",
        "1",
        "jet",
        "/language",
        "2",
        "/ask",
    )
    replies = out.split("\nyou> ")[1:]
    assert replies[0].startswith(f"bot> {texts.EN.rephrase}\n  1. Contacts")
    assert "Your reference is #1" in replies[1]  # the gibberish used no slot, made no enquiry
    assert replies[2].startswith(f"bot> {texts.EN.followed_up.format(ref=1)}")
    assert replies[3].startswith(f"bot> {texts.EN.which_enquiry.format(ref=1)}")
    assert "  1. New question\n  2. Part of #1" in replies[3]
    assert "Your reference is #2" in replies[4]
    assert replies[5].startswith(f"bot> {texts.EN.broad_topics}\n  1. JET Programme")
    assert replies[7].startswith(f"bot> {texts.JA.language_set.split('/')[0]}")
    assert replies[8].startswith("bot> /ask に続けて")  # commands now answer in Japanese


async def until(condition: Callable[[], bool]) -> None:
    """Wait for `condition`, polling with a deadline (the chat's output has no event)."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_staff_replies_appear_as_they_arrive(settings: Settings) -> None:
    read_end, write_end = os.pipe()
    stdout = io.StringIO()
    with io.TextIOWrapper(io.FileIO(read_end, "r"), encoding="utf-8") as stdin:
        talk = asyncio.create_task(chat(settings, stdin, stdout, poll_seconds=0.02))
        os.write(write_end, f"{DEADLINE}\n".encode())
        await until(lambda: "Your reference is #1" in stdout.getvalue())
        desk = await open_services(settings)  # a member of staff, e.g. `clair-bot queue reply`
        try:
            await desk.staff.reply(1, 500, "Kenji", "Applications close in March.")
        finally:
            await desk.close()
        shown = "bot> CLAIR staff (about your enquiry #1):\nApplications close in March.\n"
        await until(lambda: shown in stdout.getvalue())  # without typing anything
        os.close(write_end)  # Ctrl-D
        assert await asyncio.wait_for(talk, 10) == 0
    out = stdout.getvalue()
    assert out.count(shown) == 1 and out.endswith(shown + "\nyou> \nbot> Goodbye.\n")


async def test_the_first_ctrl_c_leaves_with_a_goodbye(settings: Settings) -> None:
    # The chat starts as from a terminal, where Ctrl-C is not ignored. A shell ignores SIGINT
    # in the commands it runs in the background (`make test &`), and a child inherits an
    # ignored signal: Python then never turns Ctrl-C into KeyboardInterrupt.
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(settings.config_path),
            "chat",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
            # A chat still running 30 s after Ctrl-C is made to print where each thread is.
            env={k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
            | {"PYTHONFAULTHANDLER": "1"},
        )
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    assert process.stdout is not None
    seen = b""
    async with asyncio.timeout(60):
        while b"you> " not in seen:
            chunk = await process.stdout.read(4096)
            if not chunk:  # it ended before asking: the asserts below say why
                break
            seen += chunk
    process.send_signal(signal.SIGINT)
    communicating = asyncio.ensure_future(process.communicate())
    if not (await asyncio.wait({communicating}, timeout=30))[0]:
        process.send_signal(signal.SIGABRT)
        _, err = await communicating
        pytest.fail(f"still running 30 s after Ctrl-C; its threads:\n{err.decode()}")
    out, err = communicating.result()
    assert process.returncode == 0, err.decode()
    assert (seen + out).decode().endswith("you> \nbot> Goodbye.\n")
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err


async def test_over_the_daily_cap_only_new_enquiries_stop(tmp_path: Path) -> None:
    path = config_file(tmp_path, more="limits:\n  enquiries_per_day: 1\n")
    out = await converse(
        load_settings(path, environ={}), "/ask one", "/ask two", "/topics", "/help", "/status"
    )
    replies = out.split("\nyou> ")[1:]
    assert "Your reference is #1" in replies[0]
    before, _, resets = texts.EN.daily_limit.partition("{when}")
    assert replies[1].startswith(f"bot> {before}") and resets.rstrip() in replies[1]
    assert replies[2].startswith("bot> Topics")
    assert replies[3].startswith("Type a question and press Enter")
    assert "#1 (new): one" in replies[4] and "two" not in replies[4]
