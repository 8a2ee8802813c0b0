"""The offline command line: ask, ask --json, chat, eval, and `run` without a token."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import chat, main
from bot.config import load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The shipped settings, but with the database in a temporary folder."""
    path = tmp_path / "config.yaml"
    path.write_text(
        f"knowledge:\n  path: {ROOT / 'knowledge'}\nstorage:\n  path: {tmp_path / 'db.sqlite3'}\n"
        f"staff:\n  saved_replies: {ROOT / 'saved-replies.yaml'}\n"
    )
    return path


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
    assert isinstance(data["suggestions"], list)


def test_ask_json_reads_stdin_line_by_line_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("hi\nwhat is the lgotp deadline\n\nfax\n"))
    assert main(["ask", "--json", "-"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["question"] for r in rows] == ["hi", "what is the lgotp deadline", "fax"]
    assert [r["action"] for r in rows] == ["smalltalk", "escalate", "clarify"]
    assert rows[1]["answer"] == ""


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
    assert "#1 new: is there a visa fee" in out


def test_run_without_token_explains_and_starts_the_terminal_chat(config: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
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
