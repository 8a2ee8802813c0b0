"""The knowledge base: the YAML files, their schema (pydantic models), and the checks.

Each file is validated by a pydantic model: the types, required and unknown fields, text
that must not be empty, the two languages of an entry and the numbers they must share. What
needs several files (sources, related ids, tables and their entries, the same question under
two entries, Japanese category names) is checked afterwards. `check_knowledge` reports every
problem with its file, entry and line; `load_knowledge` refuses an invalid knowledge base
with the same messages. The layout of the files is described in ``knowledge/README.md``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.normalize import Lexicon, basic_normalize
from bot.wordlists import FACT_KINDS, LIST_NAMES, LanguageLists, Wording
from bot.yamlfile import LineDict, YamlSyntaxError, line_of, load_yaml

SPECIAL_FILES = (
    "sources.yaml",
    "synonyms.yaml",
    "smalltalk.yaml",
    "guards.yaml",
    "places.yaml",
    "categories.yaml",
    "language.yaml",
)
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
NUMBER = re.compile(r"\d[\d,]*\d|\d")
MAX_MESSAGE = 4096
MAX_TITLE = 60
MIN_QUESTIONS = 5
JAPANESE_FIELDS = ("title_ja", "questions_ja", "answer_ja")

M = TypeVar("M", bound=BaseModel)


def in_language(language: str, english: str, japanese: str) -> str:
    """The Japanese text for "ja" when there is one, else the English."""
    return japanese if language == "ja" and japanese else english


class FieldProblem(ValueError):
    """A model-level check that belongs to one field: the error points at its line."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _stripped(value: str) -> str:
    return value.strip()


def _filled(value: str) -> str:
    if not value.strip():
        raise ValueError("must be non-empty text")
    return value.strip()


Text = Annotated[StrictStr, AfterValidator(_stripped)]
Filled = Annotated[StrictStr, AfterValidator(_filled)]
Words = tuple[StrictStr, ...]
FactKind = Literal[
    "definition", "place", "who", "date", "month", "duration", "count", "reason", "name",
    "list", "contact", "procedure", "opinion", "advice", "person",
]  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- the typed content ---------------------------------------------------------------------
class Entry(_Model):
    """One answer, with the different ways people ask for it."""

    id: Annotated[StrictStr, Field(pattern=ID_PATTERN)]
    title: Filled
    category: Filled
    questions: Annotated[Words, Field(min_length=1)]
    answer: Text
    source: Filled
    related: Words = ()
    table: StrictStr | None = None
    years: frozenset[StrictInt] = frozenset()
    covers: frozenset[StrictStr] = frozenset()
    gaps: Words = ()
    gaps_ja: Words = ()
    facets: frozenset[FactKind] = frozenset()
    title_ja: Filled
    questions_ja: Annotated[Words, Field(min_length=1)]
    answer_ja: Filled
    file: str = ""
    line: int = 0

    @field_validator("questions", "questions_ja")
    @classmethod
    def _questions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(q.strip() for q in value)

    @field_validator("gaps", "gaps_ja")
    @classmethod
    def _gaps(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(basic_normalize(g) for g in value)

    @model_validator(mode="after")
    def _both_languages(self) -> Entry:
        if not self.answer:
            raise FieldProblem("answer", "the answer is empty")
        for name, text in (("answer", self.answer), ("answer_ja", self.answer_ja)):
            if len(text) > MAX_MESSAGE:
                raise FieldProblem(
                    name, f"{name} is {len(text)} characters; Telegram allows {MAX_MESSAGE}"
                )
        only_en = sorted(_numbers(self.answer) - _numbers(self.answer_ja))
        only_ja = sorted(_numbers(self.answer_ja) - _numbers(self.answer))
        if only_en or only_ja:
            raise FieldProblem(
                "answer_ja",
                "numbers differ between answer and answer_ja"
                + (f"; only in English: {', '.join(only_en)}" if only_en else "")
                + (f"; only in Japanese: {', '.join(only_ja)}" if only_ja else ""),
            )
        return self

    def title_in(self, language: str) -> str:
        """The title in a language ("en" or "ja")."""
        return in_language(language, self.title, self.title_ja)

    def answer_in(self, language: str) -> str:
        """The answer in a language ("en" or "ja")."""
        return in_language(language, self.answer, self.answer_ja)


class Column(_Model):
    """A column of a seed table: a role, a single year, a span of years, or the total."""

    key: Annotated[str, Field(coerce_numbers_to_str=True)]
    label: str = ""
    aliases: Words = ()
    year: StrictInt | None = None
    from_year: StrictInt | None = None
    to_year: StrictInt | None = None
    total: StrictBool = False
    label_ja: Text = ""
    aliases_ja: Words = ()

    @model_validator(mode="after")
    def _label(self) -> Column:
        if not self.label:
            object.__setattr__(self, "label", self.key)
        return self

    def label_in(self, language: str) -> str:
        """The column's label in a language."""
        return in_language(language, self.label, self.label_ja)


class Row(_Model):
    """A row of a seed table (usually a country); `None` values are the seed's dashes."""

    key: Annotated[str, Field(coerce_numbers_to_str=True)]
    label: str = ""
    values: tuple[StrictInt | None, ...]
    aliases: Words = ()
    total: StrictBool = False
    label_ja: Text = ""
    aliases_ja: Words = ()

    @model_validator(mode="after")
    def _label(self) -> Row:
        if not self.label:
            object.__setattr__(self, "label", self.key)
        return self

    def label_in(self, language: str) -> str:
        """The row's label in a language."""
        return in_language(language, self.label, self.label_ja)


class Table(_Model):
    """A table copied from a seed document, answered one row, column or total at a time."""

    id: StrictStr
    entry: StrictStr
    title: Filled
    unit: Filled
    columns: Annotated[tuple[Column, ...], Field(min_length=1)]
    rows: Annotated[tuple[Row, ...], Field(min_length=1)]
    note: Text = ""
    years: frozenset[StrictInt] = frozenset()
    title_ja: Text = ""
    unit_ja: Text = ""
    note_ja: Text = ""
    # The seed's own totals do not add up: say how, and the check stays quiet.
    known_discrepancy: StrictStr = ""
    file: str = ""
    line: int = 0

    @model_validator(mode="after")
    def _rows_fit(self) -> Table:
        seen: set[str] = set()
        for index, row in enumerate(self.rows):
            if len(row.values) != len(self.columns):
                raise FieldProblem(
                    f"rows.{index}",
                    f"row '{row.key}' has {len(row.values)} values "
                    f"for {len(self.columns)} columns",
                )
            if row.key in seen:
                raise FieldProblem(f"rows.{index}", f"duplicate row '{row.key}'")
            seen.add(row.key)
        return self

    def title_in(self, language: str) -> str:
        """The table's title in a language."""
        return in_language(language, self.title, self.title_ja)

    def unit_in(self, language: str) -> str:
        """The counted noun (English) or counter (Japanese)."""
        return in_language(language, self.unit, self.unit_ja)

    def note_in(self, language: str) -> str:
        """The table's note in a language."""
        return in_language(language, self.note, self.note_ja)


class SmalltalkIntent(_Model):
    """Greetings, thanks, goodbyes or "who are you": the phrases and the one reply."""

    name: str
    phrases: Annotated[Words, Field(min_length=1)]
    reply: Filled
    phrases_ja: Annotated[Words, Field(min_length=1)]
    reply_ja: Filled

    def reply_in(self, language: str) -> str:
        """The reply in a language."""
        return in_language(language, self.reply, self.reply_ja)


# -- the shape of each file ------------------------------------------------------------------
class _ContentFile(_Model):
    entries: tuple[Any, ...] = ()  # validated one by one, so one mistake is not every entry's
    tables: tuple[Any, ...] = ()


class _Source(_Model):
    title: Filled
    title_ja: Text = ""
    file: StrictStr = ""


class _SourcesFile(_Model):
    sources: dict[StrictStr, _Source]


class _SynonymsFile(_Model):
    phrases: dict[StrictStr, Words] = {}
    phrases_ja: dict[StrictStr, Words] = {}
    typos: dict[StrictStr, Words] = {}
    key_terms: Words = ()


class _GuardsFile(_Model):
    topics: dict[StrictStr, Annotated[Words, Field(min_length=1)]]
    topics_ja: dict[StrictStr, Annotated[Words, Field(min_length=1)]] = {}

    @model_validator(mode="after")
    def _same_topics(self) -> _GuardsFile:
        for name in self.topics_ja:
            if name not in self.topics:
                raise FieldProblem(f"topics_ja.{name}", f"'{name}' is not one of the topics")
        return self


class _Intent(_Model):
    phrases: Annotated[Words, Field(min_length=1)]
    reply: Filled
    phrases_ja: Annotated[Words, Field(min_length=1)]
    reply_ja: Filled


class _SmalltalkFile(_Model):
    intents: dict[StrictStr, _Intent]


class _PlacesFile(_Model):
    places: dict[StrictStr, Annotated[Words, Field(min_length=1)]]
    countries: dict[StrictStr, Annotated[Words, Field(min_length=1)]] = {}


class _CategoriesFile(_Model):
    categories: dict[StrictStr, Filled]


class _WordingModel(_Model):
    stopwords: Words = ()
    generic: Words = ()
    fillers: Words = ()
    replacements: dict[StrictStr, StrictStr] = {}
    asking: Words = ()
    intro: Words = ()
    closings: Words = ()
    frames: Words = ()
    context: Words = ()
    split: Words = ()
    count: Words = ()
    region: Words = ()
    before: Words = ()
    most: Words = ()
    fewest: Words = ()
    sum: Words = ()
    cumulative: Words = ()
    people: Words = ()
    pronouns: Words = ()
    own: Words = ()
    kinds: dict[FactKind, Words] = {}

    def wording(self) -> Wording:
        values: dict[str, Any] = {}
        for name in LIST_NAMES:
            normal = dict.fromkeys(
                w for w in (basic_normalize(x) for x in getattr(self, name)) if w
            )
            keep = frozenset if name in ("stopwords", "generic", "fillers") else tuple
            values[name] = keep(normal)
        return Wording(
            replacements=dict(self.replacements),
            kinds={k: tuple(basic_normalize(c) for c in v) for k, v in self.kinds.items()},
            **values,
        )


class _LanguageFile(_Model):
    english: _WordingModel
    japanese: _WordingModel
    eras: dict[StrictStr, StrictInt] = {}
    region_countries: Words = ()


# -- the whole knowledge base ------------------------------------------------------------------
@dataclass(frozen=True)
class KnowledgeBase:
    """Everything loaded from the knowledge folder, validated."""

    root: Path
    entries: dict[str, Entry]
    tables: dict[str, Table]
    lexicon: Lexicon
    smalltalk: tuple[SmalltalkIntent, ...]
    guards: dict[str, tuple[str, ...]]
    sources: dict[str, str]
    places: dict[str, str]
    key_terms: tuple[str, ...] = ()
    guards_ja: dict[str, tuple[str, ...]] = field(default_factory=dict)
    categories_ja: dict[str, str] = field(default_factory=dict)
    language: LanguageLists = field(default_factory=LanguageLists)
    # Everyday country names and demonyms (normalised) -> the country's canonical name.
    country_names: dict[str, str] = field(default_factory=dict)
    sources_ja: dict[str, str] = field(default_factory=dict)

    def source_in(self, source: str, language: str) -> str:
        """The title of a source document (an entry's `source`) in a language."""
        return in_language(
            language, self.sources.get(source, source), self.sources_ja.get(source, "")
        )

    def category_in(self, category: str, language: str) -> str:
        """A category's name in a language."""
        if language == "ja":
            return self.categories_ja.get(category, category)
        return category

    @property
    def categories(self) -> list[str]:
        """Categories in the order their first entry appears."""
        return list(dict.fromkeys(e.category for e in self.entries.values()))

    def in_category(self, category: str) -> list[Entry]:
        """The entries of one category, in file order."""
        return [e for e in self.entries.values() if e.category == category]

    def question_count(self) -> int:
        """How many alternate questions the knowledge base holds."""
        return sum(len(e.questions) for e in self.entries.values())


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the knowledge base, located as precisely as possible."""

    file: str
    line: int
    message: str
    entry: str | None = None
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        what = f"entry '{self.entry}': " if self.entry else ""
        level = "warning" if self.warning else "error"
        return f"{where}: {level}: {what}{self.message}"


@dataclass
class CheckReport:
    """The outcome of `check_knowledge`: the problems, and the knowledge base if valid."""

    problems: list[Problem] = field(default_factory=list)
    kb: KnowledgeBase | None = None

    @property
    def errors(self) -> list[Problem]:
        """Problems that make the knowledge base unusable."""
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        """Problems worth fixing that do not stop the bot."""
        return [p for p in self.problems if p.warning]


class KnowledgeError(Exception):
    """Raised when the knowledge base is invalid; carries every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"the knowledge base has {len(problems)} error(s):\n{lines}")


def load_knowledge(root: Path) -> KnowledgeBase:
    """Load and validate the knowledge base, or raise `KnowledgeError`."""
    report = check_knowledge(root)
    if report.kb is None:
        raise KnowledgeError(report.errors)
    return report.kb


def check_knowledge(root: Path) -> CheckReport:
    """Load every file under `root`, collecting all problems instead of stopping at one."""
    return _Checker(root).run()


class _Checker:
    """Reads the knowledge files once, validating each with its model, then checks across."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.report = CheckReport()
        self.entries: dict[str, Entry] = {}
        self.tables: dict[str, Table] = {}
        self.question_lines: dict[str, list[int]] = {}
        # Ids seen even on broken entries and tables, so one mistake is reported once, not
        # again by every entry that refers to it.
        self.declared: set[str] = set()
        self.declared_tables: set[str] = set()

    # -- reporting -------------------------------------------------------------------------
    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def error(self, file: str, line: int, message: str, entry: str | None = None) -> None:
        self.report.problems.append(Problem(file, line, message, entry))

    def warn(self, file: str, line: int, message: str, entry: str | None = None) -> None:
        self.report.problems.append(Problem(file, line, message, entry, warning=True))

    def _read(self, path: Path, required: bool = True) -> LineDict | None:
        rel = self._rel(path)
        if not path.exists():
            if required:
                self.error(rel, 1, "file is missing")
            return None
        try:
            data = load_yaml(path)
        except YamlSyntaxError as exc:
            self.error(rel, exc.line, exc.message)
            return None
        if not isinstance(data, LineDict):
            self.error(rel, line_of(data), "the file must be a mapping at the top level")
            return None
        return data

    def _validate(
        self,
        model: type[M],
        raw: Any,
        rel: str,
        label: str | None = None,
        describe: Callable[[tuple[str | int, ...]], str] = lambda loc: "",
        extra: Mapping[str, Any] | None = None,
    ) -> M | None:
        """`raw` (with `extra` fields) validated by `model`, or None with every problem
        reported at its line in `raw`."""
        try:
            return model.model_validate({**raw, **extra} if extra else raw)
        except ValidationError as exc:
            for error in exc.errors():
                self._report(error, raw, rel, label, describe)
            return None

    def _report(
        self,
        error: Any,
        raw: Any,
        rel: str,
        label: str | None,
        describe: Callable[[tuple[str | int, ...]], str],
    ) -> None:
        loc: tuple[str | int, ...] = tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblem):
            where = tuple(int(p) if p.isdigit() else p for p in cause.field.split("."))
            self.error(rel, _line(raw, (*loc, *where)), describe(loc) + cause.message, label)
            return
        name = str(loc[-1]) if loc else ""
        kind = error["type"]
        if kind == "missing":
            if name in JAPANESE_FIELDS:
                message = f"missing its Japanese side: {name}"
            else:
                message = f"missing field '{name}'"
            self.error(rel, _line(raw, loc[:-1]), describe(loc[:-1]) + message, label)
            return
        if kind == "extra_forbidden":
            message = f"unknown field '{name}'"
        elif kind in ("string_type", "int_type", "bool_type", "list_type", "tuple_type"):
            wanted = {
                "string_type": "text",
                "int_type": "a whole number",
                "bool_type": "true or false",
            }.get(kind, "a list")
            message = f"'{_path(loc)}' must be {wanted} (quote yes, no, on, off as text)"
        elif kind == "literal_error":
            message = f"'{_path(loc)}' must be one of: {', '.join(FACT_KINDS)}"
        elif kind == "string_pattern_mismatch":
            message = f"{name} {error['input']!r} must be lowercase letters, digits and hyphens"
        elif kind == "too_short":
            message = f"'{_path(loc)}' must not be empty"
        else:
            message = f"'{_path(loc)}': {error['msg'].removeprefix('Value error, ')}"
        self.error(rel, _line(raw, loc), describe(loc) + message, label)

    # -- the walk ----------------------------------------------------------------------------
    def run(self) -> CheckReport:
        if not self.root.is_dir():
            self.error(str(self.root), 1, "the knowledge folder does not exist")
            return self.report
        sources, sources_ja = self._sources()
        guards = self._special("guards.yaml", _GuardsFile)
        places = self._special("places.yaml", _PlacesFile)
        synonyms = self._special("synonyms.yaml", _SynonymsFile)
        smalltalk = self._special("smalltalk.yaml", _SmalltalkFile)
        language = self._special("language.yaml", _LanguageFile, required=False)
        if not (self.root / "language.yaml").exists():
            self.warn(
                self._rel(self.root / "language.yaml"),
                1,
                "no word lists: questions are read without stop words or cues",
            )
        content = sorted(p for p in self.root.glob("*.yaml") if p.name not in SPECIAL_FILES)
        if not content:
            self.error(self._rel(self.root), 1, "no knowledge files (*.yaml) found")
        for path in content:
            self._content(path, sources, guards)
        self._cross_check()
        categories = self._categories()
        if self.report.errors:
            return self.report
        topics = guards.topics if guards else {}
        topics_ja = guards.topics_ja if guards else {}
        self.report.kb = KnowledgeBase(
            root=self.root,
            entries=self.entries,
            tables=self.tables,
            lexicon=Lexicon.from_groups(
                synonyms.phrases if synonyms else {},
                synonyms.typos if synonyms else {},
                synonyms.phrases_ja if synonyms else {},
            ),
            smalltalk=tuple(
                SmalltalkIntent(name=name, **intent.model_dump())
                for name, intent in (smalltalk.intents.items() if smalltalk else ())
            ),
            guards={k: tuple(basic_normalize(t) for t in v) for k, v in topics.items()},
            sources=sources,
            places={
                basic_normalize(variant): name
                for name, variants in (places.places.items() if places else ())
                for variant in variants
            },
            key_terms=tuple(basic_normalize(t) for t in (synonyms.key_terms if synonyms else ())),
            guards_ja={k: tuple(basic_normalize(t) for t in v) for k, v in topics_ja.items()},
            categories_ja=categories,
            language=_language_lists(language),
            country_names={
                basic_normalize(variant): country
                for country, variants in (places.countries.items() if places else ())
                for variant in variants
            },
            sources_ja=sources_ja,
        )
        return self.report

    def _special(self, name: str, model: type[M], required: bool = True) -> M | None:
        path = self.root / name
        data = self._read(path, required)
        return None if data is None else self._validate(model, data, self._rel(path))

    def _sources(self) -> tuple[dict[str, str], dict[str, str]]:
        """The source documents' titles, in English and (where given) in Japanese."""
        found = self._special("sources.yaml", _SourcesFile)
        sources = found.sources.items() if found else ()
        titles = {key: source.title for key, source in sources}
        return titles, {key: source.title_ja for key, source in sources if source.title_ja}

    def _content(self, path: Path, sources: Mapping[str, str], guards: _GuardsFile | None) -> None:
        rel = self._rel(path)
        data = self._read(path)
        if data is None or self._validate(_ContentFile, data, rel) is None:
            return
        for raw in data.get("entries") or ():
            self._entry(rel, raw, sources, guards)
        for raw in data.get("tables") or ():
            self._table(rel, raw)

    def _entry(
        self, rel: str, raw: Any, sources: Mapping[str, str], guards: _GuardsFile | None
    ) -> None:
        label = _id_of(raw)
        if label:
            self.declared.add(label)
        if not isinstance(raw, LineDict):
            self.error(rel, line_of(raw), "each entry must be a mapping")
            return
        for reserved in ("file", "line"):
            if reserved in raw:
                self.error(rel, line_of(raw, reserved), f"unknown field '{reserved}'", label)
                return
        place = {"file": rel, "line": line_of(raw, "id")}
        entry = self._validate(Entry, raw, rel, label, extra=place)
        if entry is None:
            return
        if entry.source not in sources:
            known = ", ".join(sorted(sources)) or "none"
            self.error(
                rel,
                line_of(raw, "source"),
                f"source '{entry.source}' is not in sources.yaml (known: {known})",
                label,
            )
        topics = guards.topics if guards else {}
        for topic in sorted(entry.covers - set(topics)):
            self.error(
                rel,
                line_of(raw, "covers"),
                f"covers unknown topic '{topic}' (see guards.yaml)",
                label,
            )
        if len(entry.questions) < MIN_QUESTIONS:
            self.warn(
                rel,
                line_of(raw, "questions"),
                f"only {len(entry.questions)} alternate question(s); "
                f"{MIN_QUESTIONS}+ match better",
                label,
            )
        if len(entry.title) > MAX_TITLE:
            self.warn(
                rel, line_of(raw, "title"), f"title longer than {MAX_TITLE} characters", label
            )
        if entry.id in self.entries:
            first = self.entries[entry.id]
            self.error(
                rel,
                line_of(raw, "id"),
                f"duplicate id (first defined at {first.file}:{first.line})",
                entry.id,
            )
            return
        self.entries[entry.id] = entry
        self.question_lines[entry.id] = list(getattr(raw.get("questions"), "item_lines", []))
        self.question_lines[f"{entry.id} ja"] = list(
            getattr(raw.get("questions_ja"), "item_lines", [])
        )

    def _table(self, rel: str, raw: Any) -> None:
        table_id = (
            raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        )
        if table_id:
            self.declared_tables.add(table_id)
        if not isinstance(raw, LineDict):
            self.error(rel, line_of(raw), "each table must be a mapping")
            return

        def where(loc: tuple[str | int, ...]) -> str:
            return f"table '{table_id}': " if table_id else "table: "

        place = {"file": rel, "line": line_of(raw, "id")}
        table = self._validate(Table, raw, rel, describe=where, extra=place)
        if table is None:
            return
        if table.id in self.tables:
            self.error(rel, line_of(raw, "id"), f"{where(())}duplicate table id")
            return
        self.tables[table.id] = table
        if not table.known_discrepancy:
            self._check_totals(rel, raw, table)

    def _check_totals(self, rel: str, raw: LineDict, table: Table) -> None:
        """Warn where a table's totals do not add up: a copying slip is easy to make."""
        where = f"table '{table.id}': "
        total_col = next((i for i, c in enumerate(table.columns) if c.total), None)
        rows = raw["rows"]
        if total_col is not None:
            for raw_row, row in zip(rows, table.rows, strict=True):
                parts = [v for i, v in enumerate(row.values) if i != total_col and v is not None]
                stated = row.values[total_col]
                if stated is not None and parts and sum(parts) != stated:
                    self.warn(
                        rel,
                        line_of(raw_row),
                        f"{where}row '{row.key}' adds up to {sum(parts)}, total says {stated}",
                    )
        total_row = next((r for r in table.rows if r.total), None)
        if total_row is None:
            return
        for i, column in enumerate(table.columns):
            parts = [v for r in table.rows if not r.total and (v := r.values[i]) is not None]
            stated = total_row.values[i]
            if stated is not None and parts and sum(parts) != stated:
                self.warn(
                    rel,
                    line_of(rows),
                    f"{where}column '{column.key}' adds up to {sum(parts)}, total row: {stated}",
                )

    def _categories(self) -> dict[str, str]:
        """Japanese category names; every category an entry uses needs one."""
        found = self._special("categories.yaml", _CategoriesFile)
        names = dict(found.categories) if found else {}
        if found is None:
            return names
        for entry in self.entries.values():
            if entry.category not in names:
                names[entry.category] = entry.category  # reported once
                self.error(
                    entry.file,
                    entry.line,
                    f"category '{entry.category}' has no Japanese name in categories.yaml",
                    entry.id,
                )
        return names

    # -- across files ----------------------------------------------------------------------------
    def _cross_check(self) -> None:
        """Related ids, tables and their entries, and questions under two entries."""
        seen: dict[str, tuple[str, str, int, str]] = {}
        for entry in self.entries.values():
            for rid in entry.related:
                if rid == entry.id:
                    self.error(entry.file, entry.line, "lists itself in 'related'", entry.id)
                elif rid not in self.declared:
                    self.error(
                        entry.file, entry.line, f"related id '{rid}' does not exist", entry.id
                    )
            if entry.table is not None:
                table = self.tables.get(entry.table)
                if table is None and entry.table not in self.declared_tables:
                    self.error(
                        entry.file, entry.line, f"table '{entry.table}' does not exist", entry.id
                    )
                elif table is not None and table.entry != entry.id:
                    self.error(
                        entry.file,
                        entry.line,
                        f"table '{entry.table}' belongs to entry '{table.entry}'",
                        entry.id,
                    )
            self._questions(entry, entry.questions, "en", seen)
            self._questions(entry, entry.questions_ja, "ja", seen)
        for table in self.tables.values():
            owner = self.entries.get(table.entry)
            if owner is None and table.entry not in self.declared:
                self.error(
                    table.file,
                    table.line,
                    f"table '{table.id}': entry '{table.entry}' does not exist",
                )
            elif owner is not None and owner.table != table.id:
                self.error(
                    table.file,
                    table.line,
                    f"table '{table.id}': entry '{table.entry}' must say 'table: {table.id}'",
                )

    def _questions(
        self,
        entry: Entry,
        questions: Iterable[str],
        language: str,
        seen: dict[str, tuple[str, str, int, str]],
    ) -> None:
        """Empty questions, and the same question under two entries (either language).

        One entry may list a question in both languages ("JETAA" is JETAA in both).
        """
        lines = self.question_lines.get(entry.id if language == "en" else f"{entry.id} ja", [])
        for index, question in enumerate(questions):
            key = basic_normalize(question)
            line = lines[index] if index < len(lines) else entry.line
            if not key:
                self.error(entry.file, line, "an alternate question is empty", entry.id)
                continue
            if key not in seen:
                seen[key] = (entry.id, entry.file, line, language)
                continue
            other_id, other_file, other_line, other_language = seen[key]
            if other_id != entry.id:
                self.error(
                    entry.file,
                    line,
                    f"question {question!r} is also under entry '{other_id}' "
                    f"({other_file}:{other_line})",
                    entry.id,
                )
            elif other_language == language:
                self.warn(entry.file, line, f"question {question!r} is listed twice", entry.id)


def _id_of(raw: Any) -> str | None:
    """The id of a raw entry or table, if it has a usable one."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _language_lists(found: _LanguageFile | None) -> LanguageLists:
    if found is None:
        return LanguageLists()
    return LanguageLists(
        english=found.english.wording(),
        japanese=found.japanese.wording(),
        eras=dict(found.eras),
        region_countries=tuple(found.region_countries),
    )


def _line(raw: Any, loc: tuple[str | int, ...]) -> int:
    """The line of the value at `loc` in raw YAML data (the closest enclosing one known)."""
    line = line_of(raw)
    node = raw
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str) and part in node:
            line = line_of(node, part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            lines = getattr(node, "item_lines", [])
            line = lines[part] if part < len(lines) else line
            node = node[part]
            if isinstance(node, LineDict):
                line = node.line
        else:
            break
    return line


def _path(loc: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in loc)


_NUMBER_WORDS = {
    word: str(value)
    for value, words in enumerate(
        [
            (),
            ("January",),
            ("two", "second", "February"),
            ("three", "third", "March"),
            ("four", "fourth", "April"),
            ("five", "fifth", "May"),
            ("six", "sixth", "June"),
            ("seven", "seventh", "July"),
            ("eight", "eighth", "August"),
            ("nine", "ninth", "September"),
            ("ten", "tenth", "October"),
            ("eleven", "eleventh", "November"),
            ("twelve", "twelfth", "December"),
        ]
    )
    for word in words
}
# Month names only with their capital ("may" is mostly a verb); number words any case.
_NUMBER_WORD = re.compile(
    r"\b(" + "|".join(w if w[0].isupper() else f"(?i:{w})" for w in _NUMBER_WORDS) + r")\b"
)


def _numbers(text: str) -> set[str]:
    """The numbers in a text, for comparing an entry's two languages: digits (thousands
    commas dropped), and English number, ordinal and month words as their digits
    ("seven offices" / "7つの事務所", "August" / "8月"). The number 1 is left out: "one of",
    "first", "per class" and "a month" carry it silently in one language or the other."""
    text = unicodedata.normalize("NFKC", text)
    found = {m.group(0).replace(",", "") for m in NUMBER.finditer(text)}
    found |= {_NUMBER_WORDS[_word_key(m.group(1))] for m in _NUMBER_WORD.finditer(text)}
    return found - {"1"}


def _word_key(word: str) -> str:
    return word if word[0].isupper() and word in _NUMBER_WORDS else word.lower()


__all__ = [
    "CheckReport",
    "Column",
    "Entry",
    "KnowledgeBase",
    "KnowledgeError",
    "Problem",
    "Row",
    "SmalltalkIntent",
    "Table",
    "check_knowledge",
    "load_knowledge",
]
