"""The knowledge base: loading the YAML files, checking them, and the typed entries.

`check_knowledge` finds every problem it can and names the file, entry and line of each;
`load_knowledge` refuses an invalid knowledge base with the same messages. The layout of
the files is described in ``knowledge/README.md``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ENTRY_FIELDS = {"id", "title", "category", "questions", "answer", "source"}
JAPANESE_FIELDS = ("title_ja", "questions_ja", "answer_ja")
ENTRY_OPTIONAL = {
    "related",
    "table",
    "years",
    "covers",
    "gaps",
    "gaps_ja",
    "facets",
    *JAPANESE_FIELDS,
}
LANGUAGES = ("en", "ja")
TABLE_FIELDS = {"id", "entry", "title", "unit", "columns", "rows"}
# known_discrepancy: the seed's own totals do not add up; say how, and the check stays quiet.
TABLE_OPTIONAL = {"note", "years", "title_ja", "unit_ja", "note_ja", "known_discrepancy"}
NUMBER = re.compile(r"\d[\d,]*\d|\d")
MAX_MESSAGE = 4096
MAX_TITLE = 60
MIN_QUESTIONS = 5


def in_language(language: str, english: str, japanese: str) -> str:
    """The Japanese text for "ja" when there is one, else the English."""
    return japanese if language == "ja" and japanese else english


@dataclass(frozen=True)
class Entry:
    """One answer, with the different ways people ask for it."""

    id: str
    title: str
    category: str
    questions: tuple[str, ...]
    answer: str
    source: str
    related: tuple[str, ...] = ()
    table: str | None = None
    years: frozenset[int] = frozenset()
    covers: frozenset[str] = frozenset()
    gaps: tuple[str, ...] = ()
    title_ja: str = ""
    questions_ja: tuple[str, ...] = ()
    answer_ja: str = ""
    gaps_ja: tuple[str, ...] = ()
    facets: frozenset[str] = frozenset()
    file: str = ""
    line: int = 0

    def title_in(self, language: str) -> str:
        """The title in a language ("en" or "ja")."""
        return in_language(language, self.title, self.title_ja)

    def answer_in(self, language: str) -> str:
        """The answer in a language ("en" or "ja")."""
        return in_language(language, self.answer, self.answer_ja)


@dataclass(frozen=True)
class Column:
    """A column of a seed table: a role, a single year, a span of years, or the total."""

    key: str
    label: str
    aliases: tuple[str, ...] = ()
    year: int | None = None
    from_year: int | None = None
    to_year: int | None = None
    total: bool = False
    label_ja: str = ""
    aliases_ja: tuple[str, ...] = ()

    def label_in(self, language: str) -> str:
        """The column's label in a language."""
        return in_language(language, self.label, self.label_ja)


@dataclass(frozen=True)
class Row:
    """A row of a seed table (usually a country); `None` values are the seed's dashes."""

    key: str
    label: str
    values: tuple[int | None, ...]
    aliases: tuple[str, ...] = ()
    total: bool = False
    label_ja: str = ""
    aliases_ja: tuple[str, ...] = ()

    def label_in(self, language: str) -> str:
        """The row's label in a language."""
        return in_language(language, self.label, self.label_ja)


@dataclass(frozen=True)
class Table:
    """A table copied from a seed document, answered one row, column or total at a time."""

    id: str
    entry: str
    title: str
    unit: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    note: str = ""
    years: frozenset[int] = frozenset()
    title_ja: str = ""
    unit_ja: str = ""
    note_ja: str = ""
    file: str = ""
    line: int = 0

    def title_in(self, language: str) -> str:
        """The table's title in a language."""
        return in_language(language, self.title, self.title_ja)

    def unit_in(self, language: str) -> str:
        """The counted noun (English) or counter (Japanese)."""
        return in_language(language, self.unit, self.unit_ja)

    def note_in(self, language: str) -> str:
        """The table's note in a language."""
        return in_language(language, self.note, self.note_ja)


@dataclass(frozen=True)
class SmalltalkIntent:
    """Greetings, thanks or goodbyes: the phrases and the one reply."""

    name: str
    phrases: tuple[str, ...]
    reply: str
    phrases_ja: tuple[str, ...] = ()
    reply_ja: str = ""

    def reply_in(self, language: str) -> str:
        """The reply in a language."""
        return in_language(language, self.reply, self.reply_ja)


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
    """Walks the knowledge files once, building typed objects and noting problems."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.report = CheckReport()
        self.entries: dict[str, Entry] = {}
        self.tables: dict[str, Table] = {}
        self.sources: dict[str, str] = {}
        self.guards: dict[str, tuple[str, ...]] = {}
        self._question_lines: dict[str, list[int]] = {}
        self.guards_ja: dict[str, tuple[str, ...]] = {}
        # Ids seen even on broken entries/tables, so one mistake is reported once, not again
        # by every entry that refers to it.
        self._declared: set[str] = set()
        self._declared_tables: set[str] = set()

    # -- reporting -------------------------------------------------------------------
    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def error(self, file: str, line: int, message: str, entry: str | None = None) -> None:
        self.report.problems.append(Problem(file, line, message, entry))

    def warn(self, file: str, line: int, message: str, entry: str | None = None) -> None:
        self.report.problems.append(Problem(file, line, message, entry, warning=True))

    # -- the walk ----------------------------------------------------------------------
    def run(self) -> CheckReport:
        if not self.root.is_dir():
            self.error(str(self.root), 1, "the knowledge folder does not exist")
            return self.report
        self.sources = self._load_sources()
        self.guards = self._load_guards()
        places = self._load_places()
        lexicon, key_terms = self._load_lexicon()
        smalltalk = self._load_smalltalk()
        language = self._load_language()
        content_files = sorted(p for p in self.root.glob("*.yaml") if p.name not in SPECIAL_FILES)
        if not content_files:
            self.error(self._rel(self.root), 1, "no knowledge files (*.yaml) found")
        for path in content_files:
            self._load_content_file(path)
        self._cross_check()
        categories_ja = self._load_categories()
        if not self.report.errors:
            self.report.kb = KnowledgeBase(
                root=self.root,
                entries=self.entries,
                tables=self.tables,
                lexicon=lexicon,
                smalltalk=smalltalk,
                guards=self.guards,
                sources=self.sources,
                places=places,
                key_terms=key_terms,
                guards_ja=self.guards_ja,
                categories_ja=categories_ja,
                language=language,
            )
        return self.report

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

    def _load_sources(self) -> dict[str, str]:
        path = self.root / "sources.yaml"
        data = self._read(path)
        sources = data.get("sources") if data else None
        if data is not None and not isinstance(sources, LineDict):
            self.error(self._rel(path), line_of(data), "'sources' must be a mapping")
            return {}
        result: dict[str, str] = {}
        for key, value in (sources or {}).items():
            title = value.get("title") if isinstance(value, dict) else None
            if not isinstance(title, str) or not title.strip():
                self.error(self._rel(path), line_of(sources, key), f"source '{key}' needs a title")
                continue
            result[key] = title
        return result

    def _load_guards(self) -> dict[str, tuple[str, ...]]:
        path = self.root / "guards.yaml"
        data = self._read(path)
        if data is None:
            return {}
        result = self._guard_section(path, data, "topics", required=True)
        self.guards_ja = self._guard_section(path, data, "topics_ja", required=False)
        for name in sorted(set(self.guards_ja) - set(result)):
            self.error(
                self._rel(path),
                line_of(data.get("topics_ja"), name),
                f"topics_ja: '{name}' is not one of the topics",
            )
        return result

    def _guard_section(
        self, path: Path, data: LineDict, section: str, required: bool
    ) -> dict[str, tuple[str, ...]]:
        topics = data.get(section)
        if topics is None and not required:
            return {}
        if not isinstance(topics, LineDict):
            self.error(self._rel(path), line_of(data), f"'{section}' must be a mapping")
            return {}
        result: dict[str, tuple[str, ...]] = {}
        for name, terms in topics.items():
            if not _is_str_list(terms) or not terms:
                self.error(
                    self._rel(path), line_of(topics, name), f"{section}: '{name}' needs terms"
                )
                continue
            result[name] = tuple(basic_normalize(t) for t in terms)
        return result

    def _load_places(self) -> dict[str, str]:
        path = self.root / "places.yaml"
        data = self._read(path)
        places = data.get("places") if data else None
        if data is not None and not isinstance(places, LineDict):
            self.error(self._rel(path), line_of(data), "'places' must be a mapping")
            return {}
        result: dict[str, str] = {}
        for name, variants in (places or {}).items():
            if not _is_str_list(variants) or not variants:
                self.error(self._rel(path), line_of(places, name), f"place '{name}' needs names")
                continue
            for variant in variants:
                result[basic_normalize(variant)] = name
        return result

    def _load_categories(self) -> dict[str, str]:
        """Japanese category names; every category an entry uses needs one."""
        path = self.root / "categories.yaml"
        data = self._read(path)
        names = data.get("categories") if data else None
        if data is not None and not isinstance(names, LineDict):
            self.error(self._rel(path), line_of(data), "'categories' must be a mapping")
            return {}
        result = {str(k): str(v) for k, v in (names or {}).items() if isinstance(v, str) and v}
        for entry in self.entries.values():
            if entry.category not in result and data is not None:
                result[entry.category] = entry.category  # reported once, below
                self.error(
                    entry.file,
                    line_of(None, default=entry.line),
                    f"category '{entry.category}' has no Japanese name in categories.yaml",
                    entry.id,
                )
        return result

    def _load_lexicon(self) -> tuple[Lexicon, tuple[str, ...]]:
        path = self.root / "synonyms.yaml"
        data = self._read(path)
        if data is None:
            return Lexicon(), ()
        key_terms = data.get("key_terms", [])
        if not _is_str_list(key_terms):
            self.error(self._rel(path), line_of(data, "key_terms"), "'key_terms' must be a list")
            key_terms = []
        groups: dict[str, dict[str, list[str]]] = {}
        for section in ("phrases", "typos", "phrases_ja"):
            value = data.get(section, {})
            if not isinstance(value, dict):
                self.error(
                    self._rel(path), line_of(data, section), f"'{section}' must be a mapping"
                )
                value = {}
            groups[section] = {}
            for canonical, variants in value.items():
                if not _is_str_list(variants):
                    line = line_of(value, canonical)
                    self.error(self._rel(path), line, f"'{canonical}' needs a list of variants")
                    continue
                groups[section][canonical] = variants
        lexicon = Lexicon.from_groups(groups["phrases"], groups["typos"], groups["phrases_ja"])
        return lexicon, tuple(basic_normalize(t) for t in key_terms)

    def _load_smalltalk(self) -> tuple[SmalltalkIntent, ...]:
        path = self.root / "smalltalk.yaml"
        data = self._read(path)
        intents = data.get("intents") if data else None
        if data is not None and not isinstance(intents, dict):
            self.error(self._rel(path), line_of(data), "'intents' must be a mapping")
            return ()
        result: list[SmalltalkIntent] = []
        for name, body in (intents or {}).items():
            line = line_of(intents, name)
            phrases = body.get("phrases") if isinstance(body, dict) else None
            reply = body.get("reply") if isinstance(body, dict) else None
            if not isinstance(phrases, list) or not _is_str_list(phrases):
                phrases = None
            if phrases is None or not isinstance(reply, str) or not reply.strip():
                self.error(self._rel(path), line, f"intent '{name}' needs 'phrases' and 'reply'")
                continue
            phrases_ja = body.get("phrases_ja", [])
            reply_ja = body.get("reply_ja", "")
            if not _is_str_list(phrases_ja) or not isinstance(reply_ja, str):
                self.error(
                    self._rel(path), line, f"intent '{name}': 'phrases_ja'/'reply_ja' malformed"
                )
                continue
            if not phrases_ja or not reply_ja.strip():
                self.error(self._rel(path), line, f"intent '{name}' is missing its Japanese side")
                continue
            result.append(
                SmalltalkIntent(
                    name, tuple(phrases), reply.strip(), tuple(phrases_ja), reply_ja.strip()
                )
            )
        return tuple(result)

    def _load_language(self) -> LanguageLists:
        """The word lists of language.yaml: every list a list of text, every kind known."""
        path = self.root / "language.yaml"
        rel = self._rel(path)
        if not path.exists():
            self.warn(rel, 1, "no word lists: questions are read without stop words or cues")
            return LanguageLists()
        data = self._read(path)
        if data is None:
            return LanguageLists()
        sides: dict[str, Wording] = {}
        for side in ("english", "japanese"):
            section = data.get(side)
            if not isinstance(section, LineDict):
                self.error(rel, line_of(data, side), f"'{side}' must be a mapping of word lists")
                continue
            values: dict[str, Any] = {}
            for key in sorted(set(section) - {*LIST_NAMES, "replacements", "kinds"}):
                self.error(rel, line_of(section, key), f"{side}: unknown list '{key}'")
            for name in LIST_NAMES:
                words = section.get(name, [])
                if not _is_str_list(words):
                    self.error(
                        rel,
                        line_of(section, name),
                        f"{side}.{name}: every item must be text (quote yes, no, on, off)",
                    )
                    continue
                normal = [basic_normalize(w) for w in words]
                keep = frozenset if name in ("stopwords", "generic", "fillers") else tuple
                values[name] = keep(dict.fromkeys(w for w in normal if w))
            replacements = section.get("replacements", {})
            if not isinstance(replacements, dict) or not all(
                isinstance(v, str) for v in replacements.values()
            ):
                self.error(
                    rel, line_of(section, "replacements"), f"{side}.replacements: text to text"
                )
                replacements = {}
            values["replacements"] = {str(k): v for k, v in replacements.items()}
            kinds = section.get("kinds", {})
            values["kinds"] = {}
            for kind, cues in kinds.items() if isinstance(kinds, dict) else ():
                if kind not in FACT_KINDS:
                    self.error(
                        rel,
                        line_of(kinds, kind),
                        f"{side}.kinds: '{kind}' is not a fact kind ({', '.join(FACT_KINDS)})",
                    )
                elif not _is_str_list(cues):
                    self.error(rel, line_of(kinds, kind), f"{side}.kinds.{kind}: list of text")
                else:
                    values["kinds"][kind] = tuple(basic_normalize(c) for c in cues)
            sides[side] = Wording(**values)
        eras = data.get("eras", {})
        if not isinstance(eras, dict) or not all(isinstance(v, int) for v in eras.values()):
            self.error(rel, line_of(data, "eras"), "'eras' maps era names to a year")
            eras = {}
        region = data.get("region_countries", [])
        if not _is_str_list(region):
            self.error(rel, line_of(data, "region_countries"), "'region_countries': country names")
            region = []
        return LanguageLists(
            english=sides.get("english", Wording()),
            japanese=sides.get("japanese", Wording()),
            eras={str(k): v for k, v in eras.items()},
            region_countries=tuple(region),
        )

    def _load_content_file(self, path: Path) -> None:
        rel = self._rel(path)
        data = self._read(path)
        if data is None:
            return
        unknown = set(data) - {"entries", "tables"}
        for key in sorted(unknown):
            self.error(rel, line_of(data, key), f"unknown top-level key '{key}'")
        entries = data.get("entries", [])
        if not isinstance(entries, list):
            self.error(rel, line_of(data, "entries"), "'entries' must be a list")
            entries = []
        for item in entries:
            self._load_entry(rel, item)
        tables = data.get("tables", [])
        if not isinstance(tables, list):
            self.error(rel, line_of(data, "tables"), "'tables' must be a list")
            tables = []
        for item in tables:
            self._load_table(rel, item)

    def _load_entry(self, rel: str, item: Any) -> None:
        line = line_of(item)
        if not isinstance(item, dict):
            self.error(rel, line, "each entry must be a mapping")
            return
        entry_id = item.get("id")
        label = entry_id if isinstance(entry_id, str) else None
        if label:
            self._declared.add(label)
        for key in sorted(set(item) - ENTRY_FIELDS - ENTRY_OPTIONAL):
            self.error(rel, line_of(item, key), f"unknown field '{key}'", label)
        missing = sorted(ENTRY_FIELDS - set(item))
        for key in missing:
            self.error(rel, line, f"missing field '{key}'", label)
        if missing:
            return
        ok = True
        if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id):
            self.error(
                rel,
                line_of(item, "id"),
                f"id {entry_id!r} must be lowercase letters, digits and hyphens",
                label,
            )
            ok = False
        for key in ("title", "category", "source"):
            if not isinstance(item[key], str) or not item[key].strip():
                self.error(rel, line_of(item, key), f"'{key}' must be non-empty text", label)
                ok = False
        answer = item["answer"]
        if not isinstance(answer, str) or not answer.strip():
            self.error(rel, line_of(item, "answer"), "the answer is empty", label)
            ok = False
        elif len(answer.strip()) > MAX_MESSAGE:
            self.error(
                rel,
                line_of(item, "answer"),
                f"the answer is {len(answer.strip())} characters; Telegram allows {MAX_MESSAGE}",
                label,
            )
            ok = False
        questions = item["questions"]
        if not _is_str_list(questions) or not questions:
            self.error(
                rel, line_of(item, "questions"), "'questions' must be a list of text", label
            )
            ok = False
        elif len(questions) < MIN_QUESTIONS:
            self.warn(
                rel,
                line_of(item, "questions"),
                f"only {len(questions)} alternate question(s); {MIN_QUESTIONS}+ match better",
                label,
            )
        if isinstance(item["title"], str) and len(item["title"]) > MAX_TITLE:
            self.warn(
                rel, line_of(item, "title"), f"title longer than {MAX_TITLE} characters", label
            )
        if isinstance(item["source"], str) and item["source"] not in self.sources:
            known = ", ".join(sorted(self.sources)) or "none"
            self.error(
                rel,
                line_of(item, "source"),
                f"source '{item['source']}' is not in sources.yaml (known: {known})",
                label,
            )
        related = item.get("related", [])
        if not _is_str_list(related):
            self.error(
                rel, line_of(item, "related"), "'related' must be a list of entry ids", label
            )
            ok = False
        years = item.get("years", [])
        if not isinstance(years, list) or not all(isinstance(y, int) for y in years):
            self.error(rel, line_of(item, "years"), "'years' must be a list of years", label)
            ok = False
        covers = item.get("covers", [])
        if not _is_str_list(covers):
            self.error(rel, line_of(item, "covers"), "'covers' must be a list of topics", label)
            ok = False
        else:
            for topic in covers:
                if topic not in self.guards:
                    self.error(
                        rel,
                        line_of(item, "covers"),
                        f"covers unknown topic '{topic}' (see guards.yaml)",
                        label,
                    )
        facets = item.get("facets", [])
        if not _is_str_list(facets) or not set(facets) <= set(FACT_KINDS):
            self.error(
                rel,
                line_of(item, "facets"),
                f"'facets' must be a list of fact kinds ({', '.join(FACT_KINDS)})",
                label,
            )
            ok = False
        gaps = item.get("gaps", [])
        gaps_ja = item.get("gaps_ja", [])
        if not _is_str_list(gaps) or not _is_str_list(gaps_ja):
            self.error(rel, line_of(item, "gaps"), "'gaps' must be a list of words", label)
            ok = False
        japanese = self._japanese_side(rel, item, label)
        if japanese is None:
            ok = False
        table = item.get("table")
        if table is not None and not isinstance(table, str):
            self.error(rel, line_of(item, "table"), "'table' must be a table id", label)
            ok = False
        if not ok or not isinstance(entry_id, str):
            return
        if entry_id in self.entries:
            first = self.entries[entry_id]
            self.error(
                rel,
                line_of(item, "id"),
                f"duplicate id (first defined at {first.file}:{first.line})",
                entry_id,
            )
            return
        self.entries[entry_id] = Entry(
            id=entry_id,
            title=item["title"].strip(),
            category=item["category"].strip(),
            questions=tuple(q.strip() for q in questions),
            answer=answer.strip(),
            source=item["source"],
            related=tuple(related),
            table=table,
            years=frozenset(years),
            covers=frozenset(covers),
            gaps=tuple(basic_normalize(g) for g in gaps),
            title_ja=japanese[0] if japanese else "",
            questions_ja=japanese[1] if japanese else (),
            answer_ja=japanese[2] if japanese else "",
            gaps_ja=tuple(basic_normalize(g) for g in gaps_ja),
            facets=frozenset(facets),
            file=rel,
            line=line_of(item, "id"),
        )
        self._question_lines[entry_id] = list(getattr(questions, "item_lines", []))
        self._question_lines[f"{entry_id} ja"] = list(
            getattr(item.get("questions_ja"), "item_lines", [])
        )

    def _japanese_side(
        self, rel: str, item: Any, label: str | None
    ) -> tuple[str, tuple[str, ...], str] | None:
        """The entry's Japanese title, questions and answer, checked against the English."""
        missing = [key for key in JAPANESE_FIELDS if not item.get(key)]
        if missing:
            self.error(
                rel,
                line_of(item),
                f"missing its Japanese side: {', '.join(missing)}",
                label,
            )
            return None
        title, questions, answer = (item[key] for key in JAPANESE_FIELDS)
        if (
            not isinstance(title, str)
            or not isinstance(answer, str)
            or not _is_str_list(questions)
        ):
            self.error(
                rel,
                line_of(item, "title_ja"),
                "title_ja and answer_ja must be text, questions_ja a list of text",
                label,
            )
            return None
        english = item.get("answer")
        if isinstance(english, str) and english.strip():
            only_en = sorted(_numbers(english) - _numbers(answer))
            only_ja = sorted(_numbers(answer) - _numbers(english))
            if only_en or only_ja:
                self.error(
                    rel,
                    line_of(item, "answer_ja"),
                    "numbers differ between answer and answer_ja"
                    + (f"; only in English: {', '.join(only_en)}" if only_en else "")
                    + (f"; only in Japanese: {', '.join(only_ja)}" if only_ja else ""),
                    label,
                )
                return None
        if len(answer.strip()) > MAX_MESSAGE:
            self.error(
                rel, line_of(item, "answer_ja"), "answer_ja is too long for Telegram", label
            )
            return None
        return title.strip(), tuple(q.strip() for q in questions), answer.strip()

    def _load_table(self, rel: str, item: Any) -> None:
        line = line_of(item)
        if not isinstance(item, dict):
            self.error(rel, line, "each table must be a mapping")
            return
        table_id = item.get("id") if isinstance(item.get("id"), str) else None
        if table_id:
            self._declared_tables.add(table_id)
        where = f"table '{table_id}': " if table_id else "table: "
        for key in sorted(set(item) - TABLE_FIELDS - TABLE_OPTIONAL):
            self.error(rel, line_of(item, key), f"{where}unknown field '{key}'")
        missing = sorted(TABLE_FIELDS - set(item))
        for key in missing:
            self.error(rel, line, f"{where}missing field '{key}'")
        if missing or table_id is None:
            return
        columns = self._load_columns(rel, where, item["columns"])
        if columns is None:
            return
        rows = self._load_rows(rel, where, item["rows"], len(columns))
        if rows is None:
            return
        if table_id in self.tables:
            self.error(rel, line_of(item, "id"), f"{where}duplicate table id")
            return
        years = item.get("years", [])
        self.tables[table_id] = Table(
            id=table_id,
            entry=str(item["entry"]),
            title=str(item["title"]).strip(),
            unit=str(item["unit"]).strip(),
            columns=columns,
            rows=rows,
            note=str(item.get("note", "") or "").strip(),
            years=frozenset(y for y in years if isinstance(y, int)),
            title_ja=str(item.get("title_ja", "") or "").strip(),
            unit_ja=str(item.get("unit_ja", "") or "").strip(),
            note_ja=str(item.get("note_ja", "") or "").strip(),
            file=rel,
            line=line_of(item, "id"),
        )
        if not item.get("known_discrepancy"):
            self._check_totals(rel, where, item, self.tables[table_id])

    def _load_columns(self, rel: str, where: str, value: Any) -> tuple[Column, ...] | None:
        if not isinstance(value, list) or not value:
            self.error(rel, line_of(value), f"{where}'columns' must be a non-empty list")
            return None
        columns: list[Column] = []
        for col in value:
            if not isinstance(col, dict) or "key" not in col:
                self.error(rel, line_of(col), f"{where}each column needs a 'key'")
                return None
            aliases = col.get("aliases", [])
            if not _is_str_list(aliases):
                self.error(rel, line_of(col, "aliases"), f"{where}column aliases must be text")
                return None
            columns.append(
                Column(
                    key=str(col["key"]),
                    label=str(col.get("label", col["key"])),
                    aliases=tuple(aliases),
                    year=col.get("year"),
                    from_year=col.get("from_year"),
                    to_year=col.get("to_year"),
                    total=bool(col.get("total", False)),
                    label_ja=str(col.get("label_ja", "") or ""),
                    aliases_ja=tuple(_strings(col.get("aliases_ja"))),
                )
            )
        return tuple(columns)

    def _load_rows(self, rel: str, where: str, value: Any, width: int) -> tuple[Row, ...] | None:
        if not isinstance(value, list) or not value:
            self.error(rel, line_of(value), f"{where}'rows' must be a non-empty list")
            return None
        rows: list[Row] = []
        seen: set[str] = set()
        for row in value:
            line = line_of(row)
            if not isinstance(row, dict) or "key" not in row or "values" not in row:
                self.error(rel, line, f"{where}each row needs 'key' and 'values'")
                return None
            values = row["values"]
            if not isinstance(values, list) or not all(
                v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values
            ):
                self.error(rel, line, f"{where}row '{row['key']}': values must be numbers or null")
                return None
            if len(values) != width:
                self.error(
                    rel,
                    line,
                    f"{where}row '{row['key']}' has {len(values)} values for {width} columns",
                )
                return None
            key = str(row["key"])
            if key in seen:
                self.error(rel, line, f"{where}duplicate row '{key}'")
                return None
            seen.add(key)
            aliases = row.get("aliases", [])
            rows.append(
                Row(
                    key=key,
                    label=str(row.get("label", key)),
                    values=tuple(values),
                    aliases=tuple(aliases) if _is_str_list(aliases) else (),
                    total=bool(row.get("total", False)),
                    label_ja=str(row.get("label_ja", "") or ""),
                    aliases_ja=tuple(_strings(row.get("aliases_ja"))),
                )
            )
        return tuple(rows)

    def _check_totals(self, rel: str, where: str, item: Any, table: Table) -> None:
        """Warn where a table's totals do not add up: a copying slip is easy to make."""
        total_col = next((i for i, c in enumerate(table.columns) if c.total), None)
        rows = item["rows"]
        if total_col is not None:
            for raw, row in zip(rows, table.rows, strict=True):
                parts = [v for i, v in enumerate(row.values) if i != total_col and v is not None]
                stated = row.values[total_col]
                if stated is not None and parts and sum(parts) != stated:
                    self.warn(
                        rel,
                        line_of(raw),
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

    def _cross_check(self) -> None:
        """Checks that need every file: related ids, tables, questions under two entries."""
        seen_questions: dict[str, tuple[str, str, int, str]] = {}
        for entry in self.entries.values():
            for rid in entry.related:
                if rid == entry.id:
                    self.error(entry.file, entry.line, "lists itself in 'related'", entry.id)
                elif rid not in self._declared:
                    self.error(
                        entry.file, entry.line, f"related id '{rid}' does not exist", entry.id
                    )
            if entry.table is not None:
                table = self.tables.get(entry.table)
                if table is None and entry.table in self._declared_tables:
                    pass  # the table itself is broken and already reported
                elif table is None:
                    self.error(
                        entry.file, entry.line, f"table '{entry.table}' does not exist", entry.id
                    )
                elif table.entry != entry.id:
                    self.error(
                        entry.file,
                        entry.line,
                        f"table '{entry.table}' belongs to entry '{table.entry}'",
                        entry.id,
                    )
            self._check_questions(entry, entry.questions, entry.id, seen_questions)
            self._check_questions(entry, entry.questions_ja, f"{entry.id} ja", seen_questions)
        self._check_tables()

    def _check_questions(
        self,
        entry: Entry,
        questions: tuple[str, ...],
        lines_key: str,
        seen_questions: dict[str, tuple[str, str, int, str]],
    ) -> None:
        """Empty questions, and the same question under two entries (either language).

        One entry may list a question in both languages ("JETAA" is JETAA in both).
        """
        language = "ja" if lines_key.endswith(" ja") else "en"
        lines = self._question_lines.get(lines_key, [])
        for index, question in enumerate(questions):
            key = basic_normalize(question)
            line = lines[index] if index < len(lines) else entry.line
            if not key:
                self.error(entry.file, line, "an alternate question is empty", entry.id)
                continue
            if key not in seen_questions:
                seen_questions[key] = (entry.id, entry.file, line, language)
                continue
            other_id, other_file, other_line, other_language = seen_questions[key]
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

    def _check_tables(self) -> None:
        """Every table belongs to an entry that points back at it."""
        for table in self.tables.values():
            owner = self.entries.get(table.entry)
            if owner is None and table.entry in self._declared:
                continue
            if owner is None:
                self.error(
                    table.file,
                    table.line,
                    f"table '{table.id}': entry '{table.entry}' does not exist",
                )
            elif owner.table != table.id:
                self.error(
                    table.file,
                    table.line,
                    f"table '{table.id}': entry '{table.entry}' must say 'table: {table.id}'",
                )


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


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


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
