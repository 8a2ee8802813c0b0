"""Generated input for the matcher and every handler: each gets an answer, nothing raises.

Hypothesis writes the input: any Unicode (control and zero-width characters, lone
surrogates in what Telegram sends), 0-10,000 characters, forged callback data up to 64
bytes, commands with random arguments (superscript digits included), from a user, from
staff, and in the staff chat; attachments (photos, files, voice notes, locations, stickers)
and edits from either side, as replies to the bot's messages or to copies it never recorded.
The handlers run in the real Application over HTTP against the fake Bot API, as every
end-to-end test does. The terminal chat and the command line's queue commands get generated
lines and arguments too (in a temporary directory of their own: `queue export` writes the
file it is given). `make test` runs a few dozen examples each (the "ci" profile, in
conftest.py); `make chaos` runs 10,000 (HYPOTHESIS_PROFILE=chaos).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import (
    FIXTURE_REPLIES,
    STAFF_CHAT_ID,
    STAFF_USER_ID,
    USER_ID,
    Harness,
    config_file,
    fixture_matcher,
    open_services,
    running_bot,
    staff_overrides,
)
from fakebotapi import FakeBotApi, SentMessage
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot import cli, texts
from bot.callback_data import STAFF_PREFIX, StaffAction
from bot.config import load_settings
from bot.decision import Action
from bot.inbound import without_surrogates
from bot.markup import strip_tags
from bot.savedreplies import load_saved_replies
from bot.staffwork import QUEUE_VIEWS
from bot.terminal import TerminalChat
from handlers import registry, staff

#: Characters that break naive code: controls, zero-width, direction marks, digits that are
#: not ASCII digits, HTML and the bot's own markers.
AWKWARD = (
    "\x00\x01\x07\x1b\x7f\u0085\u200b\u200c\u200d\u200e\u202e\u2060\ufeff\ufffd"
    "²³¹⁰①٣０９#@/<>&;\"'\\\n\r\t "
)
CHARACTERS = st.one_of(st.characters(), st.sampled_from(AWKWARD))
TEXT = st.text(CHARACTERS, max_size=10_000)
SHORT = st.text(CHARACTERS, max_size=40)
COMMAND_NAMES = sorted({*registry.COMMANDS, *staff.COMMANDS, "nosuchcommand"})
NUMBERS = st.one_of(
    st.integers(-5, 10**13).map(str), st.sampled_from(["²", "¹²", "#1", "#０", "1x", "٣"])
)
#: Words the commands and buttons of issues 11 and 13 take: saved replies' keys (as /reply N
#: #key sends one), the queue's views, languages, ratings.
SAVED_KEYS = sorted(load_saved_replies(FIXTURE_REPLIES).replies)
WORDS = st.sampled_from(
    [*SAVED_KEYS, *(f"#{key}" for key in SAVED_KEYS), "#nosuchkey", *QUEUE_VIEWS, "en", "ja"]
)
ARGUMENTS = st.one_of(NUMBERS, NUMBERS, WORDS, SHORT)  # most staff commands take a number


@st.composite
def commands(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(COMMAND_NAMES))
    mention = draw(st.sampled_from(["", "@clair_test_bot", "@other_bot"]))
    first = draw(ARGUMENTS)
    rest = draw(st.lists(ARGUMENTS, max_size=2))
    return " ".join([f"/{name}{mention}", first, *rest])


#: Every shape of callback data the bot makes (bot.callback_data), users' and staff's.
CALLBACK_PREFIXES = [
    *("e:", "d:", "c:", "t", "s:", "n:", "f:", "fg:", "l:", "j:", "q:", "r:"),
    *(f"{STAFF_PREFIX}{action.value}:" for action in StaffAction),
]


def callback_data() -> st.SearchStrategy[str]:
    """Up to 64 bytes of UTF-8, shaped like ours or not at all."""
    ours = st.builds(
        lambda prefix, parts: prefix + ":".join(parts),
        st.sampled_from(CALLBACK_PREFIXES),
        st.lists(st.one_of(NUMBERS, WORDS, SHORT), min_size=1, max_size=3),
    )
    return st.one_of(ours, st.text(CHARACTERS, min_size=1, max_size=64)).filter(
        lambda data: 1 <= len(data.encode("utf-8", "surrogatepass")) <= 64
    )


# ------------------------------------------------------------------------------ the matcher
@given(TEXT)
def test_the_matcher_decides_on_anything(text: str) -> None:
    matcher = fixture_matcher(load_settings(environ={}).matcher)
    decision = matcher.decide(text)
    assert decision.action in Action
    json.dumps(decision.to_json(), ensure_ascii=False)  # what `ask --json` prints
    if decision.action is Action.ANSWER:
        assert decision.answer.strip()


# ----------------------------------------------------------------------------- the handlers
@pytest.fixture
async def open_bot(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """One bot for every example of a test: staff chat, no flood limit to speak of."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    overrides = staff_overrides() | {
        "CLAIRBOT_LIMITS_MESSAGES_PER_MINUTE": "1000000",
        "CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY": "1000000",
        "CLAIRBOT_TELEGRAM_MAX_MESSAGES_PER_SECOND": "0",
        "CLAIRBOT_TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "0",
    }
    async with running_bot(staff_api, tmp_path, **overrides) as bot:
        # Forged buttons on messages that do not exist: Telegram refuses the edit.
        bot.expected_failures |= {"editMessageText", "editMessageReplyMarkup"}
        yield bot


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def answered_in(bot: Harness, chat: int, before: int) -> None:
    """Wait until the bot has sent something more to `chat` than the `before` it had."""
    await bot.api.wait_for(lambda: len(bot.api.messages(chat)) > before, timeout=10)


@example(sender=STAFF_USER_ID, text="/show ²", surrogate=None)  # found by fuzzing (issue 10)
@example(sender=USER_ID, text="", surrogate="\ud800")  # nothing but a lone surrogate
@given(
    sender=st.sampled_from([USER_ID, STAFF_USER_ID]),
    text=st.one_of(TEXT.filter(lambda t: not t.startswith("/")), commands(), commands()),
    surrogate=st.one_of(st.none(), st.characters(categories=["Cs"])),
)
async def test_every_message_or_command_gets_an_answer(
    open_bot: Harness, caplog: pytest.LogCaptureFixture, sender: int, text: str, surrogate: str
) -> None:
    text = (text + (surrogate or "")) or "?"  # Telegram delivers no empty message
    before = len(open_bot.api.messages(sender))
    open_bot.api.send_message(text, user=sender)
    await answered_in(open_bot, sender, before)
    assert errors(caplog) == []


@example(presser=USER_ID, data="c:0", on_a_real_message=False)  # "message to edit not found"
@example(presser=STAFF_USER_ID, data="st:p:0:654", on_a_real_message=False)  # no such view
@given(
    presser=st.sampled_from([USER_ID, STAFF_USER_ID]),
    data=callback_data(),
    on_a_real_message=st.booleans(),
)
async def test_every_button_press_gets_an_answer(
    open_bot: Harness,
    caplog: pytest.LogCaptureFixture,
    presser: int,
    data: str,
    on_a_real_message: bool,
) -> None:
    api = open_bot.api
    message_id = 987_654_321
    if on_a_real_message:
        if not api.messages(presser):
            api.send_message("/topics", user=presser)
            await answered_in(open_bot, presser, 0)
        message_id = api.messages(presser)[-1].message_id
    query_id = api.press_raw(data, presser, message_id, user=presser)
    await api.wait_for(
        lambda: [a for a in api.callback_answers if a.callback_query_id == query_id], timeout=10
    )
    assert errors(caplog) == []


@given(text=TEXT, reply_to_the_bot=st.booleans())
async def test_staff_chat_talk_is_handled_quietly(
    open_bot: Harness, caplog: pytest.LogCaptureFixture, text: str, reply_to_the_bot: bool
) -> None:
    api = open_bot.api
    replied = None
    if reply_to_the_bot:
        if not api.messages(STAFF_CHAT_ID):
            api.send_message("/queue", user=STAFF_USER_ID, chat=STAFF_CHAT_ID)
            await answered_in(open_bot, STAFF_CHAT_ID, 0)
        replied = api.messages(STAFF_CHAT_ID)[-1]
    api.send_message(text or ".", user=STAFF_USER_ID, chat=STAFF_CHAT_ID, reply_to=replied)
    # The staff chat answers only some messages: /help after it shows it was handled.
    probe = api.send_message("/help", user=STAFF_USER_ID, chat=STAFF_CHAT_ID)
    await api.wait_for(
        lambda: [m for m in api.messages(STAFF_CHAT_ID) if m.reply_to_message_id == probe],
        timeout=10,
    )
    assert errors(caplog) == []


# ------------------------------------------------------------- attachments and edits (#13)
#: The start of /help's answer, in either language: it shows that what came before in the
#: same chat was handled (a chat's updates are handled one at a time, in order).
HELP_STARTS = tuple(strip_tags(words.help)[:20] for words in texts.ALL)


async def handled(bot: Harness, chat: int, sender: int) -> None:
    """Send /help in `chat` and wait for its answer."""
    before = len(bot.api.messages(chat))
    bot.api.send_message("/help", user=sender, chat=chat)
    await bot.api.wait_for(
        lambda: [m for m in bot.api.messages(chat)[before:] if m.text.startswith(HELP_STARTS)],
        timeout=10,
    )


async def an_enquiry(bot: Harness) -> None:
    """Once per test: an enquiry from the user, so that the staff chat has its announcement
    (and staff something to answer, edit, or attach a file to)."""
    if not bot.api.messages(STAFF_CHAT_ID):
        bot.api.send_message("/ask is there a visa fee", user=USER_ID)
        await answered_in(bot, STAFF_CHAT_ID, 0)


def reply_target(bot: Harness, chat: int, reply: str) -> SentMessage | None:
    """The bot's last message in `chat`, or a copy of it the bot never recorded."""
    mine = [m for m in bot.api.messages(chat) if m.text]
    if reply == "none" or not mine:
        return None
    if reply == "copy" and mine[-1].photo is None and mine[-1].document is None:
        return bot.api.stray_copy(mine[-1])
    return mine[-1]


@example(sender=USER_ID, what="photo", caption="#1 ²\ud800", in_staff_chat=False, reply="copy")
@example(sender=STAFF_USER_ID, what="edit", caption="", in_staff_chat=True, reply="bot")
@given(
    sender=st.sampled_from([USER_ID, STAFF_USER_ID]),
    what=st.sampled_from(["photo", "document", "voice", "location", "sticker", "edit"]),
    caption=st.one_of(st.none(), SHORT, TEXT),
    in_staff_chat=st.booleans(),
    reply=st.sampled_from(["none", "bot", "copy"]),
)
async def test_attachments_and_edits_from_either_side_are_handled(
    open_bot: Harness,
    caplog: pytest.LogCaptureFixture,
    sender: int,
    what: str,
    caption: str | None,
    in_staff_chat: bool,
    reply: str,
) -> None:
    api = open_bot.api
    await an_enquiry(open_bot)
    chat = STAFF_CHAT_ID if sender == STAFF_USER_ID and in_staff_chat else sender
    options = {"user": sender, "chat": chat, "reply_to": reply_target(open_bot, chat, reply)}
    if what == "edit":  # a message, then its edit (relayed if the bot stored it)
        said = api.send_message("what about the fee?", **options)  # type: ignore[arg-type]
        await handled(open_bot, chat, sender)
        api.edit_message(chat, said, text=caption or ".", user=sender)
    elif what == "photo":
        api.send_photo(caption, **options)  # type: ignore[arg-type]
    elif what == "document":
        api.send_document(caption=caption, **options)  # type: ignore[arg-type]
    elif what == "voice":
        api.send_voice(**options)  # type: ignore[arg-type]
    elif what == "location":
        api.send_location(**options)  # type: ignore[arg-type]
    else:
        api.send_sticker(**options)  # type: ignore[arg-type]
    await handled(open_bot, chat, sender)
    assert errors(caplog) == []


# ------------------------------------------------------- the terminal chat and the queue (#11)
@pytest.fixture
async def terminal(tmp_path: Path) -> AsyncIterator[tuple[TerminalChat, io.TextIOWrapper]]:
    """The terminal chat on a database of its own, printing to a strict UTF-8 stream (as a
    terminal would: a lone surrogate cannot be printed)."""
    settings = load_settings(config_file(tmp_path), environ={})
    services = await open_services(settings)
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    try:
        yield TerminalChat(services, io.StringIO(), stdout), stdout
    finally:
        await services.close()


@example(line="/ask \ud800")  # bytes that were not UTF-8, on a command's line
@example(line="²")  # a digit Python calls a digit, among numbered choices
@given(line=st.one_of(TEXT, commands(), NUMBERS, WORDS))
async def test_every_line_in_the_terminal_chat_gets_an_answer(
    terminal: tuple[TerminalChat, io.TextIOWrapper], line: str
) -> None:
    chat, stdout = terminal
    before = stdout.tell()
    if await chat.handle(line) and line.strip():
        stdout.flush()
        assert stdout.tell() > before


QUEUE_ARGUMENTS = st.lists(
    st.one_of(
        st.sampled_from(["list", "show", "reply", "resolve", "reopen", "export", "--page", "-"]),
        ARGUMENTS,
    ),
    max_size=4,
)


#: How deep in its temporary directory the command line runs: deeper than the "../" an
#: argument (at most 40 characters) can climb, so that no relative path leads out of it.
DEPTH = 14
#: What the test runner itself may add to the directory the tests started in.
RUNNER_FILES = {".hypothesis", ".pytest_cache", ".coverage"}


def export_target(arguments: list[str]) -> str | None:
    """The file `clair-bot queue export` would write, the arguments parsed as the command line
    parses them; None if they are not an export to a file (or no valid command at all)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            args = cli.build_parser().parse_args(["queue", *map(without_surrogates, arguments)])
        except SystemExit:
            return None
    return args.file if args.queue_command == "export" and args.file != "-" else None


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if not path.is_dir()}


def entries(folder: Path) -> dict[str, int]:
    """The names in `folder`, with each file's modification time (a folder's is left out:
    other tests, in other processes, write in the repository's folders)."""
    return {e.name: 0 if e.is_dir() else e.stat().st_mtime_ns for e in os.scandir(folder)}


@hypothesis_settings(max_examples=max(1, hypothesis_settings().max_examples // 4))
@example(arguments=["show", "²"])
@example(arguments=["list", "--page", "١"])
@example(arguments=["list", "\ud800"])  # argv bytes that are not UTF-8
@example(arguments=["export", "-5"])  # a file named -5 (one was left in the repository)
@example(arguments=["export", "../reply"])  # next to the working directory
@example(arguments=["export", "/1x"])  # at the root, were it not moved (see below)
@given(arguments=QUEUE_ARGUMENTS)
def test_the_queue_commands_take_any_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str]
) -> None:
    """Each example runs in a fresh temporary directory (pytest's tmp_path is one for all
    examples), where only the file `queue export` was given may appear; in the directory the
    tests started in (the repository's) no file appears or changes."""
    config = config_file(tmp_path)
    origin = Path.cwd()
    before = entries(origin)
    target = export_target(arguments)
    status: int | None = None
    with tempfile.TemporaryDirectory(prefix="clair-bot-queue-") as folder:
        work = Path(folder).resolve()
        here = work.joinpath(*["d"] * DEPTH)
        here.mkdir(parents=True)
        if target is not None and Path(target).is_absolute():
            # Still an absolute path to a folder that exists, but in the temporary directory.
            arguments = [f"{here}{a}" if without_surrogates(a) == target else a for a in arguments]
            target = f"{here}{target}"
        with contextlib.chdir(here), contextlib.suppress(SystemExit):  # argparse: exit 2
            status = cli.main(["--config", str(config), "queue", *arguments])
            assert status in (0, 1, 2)
        written = files_under(work)
        meant = set() if target is None else {Path(os.path.normpath(here / target))}
        assert all(work in path.parents for path in meant), f"{target!r} leaves {work}"
        assert written <= meant, f"{arguments!r} wrote {sorted(map(str, written - meant))}"
        if status == 0:
            assert written == meant, f"{arguments!r} did not write {meant}"
    changed = {name for name, time in entries(origin).items() if before.get(name) != time}
    assert not changed - RUNNER_FILES, f"{arguments!r} wrote {sorted(changed)} into {origin}"
    error = capsys.readouterr().err
    assert "Traceback" not in error and error.count("\n") <= 1
