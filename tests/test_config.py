"""Settings: file plus environment, with errors that name the setting."""

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_loads_with_paths_relative_to_it() -> None:
    settings = load_settings(ROOT / "config.yaml", environ={})
    assert settings.knowledge.path == ROOT / "knowledge"
    assert settings.storage.path == ROOT / "data" / "clair-bot.sqlite3"
    assert settings.staff.user_ids == ()


def test_environment_overrides_every_section() -> None:
    settings = load_settings(
        ROOT / "config.yaml",
        environ={
            "CLAIRBOT_TELEGRAM_BASE_URL": "http://127.0.0.1:9999/bot",
            "CLAIRBOT_STAFF_CHAT_ID": "-100123",
            "CLAIRBOT_STAFF_USER_IDS": "11, 22",
            "CLAIRBOT_STORAGE_PATH": "/tmp/x.sqlite3",
            "CLAIRBOT_MATCHER_ANSWER_THRESHOLD": "60",
        },
    )
    assert settings.telegram.base_url == "http://127.0.0.1:9999/bot"
    assert settings.staff.chat_id == -100123
    assert settings.staff.user_ids == (11, 22)
    assert settings.storage.path == Path("/tmp/x.sqlite3")
    assert settings.matcher.answer_threshold == 60.0


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CLAIRBOT_STAFF_CHAT_ID": "abc"}, "staff.chat_id: expected a whole number, got 'abc'"),
        ({"CLAIRBOT_STAFF_USER_IDS": "1,x"}, "staff.user_ids: expected a list of numeric ids"),
        ({"CLAIRBOT_MATCHER_MARGIN": "150"}, "matcher.margin: must be between 0 and 100"),
        ({"CLAIRBOT_TELEGRAM_BASE_URL": "ftp://x"}, "telegram.base_url: must start with http"),
        ({"CLAIRBOT_MATCHER_CLARIFY_THRESHOLD": "90"}, "matcher.clarify_threshold: must not be"),
    ],
)
def test_bad_settings_name_themselves(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(ROOT / "config.yaml", environ=environ)
    assert message in str(caught.value)


def test_unknown_key_and_missing_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("matcher:\n  answer_treshold: 50\n")
    with pytest.raises(ConfigError, match=r"matcher.answer_treshold: unknown setting"):
        load_settings(config, environ={})
    with pytest.raises(ConfigError, match=r"does not exist"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_cli_reports_a_bad_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLAIRBOT_STAFF_CHAT_ID", "not-a-number")
    assert main(["kb", "check"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "clair-bot: configuration error: staff.chat_id: expected a whole number, "
        "got 'not-a-number' (from CLAIRBOT_STAFF_CHAT_ID)"
    )
