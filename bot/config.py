"""Settings: `config.yaml` plus `CLAIRBOT_<SECTION>_<KEY>` environment overrides, validated once.

Every problem is reported as one line that names the setting, so a bad deployment stops
with a message instead of a traceback. The bot token is not a setting: it is read only from
the `TELEGRAM_BOT_TOKEN` environment variable and never logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.decision import MatcherSettings
from bot.workhours import OfficeHours

TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN"
ENV_PREFIX = "CLAIRBOT_"
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True)
class KnowledgeSettings:
    """Where the knowledge base lives."""

    path: Path = Path("knowledge")


@dataclass(frozen=True)
class StorageSettings:
    """The SQLite database of enquiries and feedback."""

    path: Path = Path("data/clair-bot.sqlite3")
    retention_days: int = 365


@dataclass(frozen=True)
class TelegramSettings:
    """How the bot reaches the Bot API."""

    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: int = 30
    concurrent_updates: int = 64


@dataclass(frozen=True)
class WebhookSettings:
    """python-telegram-bot's own webhook server, for `clair-bot run --webhook`."""

    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = "telegram"
    url: str = ""
    secret_token: str = ""


@dataclass(frozen=True)
class StaffSettings:
    """The staff group that receives escalated enquiries, who may act, and office hours."""

    chat_id: int = 0
    user_ids: tuple[int, ...] = ()
    forum_topics: bool = False
    remind_after_hours: float = 8.0
    timezone: str = "Asia/Tokyo"
    office_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    office_start: str = "09:00"
    office_end: str = "17:45"

    def office_hours(self) -> OfficeHours:
        """The office hours as a schedule (validated when the settings are loaded)."""
        return OfficeHours.parse(
            self.timezone, self.office_days, self.office_start, self.office_end
        )


@dataclass(frozen=True)
class LimitsSettings:
    """Flood protection per user."""

    messages_per_minute: int = 20
    enquiries_per_day: int = 5


@dataclass(frozen=True)
class LoggingSettings:
    """How much the bot logs."""

    level: str = "INFO"


@dataclass(frozen=True)
class Settings:
    """Every setting of the bot, typed and validated."""

    config_path: Path
    knowledge: KnowledgeSettings = field(default_factory=KnowledgeSettings)
    matcher: MatcherSettings = field(default_factory=MatcherSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    staff: StaffSettings = field(default_factory=StaffSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)

    @property
    def token(self) -> str | None:
        """The bot token from the environment, or None when it is not set."""
        return os.environ.get(TOKEN_VARIABLE, "").strip() or None


_SECTIONS: dict[str, type] = {
    "knowledge": KnowledgeSettings,
    "matcher": MatcherSettings,
    "storage": StorageSettings,
    "telegram": TelegramSettings,
    "webhook": WebhookSettings,
    "staff": StaffSettings,
    "limits": LimitsSettings,
    "logging": LoggingSettings,
}


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (default: the project's config.yaml), apply the environment, validate."""
    path = (path or DEFAULT_CONFIG).resolve()
    env = os.environ if environ is None else environ
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    for section in raw:
        if section not in _SECTIONS:
            known = ", ".join(_SECTIONS)
            raise ConfigError(f"{path}: unknown section '{section}' (known: {known})")
    built: dict[str, Any] = {}
    for section, cls in _SECTIONS.items():
        values = raw.get(section) or {}
        if not isinstance(values, dict):
            raise ConfigError(f"{section}: must be a mapping of settings")
        built[section] = _build_section(section, cls, values, env, path.parent)
    settings = Settings(config_path=path, **built)
    _validate(settings)
    return settings


def _build_section(
    section: str, cls: type, values: dict[str, Any], env: Mapping[str, str], base: Path
) -> Any:
    known = {f.name: f for f in fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(f"{section}.{key}: unknown setting (known: {', '.join(known)})")
    kwargs: dict[str, Any] = {}
    for name, spec in known.items():
        variable = f"{ENV_PREFIX}{section}_{name}".upper()
        if variable in env:
            value: Any = env[variable]
            origin = f" (from {variable})"
        elif name in values:
            value = values[name]
            origin = ""
        else:
            continue
        kwargs[name] = _coerce(f"{section}.{name}", spec.type, value, origin, base)
    return cls(**kwargs)


def _coerce(name: str, kind: Any, value: Any, origin: str, base: Path) -> Any:
    """Turn a YAML value or an environment string into the setting's type."""
    kind = str(kind)
    try:
        if kind == "Path":
            if not isinstance(value, str) or not value.strip():
                raise ValueError("a path")
            path = Path(value).expanduser()
            return path if path.is_absolute() else (base / path)
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError("a whole number")
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError("a number")
            return float(value)
        if kind == "str":
            return "" if value is None else str(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError("true or false")
        if kind == "tuple[str, ...]":
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            if isinstance(value, list):
                return tuple(str(v) for v in value)
            raise ValueError("a list of words")
        if kind == "tuple[int, ...]":
            if isinstance(value, str):
                items = [v for v in value.replace(" ", "").split(",") if v]
            elif isinstance(value, list):
                items = value
            elif value is None:
                items = []
            else:
                raise ValueError("a list of numbers")
            return tuple(int(v) for v in items)
    except (TypeError, ValueError) as exc:
        expected = {
            "int": "a whole number",
            "float": "a number",
            "tuple[int, ...]": "a list of numeric ids (comma-separated in the environment)",
            "Path": "a path",
            "bool": "true or false",
            "tuple[str, ...]": "a list of words (comma-separated in the environment)",
        }.get(kind, str(exc))
        raise ConfigError(f"{name}: expected {expected}, got {value!r}{origin}") from None
    raise ConfigError(f"{name}: unsupported setting type {kind}")  # pragma: no cover


def _validate(settings: Settings) -> None:
    m = settings.matcher
    for name in (
        "answer_threshold",
        "clarify_threshold",
        "margin",
        "clarify_band",
        "fallback_band",
    ):
        value = getattr(m, name)
        if not 0 <= value <= 100:
            raise ConfigError(f"matcher.{name}: must be between 0 and 100, got {value}")
    if m.clarify_threshold > m.answer_threshold:
        raise ConfigError(
            "matcher.clarify_threshold: must not be above matcher.answer_threshold "
            f"({m.clarify_threshold} > {m.answer_threshold})"
        )
    if not 1 <= m.max_suggestions <= 5:
        raise ConfigError("matcher.max_suggestions: must be between 1 and 5")
    if m.max_question_chars < 20:
        raise ConfigError("matcher.max_question_chars: must be at least 20")
    if settings.storage.retention_days < 1:
        raise ConfigError("storage.retention_days: must be at least 1")
    if settings.telegram.concurrent_updates < 1:
        raise ConfigError("telegram.concurrent_updates: must be at least 1")
    if settings.telegram.poll_timeout < 0:
        raise ConfigError("telegram.poll_timeout: must not be negative")
    for name in ("base_url", "base_file_url"):
        value = getattr(settings.telegram, name)
        if not value.startswith(("http://", "https://")):
            raise ConfigError(f"telegram.{name}: must start with http:// or https://")
    if not 1 <= settings.webhook.port <= 65535:
        raise ConfigError("webhook.port: must be between 1 and 65535")
    staff = settings.staff
    try:
        ZoneInfo(staff.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"staff.timezone: unknown time zone {staff.timezone!r} (for example Asia/Tokyo)"
        ) from None
    try:
        staff.office_hours()
    except ValueError as exc:
        raise ConfigError(f"staff.office_days/office_start/office_end: {exc}") from None
    if settings.staff.remind_after_hours <= 0:
        raise ConfigError("staff.remind_after_hours: must be more than 0")
    if settings.limits.messages_per_minute < 1:
        raise ConfigError("limits.messages_per_minute: must be at least 1")
    if settings.limits.enquiries_per_day < 1:
        raise ConfigError("limits.enquiries_per_day: must be at least 1")
    level = settings.logging.level.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("logging.level: must be DEBUG, INFO, WARNING or ERROR")
