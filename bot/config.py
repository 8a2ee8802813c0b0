"""Settings: `config.yaml` plus `CLAIRBOT_<SECTION>_<KEY>` environment overrides, validated once.

pydantic-settings reads both (the environment wins) into frozen, typed models; the ranges
and rules live on the fields. Every problem is reported as one line that names the setting,
so a bad deployment stops with a message instead of a traceback; a misspelt key in the file
or a `CLAIRBOT_` variable that names no setting stops it too, with the closest setting
suggested. The bot token is not a setting: it is read only from `TELEGRAM_BOT_TOKEN`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic import model_validator as after_fields
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from bot.decision import MatcherSettings
from bot.storage.database import POSTGRES_SCHEMES
from bot.workhours import OfficeHours
from bot.yamlfile import YamlSyntaxError, load_yaml

TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN"
ENV_PREFIX = "CLAIRBOT_"
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(Exception):
    """A setting is missing, unknown or invalid; the message names it."""


def _comma_list(value: Any) -> Any:
    """A list from the environment: "11, 22" -> ["11", "22"]; anything else unchanged."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [] if value is None else value


def _path(value: Any) -> Any:
    """A path must be written out: an empty one would silently mean the config's folder."""
    if isinstance(value, str) and not value.strip():
        raise ValueError("expected a path, got ''")
    return value


CommaList = Annotated[tuple[int, ...], NoDecode]
WordList = Annotated[tuple[str, ...], NoDecode]


class Section(BaseModel):
    """A section of config.yaml: frozen, and a key it does not have is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class KnowledgeSettings(Section):
    """Where the knowledge base lives."""

    path: Path = Path("knowledge")

    _path = field_validator("path", mode="before")(_path)


_MATCHER = MatcherSettings()  # the matcher's own defaults (bot.decision)


class MatcherSection(Section):
    """Thresholds (scores are 0-100) that separate answering, clarifying and escalating;
    checked here, handed to the matcher as its own `MatcherSettings`."""

    answer_threshold: float = Field(_MATCHER.answer_threshold, ge=0, le=100)
    clarify_threshold: float = Field(_MATCHER.clarify_threshold, ge=0, le=100)
    margin: float = Field(_MATCHER.margin, ge=0, le=100)
    fallback_band: float = Field(_MATCHER.fallback_band, ge=0, le=100)
    clarify_band: float = Field(_MATCHER.clarify_band, ge=0, le=100)
    max_suggestions: int = Field(_MATCHER.max_suggestions, ge=1, le=5)
    max_question_chars: int = Field(_MATCHER.max_question_chars, ge=20)

    @field_validator("clarify_threshold")
    @classmethod
    def _not_above_answering(cls, value: float, info: Any) -> float:
        answer = info.data.get("answer_threshold")
        if answer is not None and value > answer:
            raise ValueError(
                f"must not be above matcher.answer_threshold ({value:g} > {answer:g})"
            )
        return value


class StorageSettings(Section):
    """The database of enquiries and feedback: a SQLite file, or a PostgreSQL server.

    `url` is a SQLite file's path (relative to config.yaml's folder) or ``postgresql://...``.
    `path` is its older name, for a SQLite file, still read; once loaded it is the SQLite
    file in use (None on PostgreSQL), whichever of the two named it."""

    url: str = "data/clair-bot.sqlite3"
    path: Path | None = None
    retention_days: int = Field(365, ge=1)
    # Replicas on PostgreSQL: how often each asks whether it runs the jobs (the leader).
    jobs_leader_poll_seconds: float = Field(5.0, gt=0, le=300)
    # PostgreSQL: how long an outbox claim holds (a dead replica's messages go after it),
    # and how often the worker looks for messages other replicas queued.
    outbox_lease_seconds: float = Field(60.0, ge=1, le=3600)
    outbox_poll_seconds: float = Field(1.0, gt=0, le=60)
    # PostgreSQL in webhook mode: connections kept for the chats' locks (updates of as many
    # chats handled at once by this bot).
    chat_lock_connections: int = Field(10, ge=1, le=100)
    # Webhook mode: how long handled update_ids are kept (Telegram resends within a day), and
    # on PostgreSQL users' recent questions left untouched.
    handled_updates_days: int = Field(2, ge=1)

    _path = field_validator("path", mode="before")(_path)

    @after_fields(mode="before")
    @classmethod
    def _older_name(cls, data: Any) -> Any:
        older = data.get("path") if isinstance(data, dict) else None
        if older is not None and str(older).strip():
            if data.get("url") is not None:
                raise ValueError(
                    "path and storage.url are both set (storage.path is the older name of"
                    " storage.url): keep one"
                )
            data = {**data, "url": str(data["path"])}
        return data

    @field_validator("url", mode="before")
    @classmethod
    def _database(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise ValueError("expected a SQLite file's path or postgresql://..., got ''")
            if "://" in value and not value.startswith(POSTGRES_SCHEMES):
                scheme = value.split("://", 1)[0]
                raise ValueError(
                    f"expected a SQLite file's path or postgresql://..., got a {scheme}:// URL"
                )
        return value

    @property
    def postgres(self) -> bool:
        """Whether the database is a PostgreSQL server."""
        return self.url.startswith(POSTGRES_SCHEMES)


class TelegramSettings(Section):
    """How the bot reaches the Bot API, and how fast it may send."""

    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: int = Field(30, ge=0)
    # At start-up, wait for an unreachable Bot API (retrying with backoff) rather than exit.
    wait_for_network: bool = True
    concurrent_updates: int = Field(64, ge=1)
    # Telegram's own limits; 0 turns one off (a self-hosted Bot API server, paid broadcasts).
    max_messages_per_second: float = Field(30.0, ge=0)
    group_messages_per_minute: float = Field(20.0, ge=0)

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class WebhookSettings(Section):
    """`clair-bot run --webhook`: where Telegram's updates arrive (the console's server, or
    with the console off one on `listen` and `port`), and the secret token they must carry
    (required in webhook mode)."""

    listen: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)
    path: str = "telegram"
    url: str = ""
    secret_token: str = ""


class ConsoleSettings(Section):
    """The staff console: a web page in the bot's own process (also a Telegram Mini App)."""

    enabled: bool = True
    listen: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)  # 0: any free port (tests)
    # The address staff open it at, when a proxy publishes it (https for the Mini App).
    public_url: str = ""

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("expected an address such as 127.0.0.1, got ''")
        return value.strip()

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https:// (or be empty)")
        return value


class StaffSettings(Section):
    """The staff group that receives escalated enquiries, who may act, and office hours."""

    chat_id: int = 0
    user_ids: CommaList = ()
    forum_topics: bool = False
    remind_after_hours: float = Field(8.0, gt=0)
    follow_up_window_seconds: float = Field(10.0, ge=0, le=600)
    timezone: str = "Asia/Tokyo"
    office_days: WordList = ("mon", "tue", "wed", "thu", "fri")
    office_start: str = "09:00"
    office_end: str = "17:45"
    language: str = "ja"
    autoclose_days: int = Field(7, ge=0)
    saved_replies: Path = Path("saved-replies.yaml")

    _lists = field_validator("user_ids", "office_days", mode="before")(_comma_list)
    _replies = field_validator("saved_replies", mode="before")(_path)

    @field_validator("language")
    @classmethod
    def _staff_language(cls, value: str) -> str:
        if value not in ("ja", "en"):
            raise ValueError("must be ja or en")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (for example Asia/Tokyo)") from None
        return value

    @after_fields(mode="after")
    def _valid_hours(self) -> StaffSettings:
        try:
            self.office_hours()
        except ValueError as exc:
            raise ValueError(f"office_days/office_start/office_end: {exc}") from None
        return self

    def office_hours(self) -> OfficeHours:
        """The office hours as a schedule (validated when the settings are loaded)."""
        return OfficeHours.parse(
            self.timezone, self.office_days, self.office_start, self.office_end
        )


class LimitsSettings(Section):
    """Per user: flood protection, the daily cap on enquiries, and how long a message may
    join an open enquiry without asking."""

    messages_per_minute: int = Field(20, ge=1)
    enquiries_per_day: int = Field(5, ge=1)
    follow_up_minutes: float = Field(30.0, ge=0)


class LoggingSettings(Section):
    """How much the bot logs."""

    level: str = "INFO"

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()


class Settings(BaseSettings):
    """Every setting of the bot, typed, validated and frozen."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,  # CLAIRBOT_MATCHER_ANSWER_THRESHOLD: matcher.answer_threshold
    )
    config_path: Path
    knowledge: KnowledgeSettings = KnowledgeSettings()
    matcher: MatcherSettings = MatcherSettings()
    storage: StorageSettings = StorageSettings()
    telegram: TelegramSettings = TelegramSettings()
    webhook: WebhookSettings = WebhookSettings()
    console: ConsoleSettings = ConsoleSettings()
    staff: StaffSettings = StaffSettings()
    limits: LimitsSettings = LimitsSettings()
    logging: LoggingSettings = LoggingSettings()

    @property
    def token(self) -> str | None:
        """The bot token from the environment, or None when it is not set."""
        return os.environ.get(TOKEN_VARIABLE, "").strip() or None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what load_settings hands over: the file (init) and the given environment."""
        return (init_settings,)


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (tests pass their own)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, False, False, None)


#: Each section of config.yaml and the model that checks it.
SECTION_MODELS: dict[str, type[BaseModel]] = {
    "knowledge": KnowledgeSettings,
    "matcher": MatcherSection,
    "storage": StorageSettings,
    "telegram": TelegramSettings,
    "webhook": WebhookSettings,
    "console": ConsoleSettings,
    "staff": StaffSettings,
    "limits": LimitsSettings,
    "logging": LoggingSettings,
}


#: Settings known by two names (an older one still read): set in the environment under
#: either, they override the file's under either.
_SAME_SETTING: dict[str, tuple[tuple[str, ...], ...]] = {"storage": (("url", "path"),)}


def known_variables() -> dict[str, str]:
    """Every CLAIRBOT_ variable that names a setting, with the setting it names."""
    return {
        f"{ENV_PREFIX}{section}_{key}".upper(): f"{section}.{key}"
        for section, model in SECTION_MODELS.items()
        for key in model.model_fields
    }


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (default: the project's config.yaml), apply the environment, validate."""
    path = (path or DEFAULT_CONFIG).resolve()
    env = os.environ if environ is None else environ
    _check_variables(env)
    raw = _read_file(path)
    overrides = _Environment(env)()
    merged: dict[str, Any] = {}
    for section in SECTION_MODELS:
        values = raw.get(section) or {}
        if not isinstance(values, dict):
            raise ConfigError(f"{section}: must be a mapping of settings")
        _check_keys(section, values)
        override = overrides.get(section) or {}
        for names in _SAME_SETTING.get(section, ()):
            if any(name in override for name in names):  # the environment's name wins
                values = {k: v for k, v in values.items() if k not in names}
        merged[section] = {**values, **override}
    try:
        # The matcher takes its own dataclass (bot.decision); MatcherSection checks it first.
        matcher = MatcherSection.model_validate(merged.pop("matcher")).model_dump()
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0], env, "matcher")) from None
    try:
        settings = Settings(config_path=path, matcher=MatcherSettings(**matcher), **merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0], env)) from None
    return _relative_to(settings, path.parent)


def _check_variables(env: Mapping[str, str]) -> None:
    known = known_variables()
    for name in sorted(env):
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known:
            raise ConfigError(f"{name} names no setting{_closest(name.upper(), known)}")


def _closest(name: str, known: Mapping[str, str]) -> str:
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {match[0]}, the setting {known[match[0]]}?)" if match else ""


def _read_file(path: Path) -> dict[str, Any]:
    try:
        # The knowledge base's loader: a key written twice is an error with its line, where
        # plain YAML would keep the last one silently.
        raw = load_yaml(path) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except YamlSyntaxError as exc:
        raise ConfigError(f"{path}:{exc.line}: {exc.message}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    for section in raw:
        if section not in SECTION_MODELS:
            match = difflib.get_close_matches(str(section), list(SECTION_MODELS), n=1)
            hint = f"did you mean {match[0]}?" if match else f"known: {', '.join(SECTION_MODELS)}"
            raise ConfigError(f"{path}: unknown section '{section}' ({hint})")
    return raw


def _check_keys(section: str, values: Mapping[str, Any]) -> None:
    keys = list(SECTION_MODELS[section].model_fields)
    for key in values:
        if key not in keys:
            match = difflib.get_close_matches(str(key), keys, n=1, cutoff=0.6)
            hint = f"did you mean {section}.{match[0]}?" if match else f"known: {', '.join(keys)}"
            raise ConfigError(f"{section}.{key}: unknown setting ({hint})")


_EXPECTED = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "int_type": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "path_type": "a path",
    "string_type": "text",
    "tuple_type": "a list",
}


def _describe(error: ErrorDetails, env: Mapping[str, str], section: str = "") -> str:
    """One line naming the setting, what it must be, and where the bad value came from."""
    loc = [section] if section else []
    loc += [str(part) for part in error["loc"]]
    setting = ".".join(part for part in loc[:2])
    variable = f"{ENV_PREFIX}{'_'.join(loc[:2])}".upper()
    origin = f" (from {variable})" if variable in {k.upper() for k in env} else ""
    value = error.get("input")
    kind = error["type"]
    ctx = error.get("ctx", {})
    if len(loc) > 2 and kind in _EXPECTED:  # one item of a list
        noun = "numeric ids" if "int" in kind else "words"
        what = f"expected a list of {noun} (comma-separated in the environment)"
        return f"{setting}: {what}, got {_raw_value(env, variable, value)!r}{origin}"
    if kind in _EXPECTED:
        return f"{setting}: expected {_EXPECTED[kind]}, got {value!r}{origin}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{setting}: {_range(loc[0], loc[1], ctx)}, got {value!r}{origin}"
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        if len(loc) == 1:  # a rule across settings, whose message names them
            return f"{setting}.{message}"
        return f"{setting}: {message}{origin}"
    return f"{setting}: {error['msg']}{origin}"


def _raw_value(env: Mapping[str, str], variable: str, value: Any) -> Any:
    return env.get(variable, value)


def _range(section: str, key: str, ctx: Mapping[str, Any]) -> str:
    """The range a number must lie in, from the field's own constraints."""
    model = SECTION_MODELS.get(section)
    low = high = None
    strict_low = False
    if model is not None and key in model.model_fields:
        for rule in model.model_fields[key].metadata:
            low = getattr(rule, "ge", low)
            if getattr(rule, "gt", None) is not None:
                low, strict_low = rule.gt, True
            high = getattr(rule, "le", high)
    if low is not None and high is not None:
        return f"must be between {low:g} and {high:g}"
    if low is not None:
        return f"must be more than {low:g}" if strict_low else f"must be at least {low:g}"
    return f"must be at most {high:g}" if high is not None else str(ctx)


def _relative_to(settings: Settings, base: Path) -> Settings:
    """Relative paths in the settings are relative to the config file's folder."""

    def resolve(path: Path) -> Path:
        path = path.expanduser()
        return path if path.is_absolute() else base / path

    return settings.model_copy(
        update={
            "knowledge": settings.knowledge.model_copy(
                update={"path": resolve(settings.knowledge.path)}
            ),
            "storage": _storage_relative_to(settings.storage, resolve),
            "staff": settings.staff.model_copy(
                update={"saved_replies": resolve(settings.staff.saved_replies)}
            ),
        }
    )


def _storage_relative_to(
    storage: StorageSettings, resolve: Callable[[Path], Path]
) -> StorageSettings:
    """A SQLite file's path resolved, in `url` and in `path`; PostgreSQL's URL as it is."""
    if storage.postgres:
        return storage.model_copy(update={"path": None})
    path = resolve(Path(storage.url))
    return storage.model_copy(update={"url": str(path), "path": path})
