"""Settings: file plus environment, with errors that name the setting."""

from pathlib import Path

import pytest
from pydantic import ValidationError

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
    closest = r"\(did you mean matcher.answer_threshold\?\)"
    with pytest.raises(ConfigError, match=rf"matcher.answer_treshold: unknown setting {closest}"):
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


def test_telegram_rate_limits_default_and_turn_off() -> None:
    shipped = load_settings(ROOT / "config.yaml", environ={})
    assert shipped.telegram.max_messages_per_second == 30
    assert shipped.telegram.group_messages_per_minute == 20
    off = load_settings(
        ROOT / "config.yaml",
        environ={
            "CLAIRBOT_TELEGRAM_MAX_MESSAGES_PER_SECOND": "0",
            "CLAIRBOT_TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "0",
        },
    )
    assert off.telegram.max_messages_per_second == 0
    assert off.telegram.group_messages_per_minute == 0
    with pytest.raises(ConfigError, match=r"telegram.max_messages_per_second: must be at least 0"):
        load_settings(environ={"CLAIRBOT_TELEGRAM_MAX_MESSAGES_PER_SECOND": "-1"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CLAIRBOT_STAFF_TIMEZONE": "Mars/Base"}, "staff.timezone: unknown time zone"),
        ({"CLAIRBOT_STAFF_OFFICE_DAYS": "funday"}, "staff.office_days/office_start/office_end"),
        ({"CLAIRBOT_LOGGING_LEVEL": "loud"}, "logging.level: must be DEBUG, INFO"),
        ({"CLAIRBOT_WEBHOOK_PORT": "0"}, "webhook.port: must be between 1 and 65535"),
        ({"CLAIRBOT_STAFF_REMIND_AFTER_HOURS": "0"}, "staff.remind_after_hours: must be more"),
        ({"CLAIRBOT_STAFF_FORUM_TOPICS": "maybe"}, "staff.forum_topics: expected true or false"),
        ({"CLAIRBOT_STORAGE_PATH": " "}, "storage.path: expected a path"),
        ({"CLAIRBOT_LIMITS_MESSAGES_PER_MINUTE": "0"}, "limits.messages_per_minute: must be at"),
        ({"CLAIRBOT_MATCHER_FALLBACK_BAND": "150"}, "matcher.fallback_band: must be between 0"),
    ],
)
def test_more_bad_settings_name_themselves(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(ROOT / "config.yaml", environ=environ)
    assert message in str(caught.value)


def test_lists_and_switches_from_the_environment() -> None:
    settings = load_settings(
        ROOT / "config.yaml",
        environ={
            "CLAIRBOT_STAFF_OFFICE_DAYS": "mon, tue",
            "CLAIRBOT_STAFF_FORUM_TOPICS": "yes",
            "CLAIRBOT_LOGGING_LEVEL": "debug",
        },
    )
    assert settings.staff.office_days == ("mon", "tue")
    assert settings.staff.forum_topics is True
    assert settings.logging.level == "DEBUG"
    with pytest.raises(ValidationError):  # frozen: nothing changes a setting after loading
        settings.staff.chat_id = 5  # type: ignore[misc]


def test_a_misspelt_variable_stops_with_the_closest_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(ROOT / "config.yaml", environ={"CLAIRBOT_STAF_CHAT_ID": "-100123"})
    assert str(caught.value) == (
        "CLAIRBOT_STAF_CHAT_ID names no setting "
        "(did you mean CLAIRBOT_STAFF_CHAT_ID, the setting staff.chat_id?)"
    )


def test_a_misspelt_section_names_the_closest(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("stafff:\n  chat_id: 1\n")
    with pytest.raises(ConfigError, match=r"unknown section 'stafff' \(did you mean staff\?\)"):
        load_settings(config, environ={})


@pytest.mark.parametrize("command", [["kb", "check"], ["ask", "hi"], ["queue", "list"]])
def test_every_command_stops_on_an_unknown_variable(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLAIRBOT_STAF_CHAT_ID", "-100123")
    assert main(command) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "clair-bot: configuration error: CLAIRBOT_STAF_CHAT_ID names no setting "
        "(did you mean CLAIRBOT_STAFF_CHAT_ID, the setting staff.chat_id?)"
    )


def test_the_token_is_no_setting_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:SECRET")
    settings = load_settings(ROOT / "config.yaml", environ={})
    assert settings.token == "123:SECRET"
    assert "SECRET" not in repr(settings) and "token" not in settings.model_dump()


def test_a_key_written_twice_in_config_yaml_is_named_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("staff:\n  chat_id: -100\n  user_ids: [1]\n  chat_id: -200\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert str(caught.value) == (
        f"{config}:4: not valid YAML: duplicate key 'chat_id' (first at line 2)"
    )
    config.write_text("logging:\n  level: INFO\nlogging:\n  level: DEBUG\n")
    with pytest.raises(ConfigError, match=r"config.yaml:3: .*duplicate key 'logging'"):
        load_settings(config, environ={})


def test_storage_url_is_a_sqlite_path_or_postgresql(tmp_path: Path) -> None:
    settings = load_settings(
        ROOT / "config.yaml", environ={"CLAIRBOT_STORAGE_URL": "postgresql://bot:pw@db/clair"}
    )
    assert settings.storage.url == "postgresql://bot:pw@db/clair"
    assert settings.storage.postgres and settings.storage.path is None
    config = tmp_path / "config.yaml"
    config.write_text("storage:\n  url: db/bot.sqlite3\n")
    settings = load_settings(config, environ={})
    assert settings.storage.url == str(tmp_path / "db" / "bot.sqlite3")
    assert settings.storage.path == tmp_path / "db" / "bot.sqlite3"
    config.write_text("storage:\n  path: old.sqlite3\n")  # the older name still works
    settings = load_settings(config, environ={})
    assert (settings.storage.url, settings.storage.path) == (
        str(tmp_path / "old.sqlite3"),
        tmp_path / "old.sqlite3",
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"CLAIRBOT_STORAGE_URL": "mysql://db/clair"},
            "storage.url: expected a SQLite file's path or postgresql://..., got a mysql:// URL",
        ),
        ({"CLAIRBOT_STORAGE_URL": " "}, "storage.url: expected a SQLite file's path"),
        (
            {"CLAIRBOT_STORAGE_URL": "a.sqlite3", "CLAIRBOT_STORAGE_PATH": "b.sqlite3"},
            "storage.path and storage.url are both set (storage.path is the older name of"
            " storage.url): keep one",
        ),
    ],
)
def test_bad_storage_urls_name_themselves(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(ROOT / "config.yaml", environ=environ)
    assert str(caught.value).startswith(message)
