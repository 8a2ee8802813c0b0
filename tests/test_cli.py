"""The offline command line: ask, ask --json, chat, eval, and `run` without a token."""

import asyncio
import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import config_file, open_services

from bot.cli import chat, main
from bot.config import load_settings
from bot.storage.records import Asker

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The shipped settings, but with the database in a temporary folder."""
    return config_file(tmp_path, ROOT / "knowledge", ROOT / "saved-replies.yaml")


def test_ask_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "when do lgotp trainees arrive in japan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ANSWER lgotp-arrival")
    assert "mid-May" in out


def test_ask_json_one_question(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "How many JET participants came from the Philippines?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["action"] == "answer"
    assert data["entry_id"] == "jet-participants"
    assert "339" in data["answer"] and "334" in data["answer"]
    assert data["answer"].endswith("\n\nSource: Our Activities 2025 (J.CLAIR Singapore)")
    assert isinstance(data["suggestions"], list)


def test_ask_json_reads_stdin_line_by_line_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = "hi\nwhat is the lgotp deadline\n\n \t\nfax\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    assert main(["ask", "--json", "-"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # One object for every line, blank ones too, so that output line N answers input line N.
    assert [r["question"] for r in rows] == ["hi", "what is the lgotp deadline", "", " \t", "fax"]
    assert [r["action"] for r in rows] == [
        "smalltalk",
        "escalate",
        "smalltalk",
        "smalltalk",
        "clarify",
    ]
    assert [r["code"] for r in rows[2:4]] == ["empty", "empty"]
    assert rows[1]["answer"] == ""


def test_ask_json_replaces_lone_surrogates_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape).
    raw = b"what is jet\xff\xfe\n\xed\xa0\x80\n"
    stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="surrogateescape")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["ask", "--json", "-"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["question"] for r in rows] == ["what is jet\ufffd\ufffd", "\ufffd" * 3]


def test_eval_prints_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"knowledge:\n  path: {ROOT / 'tests' / 'fixtures' / 'matcher-knowledge'}\n")
    questions = tmp_path / "questions"
    questions.mkdir()
    (questions / "set.yaml").write_text(
        "- {q: how long is lgotp, expect: answer, facts: [6-12]}\n"
        "- {q: LGOTPの研修期間を教えてください, expect: answer, facts: [6-12]}\n"
        "- {q: how much is the fee, expect: escalate}\n"
        "- {q: thanks, expect: smalltalk}\n"
        "- {q: 'Good afternoon. I work in Cebu and my director asked me to check how long the"
        " training lasts. Thank you.', expect: answer, facts: [6-12], tags: [long]}\n"
    )
    assert main(["--config", str(config), "eval", str(questions), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "answerable right" in out and "wrong of answers" in out
    assert "en long" in out and "ja short" in out
    assert "100.0% (  3/3  )" in out  # every answerable question answered right
    assert "reason codes: answered 3, guard-topic 1, smalltalk 1" in out
    assert "misses" not in out  # --quiet: figures only


def test_eval_bad_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "q.yaml"
    bad.write_text("- q: hello\n- expect: jet-overview\n")
    assert main(["eval", str(bad)]) == 2
    assert f"{bad}:1: each item needs 'expect'" in capsys.readouterr().err


async def test_chat_answers_offers_choices_and_escalates_with_a_reference(config: Path) -> None:
    settings = load_settings(config, environ={})
    stdin = io.StringIO("when do trainees arrive in japan\nfax\n1\nis there a visa fee\n/status\n")
    stdout = io.StringIO()
    assert await chat(settings, stdin, stdout) == 0
    out = stdout.getvalue()
    assert "mid-May" in out
    assert "1. " in out and "None of these - ask staff" in out
    assert "6224-8376" in out  # choice 1 of "fax" is J.CLAIR Singapore's fax
    assert "Your reference is #1" in out
    assert "#1 (new): is there a visa fee" in out


def test_run_without_token_explains_and_starts_the_terminal_chat(config: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["CLAIRBOT_CONSOLE_PORT"] = "0"  # the staff console beside it, on a free port
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        input="what does a CIR do\n/quit\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "TELEGRAM_BOT_TOKEN is not set" in done.stdout
    assert "@BotFather" in done.stdout
    assert "Coordinator for International Relations" in done.stdout
    assert re.search(r"Staff console: http://127\.0\.0\.1:\d+/signin/\S{40,}\n", done.stdout)


# ---------------------------------------------------------------------------- queue
@pytest.fixture
def queue_config(tmp_path: Path) -> Path:
    """Settings on the fixture knowledge base, with one escalated enquiry (#1) stored; staff
    texts in English (staff.language is Japanese by default)."""
    path = config_file(tmp_path, staff="language: en")

    async def escalate() -> None:
        services = await open_services(load_settings(path, environ={}))
        try:
            asker = Asker(user_id=7, chat_id=7, name="Ana")
            await services.users.ask(asker, "what is the application deadline for lgotp")
        finally:
            await services.close()

    asyncio.run(escalate())
    return path


def queue(config: Path, *args: str) -> int:
    return main(["--config", str(config), "queue", *args])


def test_queue_show_has_the_closest_entries_and_the_reason_code(
    queue_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert queue(queue_config, "show", "#1") == 0
    out = capsys.readouterr().out
    assert "what is the application deadline for lgotp" in out
    considered = next(line for line in out.splitlines() if line.startswith("Bot considered:"))
    assert re.search(r"\[lgotp-[a-z-]+\] \(\d+\)", considered)  # entry ids with scores
    assert "Why it was forwarded: [guard-topic]" in out


def test_queue_reply_refuses_an_empty_answer(
    queue_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert queue(queue_config, "reply", "1", "  ", "\u200b") == 1
    err = capsys.readouterr().err
    assert err == "clair-bot: the reply to #1 is empty: type the answer\n"
    assert queue(queue_config, "reply", "1", "The deadline is in March.") == 0
    assert "reply queued" in capsys.readouterr().out


def test_queue_reopen_says_open_again(
    queue_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert queue(queue_config, "resolve", "1") == 0
    assert queue(queue_config, "reopen", "1") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "#1 is resolved."
    assert out[1].startswith("#1 is open again") and "claimed" not in out[1]


def test_queue_export_to_standard_output_and_to_a_missing_folder(
    queue_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert queue(queue_config, "export", "-") == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:3] == ["ref", "state", "created_at"]
    assert rows[1][0] == "1" and rows[1][9] == "what is the application deadline for lgotp"
    missing = tmp_path / "no-such-folder" / "out.csv"
    assert queue(queue_config, "export", str(missing)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the folder" in err and "does not exist" in err
    assert queue(queue_config, "export", str(tmp_path / "out.csv")) == 0
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").startswith("ref,state")
    capsys.readouterr()
    assert queue(queue_config, "export", str(tmp_path / "a\0b.csv")) == 1  # found by Hypothesis
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a file name has no NUL character" in err


def test_queue_list_past_the_last_page(
    queue_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert queue(queue_config, "list") == 0
    assert "Open enquiries (1), page 1 of 1" in capsys.readouterr().out
    assert queue(queue_config, "list", "--page", "3") == 2
    err = capsys.readouterr().err
    assert err.startswith("clair-bot: there is no page 3: the queue has 1 page(s)")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["queue", "show", "abc"], "expected an enquiry number such as 12, got 'abc'"),
        (["queue", "show"], "the following arguments are required: ref"),
        (["queue", "reply", "0", "hi"], "expected an enquiry number such as 12, got '0'"),
        (["queue", "list", "--page", "-1"], "expected a page number from 1, got '-1'"),
        (["queue", "export"], "the following arguments are required: file"),
        (["queue", "bogus"], "invalid choice: 'bogus'"),
        (["ask"], "the following arguments are required: question"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ],
)
def test_bad_arguments_get_one_line_with_the_usage(
    args: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and problem in err and "; usage: clair-bot" in err
    assert "Traceback" not in err
