"""The `clair-bot` command line: run the bot, ask offline, chat, evaluate, check the knowledge."""

from __future__ import annotations

import argparse
import asyncio
import functools
import getpass
import importlib
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from bot import consoletexts, logs, staffview, texts
from bot.answers import answer_text
from bot.config import ConfigError, Settings, load_settings
from bot.core import EmptyReply, EnquiryResolved, UnknownEnquiry
from bot.decision import Action, Decision
from bot.evaluation import EvalFileError, eval_files, evaluate, load_eval
from bot.inbound import number as typed_number
from bot.inbound import without_surrogates
from bot.knowledge import KnowledgeError, check_knowledge, load_knowledge
from bot.markup import strip_tags
from bot.matcher import Matcher
from bot.savedreplies import SavedRepliesError, check_saved_replies
from bot.service import Services
from bot.storage.copy import CopyRefused, copy_database
from bot.storage.database import Database, StorageUnavailable
from bot.storage.migrate import upgrade
from bot.storage.records import Event
from bot.terminal import POLL_SECONDS, TerminalChat

if TYPE_CHECKING:
    from console.server import ConsoleServer

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
QUEUE_PAGE_SIZE = 10
TELEGRAM_APP = "handlers.app"  # the application factory and runner, on the Telegram side
#: Who the terminal's console links sign in: the person at the terminal (no Telegram id).
LOCAL_STAFF_ID = 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake in the arguments is one line: what was wrong, what to type."""

    def error(self, message: str) -> NoReturn:
        """Print the problem and the command's usage on one line, and exit with 2."""
        usage = " ".join(self.format_usage().split()).removeprefix("usage: ")
        self.exit(EXIT_USAGE, f"{self.prog}: {message}; usage: {usage}\n")


def _reference(value: str) -> int:
    """An enquiry's reference number as typed: 12 or #12."""
    ref = typed_number(value)  # ASCII digits only: "²".isdigit() is true, int("²") raises
    if not ref:
        raise argparse.ArgumentTypeError(f"expected an enquiry number such as 12, got {value!r}")
    return ref


def _page(value: str) -> int:
    """A page number, from 1."""
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9 or int(digits) == 0:
        raise argparse.ArgumentTypeError(f"expected a page number from 1, got {value!r}")
    return int(digits)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with a help text for every command."""
    parser = _Parser(
        prog="clair-bot",
        description="Answers enquiries about CLAIR's programmes on Telegram or in the terminal.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="settings file (default: config.yaml next to the project)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run", help="start the Telegram bot (the terminal chat if TELEGRAM_BOT_TOKEN is unset)"
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="serve a webhook (settings in the 'webhook' section) instead of long polling",
    )
    run.add_argument(
        "--once",
        action="store_true",
        help="exit at once if the Bot API cannot be reached at start-up, instead of waiting "
        "for it (telegram.wait_for_network)",
    )

    ask = commands.add_parser("ask", help="answer one question offline and print the decision")
    ask.add_argument("question", help="the question, or - to read one question per line")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")

    commands.add_parser("chat", help="talk to the bot in the terminal")

    ev = commands.add_parser(
        "eval",
        help="run labelled question sets and report accuracy",
        description="Run labelled question sets (YAML files, or folders of them) through the "
        "matcher and print the figures per language, for long and short messages, the reason "
        "codes, and the misses.",
    )
    ev.add_argument(
        "paths", type=Path, nargs="+", metavar="PATH", help="a question set, or a folder of them"
    )
    ev.add_argument(
        "--quiet", action="store_true", help="figures only, without the misses (held-out sets)"
    )

    kb = commands.add_parser("kb", help="knowledge base tools")
    kb_commands = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    kb_commands.add_parser(
        "check",
        help="validate every knowledge file and the saved replies; non-zero exit on errors",
    )
    kb_commands.add_parser(
        "suggestions", help="questions the bot could not answer, grouped, most frequent first"
    )

    queue = commands.add_parser(
        "queue", help="work the escalated-enquiry queue (same database as the running bot)"
    )
    queue_commands = queue.add_subparsers(dest="queue_command", metavar="QUEUE_COMMAND")
    queue_commands.required = True
    listing = queue_commands.add_parser("list", help="open enquiries, oldest first")
    listing.add_argument("--page", type=_page, default=1, help="page number (10 per page)")
    shown = queue_commands.add_parser(
        "show", help="one enquiry: its thread, the closest entries and the reason code"
    )
    shown.add_argument("ref", type=_reference, help="reference number")
    reply = queue_commands.add_parser(
        "reply", help="answer the user; the running bot delivers it through the outbox"
    )
    reply.add_argument("ref", type=_reference, help="reference number")
    reply.add_argument("text", nargs="+", help="the answer (not empty)")
    resolve = queue_commands.add_parser("resolve", help="mark an enquiry resolved")
    resolve.add_argument("ref", type=_reference, help="reference number")
    reopen = queue_commands.add_parser("reopen", help="open a resolved enquiry again")
    reopen.add_argument("ref", type=_reference, help="reference number")
    export = queue_commands.add_parser(
        "export", help="write every enquiry as CSV to a file, or to standard output with -"
    )
    export.add_argument("file", help="the CSV file to write, or - for standard output")

    db = commands.add_parser(
        "db", help="the database: bring its schema up to date, or copy SQLite to PostgreSQL"
    )
    db_commands = db.add_subparsers(dest="db_command", metavar="DB_COMMAND")
    db_commands.required = True
    db_commands.add_parser(
        "migrate",
        help="bring storage.url's schema to the newest revision (start-up does it too)",
    )
    copy = db_commands.add_parser(
        "copy",
        help="copy every table of a SQLite database into an empty one (ids and sequences "
        "kept); stop the bot first, or copy again with --replace after stopping it",
    )
    copy.add_argument("source", metavar="SQLITE_PATH", type=Path, help="the SQLite file")
    copy.add_argument(
        "target", metavar="POSTGRES_URL", help="postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
    )
    copy.add_argument(
        "--replace",
        action="store_true",
        help="empty the target's tables first (by default a target with rows is refused)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `clair-bot` console script."""
    parser = build_parser()
    # Bytes that are not UTF-8 in an argument reach Python as lone surrogates, which no
    # output can encode (an error message quoting one ended in a traceback).
    arguments = sys.argv[1:] if argv is None else argv
    args = parser.parse_args([without_surrogates(a) for a in arguments])
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"clair-bot: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # Before anything can log: every line of every logger is written with the token redacted.
    logs.setup(settings.logging.level, [settings.token or ""])
    handlers: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
        "run": _cmd_run,
        "ask": _cmd_ask,
        "chat": _cmd_chat,
        "eval": _cmd_eval,
        "kb": _cmd_kb,
        "queue": _cmd_queue,
        "db": _cmd_db,
    }
    try:
        return handlers[args.command](args, settings)
    except (KnowledgeError, SavedRepliesError) as exc:
        print(f"clair-bot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:  # the reader went away (`clair-bot eval ... | head`): not an error
        sys.stderr.close()
        return EXIT_OK


def _cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.db_command == "migrate":
            print(asyncio.run(_migrate(settings.storage.url)))
        else:
            copied = asyncio.run(copy_database(args.source, args.target, args.replace))
            print(copied.summary())
    except (StorageUnavailable, CopyRefused) as exc:
        print(f"clair-bot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def _migrate(url: str) -> str:
    database = await Database.open(url, migrate=False)
    try:
        ran = await upgrade(database)
        revision = await database.schema_version()
    finally:
        await database.close()
    if not ran:
        return f"{database.path}: up to date, at revision {revision}"
    return f"{database.path}: ran {', '.join(ran)}; now at revision {revision}"


def _matcher(settings: Settings) -> Matcher:
    return Matcher(load_knowledge(settings.knowledge.path), settings.matcher)


def _cmd_kb(args: argparse.Namespace, settings: Settings) -> int:
    if args.kb_command == "suggestions":
        return asyncio.run(_kb_suggestions(settings))
    report = check_knowledge(settings.knowledge.path)
    replies, reply_problems = check_saved_replies(settings.staff.saved_replies)
    for problem in [*report.problems, *reply_problems]:
        print(problem)
    if report.kb is None:
        print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
        return EXIT_FAILED
    kb = report.kb
    print(
        f"ok: {len(kb.entries)} entries, {kb.question_count()} alternate questions, "
        f"{len(kb.tables)} tables, {len(report.warnings)} warning(s)"
    )
    if replies is None:
        print(f"saved replies: {len(reply_problems)} error(s)")
        return EXIT_FAILED
    print(f"ok: {len(replies.replies)} saved replies")
    return EXIT_OK


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    matcher = _matcher(settings)
    questions: Iterable[str]
    if args.question == "-":  # one answer for every line, blank ones too, so they line up
        questions = (without_surrogates(line.rstrip("\n")) for line in sys.stdin)
    else:
        questions = [without_surrogates(args.question)]
    for question in questions:
        decision = matcher.decide(question)
        decision = replace(decision, answer=answer_text(matcher.kb, decision))  # as sent
        if args.json:
            print(json.dumps(decision.to_json(), ensure_ascii=False), flush=True)
        else:
            print(describe(decision, matcher), flush=True)
    return EXIT_OK


def describe(decision: Decision, matcher: Matcher) -> str:
    """A decision in words, for people reading the terminal."""
    score = f"score {decision.score:.0f}"
    if decision.action is Action.ANSWER:
        return f"ANSWER {decision.entry_id} ({decision.title}; {score})\n{decision.answer}"
    if decision.action is Action.CLARIFY:
        lines = [f"CLARIFY ({score}; {decision.reason}) - did you mean:"]
        lines += [f"  {s.entry_id} ({s.title}; {s.score:.0f})" for s in decision.suggestions]
        return "\n".join(lines)
    if decision.action is Action.SMALLTALK:
        return f"SMALLTALK\n{decision.answer}"
    return f"ESCALATE to staff ({score}; {decision.reason})"


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    matcher = _matcher(settings)
    try:
        files = eval_files(args.paths)
        if not files:
            raise EvalFileError(f"no question sets (*.yaml) in {', '.join(map(str, args.paths))}")
        items = [item for path in files for item in load_eval(path)]
        report = evaluate(matcher.decide, items, set(matcher.kb.entries))
    except EvalFileError as exc:
        print(f"clair-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(report.format(show_misses=not args.quiet))
    return EXIT_OK


def _cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(chat(settings, sys.stdin, sys.stdout))


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.token is None:
        print(texts.NO_TOKEN, flush=True)
        print(flush=True)
        return asyncio.run(chat(settings, sys.stdin, sys.stdout, with_console=True))
    # The Telegram layer is loaded only here: the core and the offline commands never import
    # it, so `ask`, `eval`, `kb` and `queue` work (and are tested) without python-telegram-bot.
    telegram_side = importlib.import_module(TELEGRAM_APP)
    result: int = telegram_side.run_telegram(settings, webhook=args.webhook, once=args.once)
    return result


async def chat(
    settings: Settings,
    stdin: TextIO,
    stdout: TextIO,
    poll_seconds: float = POLL_SECONDS,
    with_console: bool = False,
) -> int:
    """A terminal conversation with the same engine and database as the Telegram bot; with
    the staff console beside it on 127.0.0.1 if `with_console` (and console.enabled)."""
    services = await Services.open(settings)
    server = await _local_console(services, stdout) if with_console else None
    try:
        link = None if server is None else functools.partial(_console_link, services, server.url)
        await TerminalChat(services, stdin, stdout, poll_seconds, link).run()
    finally:
        if server is not None:
            await server.stop()
        await services.close()
    return EXIT_OK


async def _local_console(services: Services, stdout: TextIO) -> ConsoleServer | None:
    """The staff console on 127.0.0.1 for the person at this terminal, its link printed."""
    settings = services.settings.console
    if not settings.enabled:
        return None
    from console.app import build_app  # the web side, loaded only for the terminal chat
    from console.server import ConsoleServer

    services.console.local_staff = (LOCAL_STAFF_ID, f"{getpass.getuser() or 'staff'} (console)")
    server = ConsoleServer(build_app(services), "127.0.0.1", settings.port)
    try:
        await server.start()
    except OSError as exc:
        reason = f"127.0.0.1:{settings.port}: {exc.strerror or exc}; set console.port"
        print(consoletexts.TERMINAL_NO_CONSOLE.format(reason=reason), file=stdout, flush=True)
        return None
    print(_console_link(services, server.url), file=stdout, flush=True)
    return server


def _console_link(services: Services, url: str) -> str:
    staff_id, name = services.console.local_staff or (LOCAL_STAFF_ID, "")
    token = services.console.issue_link(staff_id, name)
    return consoletexts.TERMINAL_LINK.format(url=f"{url}/signin/{token}")


async def _kb_suggestions(settings: Settings) -> int:
    services = await Services.open(settings)
    try:
        groups = await services.maintenance.suggestion_groups()
    finally:
        await services.close()
    if not groups:
        print("No unanswered questions yet.")
    for group in groups:
        refs = ", ".join(f"#{r}" for r in group.refs)
        print(f"{group.count} x {group.example!r} ({refs})")
    return EXIT_OK


def _cmd_queue(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_queue(args, settings))


async def _queue(args: argparse.Namespace, settings: Settings) -> int:
    """The staff commands, for a desk without Telegram; replies go through the outbox."""
    services = await Services.open(settings)
    try:
        return await _queue_command(args, services)
    except (UnknownEnquiry, EmptyReply) as exc:
        print(f"clair-bot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except EnquiryResolved as exc:
        print(f"clair-bot: #{exc.ref} is resolved: reopen it first", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await services.close()


async def _queue_command(args: argparse.Namespace, services: Services) -> int:
    service = services.staff
    staff = f"{getpass.getuser() or 'staff'} (command line)"
    command = args.queue_command
    if command == "list":
        page = args.page - 1
        enquiries, total = await service.queue(page, QUEUE_PAGE_SIZE)
        pages = service.pages(total, QUEUE_PAGE_SIZE)
        if page >= pages:
            print(
                f"clair-bot: there is no page {args.page}: the queue has {pages} page(s) of "
                f"{QUEUE_PAGE_SIZE}; try clair-bot queue list --page {pages}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        text, _ = staffview.queue_page(
            enquiries, total, page, QUEUE_PAGE_SIZE, service.now(), service.words
        )
        print(strip_tags(text))
    elif command == "show":
        enquiry, messages, rating = await service.show(args.ref)
        print(strip_tags(staffview.show(enquiry, messages, service.hours, service.words, rating)))
    elif command == "reply":
        enquiry = await service.reply(args.ref, 0, staff, " ".join(args.text))
        print(f"#{enquiry.ref}: reply queued; the running bot will deliver it.")
    elif command == "resolve":
        enquiry = await service.resolve(args.ref, None, staff)
        print(f"#{enquiry.ref} is resolved.")
    elif command == "reopen":
        enquiry = await service.reopen(args.ref, None, staff)
        print(strip_tags(staffview.state_changed(enquiry, staff, service.words, Event.REOPEN)))
    elif command == "export":
        return _export(args.file, await service.export_csv())
    return EXIT_OK


def _export(target: str, data: str) -> int:
    """The CSV to standard output (-) or to a file, with one line when it cannot be written."""
    if target == "-":
        sys.stdout.write(data)
        return EXIT_OK
    if "\0" in target:  # no file system takes it (Python would raise ValueError)
        print(
            f"clair-bot: cannot write {target!r}: a file name has no NUL character",
            file=sys.stderr,
        )
        return EXIT_FAILED
    path = Path(target)
    if not path.parent.is_dir():
        print(
            f"clair-bot: cannot write {path}: the folder {path.parent} does not exist "
            "(create it, or use - for standard output)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    try:
        path.write_text(data, encoding="utf-8")
    except OSError as exc:
        print(f"clair-bot: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {path}")
    return EXIT_OK
