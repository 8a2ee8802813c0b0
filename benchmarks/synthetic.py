"""Synthetic knowledge bases: the shipped one grown to N alternate questions, as real YAML.

The folder is a copy of the shipped special files and programme files, plus generated
files of entries shaped like the real ones: made-up programmes (a pseudo-word name, a kind
of programme and a field), each with several entries about one aspect (overview, schedule,
venue, ...), about eight alternate questions each, source ``our-activities-2025``. The
same size always gives the same files (fixed seed), so runs can be compared.

Generated words never name a country, place, guard topic or stop word: those would send
the matcher down its escalation paths and measure something other than matching. The size
counts English alternate questions; like the shipped entries, each generated one also has
its Japanese side (title, answer and `JAPANESE_QUESTIONS` questions), drawn from a separate
random stream so the English content does not depend on it.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.entities import Countries
from bot.knowledge import MIN_QUESTIONS
from bot.normalize import basic_normalize

SEED = 20_251_122
SOURCE = "our-activities-2025"
ENTRIES_PER_FILE = 250
ALTERNATES_PER_ENTRY = 8
JAPANESE_QUESTIONS = 5

# Syllables of made-up names, in romaji and katakana, so a name reads alike in both.
_SYLLABLES = (
    ("ka", "カ"),
    ("ki", "キ"),
    ("ku", "ク"),
    ("ke", "ケ"),
    ("ko", "コ"),
    ("sa", "サ"),
    ("shi", "シ"),
    ("su", "ス"),
    ("se", "セ"),
    ("so", "ソ"),
    ("ta", "タ"),
    ("te", "テ"),
    ("to", "ト"),
    ("na", "ナ"),
    ("ni", "ニ"),
    ("nu", "ヌ"),
    ("ne", "ネ"),
    ("no", "ノ"),
    ("ha", "ハ"),
    ("hi", "ヒ"),
    ("fu", "フ"),
    ("he", "ヘ"),
    ("ho", "ホ"),
    ("ma", "マ"),
    ("mi", "ミ"),
    ("mu", "ム"),
    ("me", "メ"),
    ("mo", "モ"),
    ("ya", "ヤ"),
    ("yu", "ユ"),
    ("yo", "ヨ"),
    ("ra", "ラ"),
    ("ri", "リ"),
    ("ru", "ル"),
    ("re", "レ"),
    ("ro", "ロ"),
    ("wa", "ワ"),
    ("ba", "バ"),
    ("be", "ベ"),
    ("bo", "ボ"),
    ("da", "ダ"),
    ("de", "デ"),
    ("do", "ド"),
    ("ga", "ガ"),
    ("gi", "ギ"),
    ("go", "ゴ"),
    ("za", "ザ"),
    ("zu", "ズ"),
    ("zo", "ゾ"),
    ("pa", "パ"),
    ("po", "ポ"),
    ("kan", "カン"),
    ("ran", "ラン"),
    ("ton", "トン"),
    ("men", "メン"),
    ("sen", "セン"),
    ("rin", "リン"),
    ("mon", "モン"),
    ("dan", "ダン"),
)

KINDS = {
    "seminar": "セミナー",
    "exchange": "交流事業",
    "training course": "研修コース",
    "study tour": "視察ツアー",
    "workshop": "ワークショップ",
    "forum": "フォーラム",
    "festival": "フェスティバル",
    "internship": "インターンシップ",
    "delegation visit": "代表団訪問",
    "research project": "調査研究",
    "youth camp": "青少年キャンプ",
    "symposium": "シンポジウム",
}
FIELDS = {
    "tourism": "観光",
    "agriculture": "農業",
    "disaster prevention": "防災",
    "environment": "環境",
    "urban planning": "都市計画",
    "elderly care": "高齢者福祉",
    "public health": "公衆衛生",
    "education": "教育",
    "local industry": "地場産業",
    "culture and arts": "文化芸術",
    "sports": "スポーツ",
    "waste management": "廃棄物処理",
    "water supply": "水道",
    "transport": "交通",
    "digital government": "デジタル行政",
    "fisheries": "水産業",
}
PROGRAMME_WORDS = {
    "training": "研修",
    "trainees": "研修員",
    "officials": "職員",
    "local government": "地方自治体",
    "municipality": "市町村",
    "prefecture": "都道府県",
    "host city": "受入れ都市",
    "exchange": "交流",
    "programme": "プログラム",
    "participants": "参加者",
    "lecture": "講義",
    "site visit": "視察",
    "report": "報告",
    "partner": "パートナー",
    "office": "事務所",
    "community": "地域",
    "delegates": "代表団",
    "clair": "クレア",
}
# {p} is a way of naming the programme; every aspect has its own ways of asking.
ASPECTS: dict[str, tuple[str, ...]] = {
    "overview": (
        "what is the {p}",
        "tell me about the {p}",
        "{p} overview",
        "purpose of the {p}",
        "what does the {p} involve",
        "explain the {p}",
        "what is the aim of the {p}",
        "{p} introduction",
    ),
    "schedule": (
        "{p} schedule",
        "timeline of the {p}",
        "when does the {p} start",
        "what month is the {p}",
        "when is the {p} held",
        "how is the {p} scheduled",
        "{p} calendar",
        "order of events in the {p}",
    ),
    "venue": (
        "where is the {p} held",
        "{p} venue",
        "which city hosts the {p}",
        "where does the {p} take place",
        "{p} location",
        "where do participants go for the {p}",
        "which town holds the {p}",
        "{p} host town",
    ),
    "organiser": (
        "who organises the {p}",
        "who runs the {p}",
        "which office is in charge of the {p}",
        "{p} organiser",
        "is the {p} run by clair",
        "who is behind the {p}",
        "who coordinates the {p}",
        "{p} organising body",
    ),
    "duration": (
        "how long is the {p}",
        "how many days is the {p}",
        "{p} length",
        "how long does the {p} last",
        "duration of the {p}",
        "is the {p} a long programme",
        "number of weeks of the {p}",
        "{p} how long",
    ),
    "participants": (
        "how many people joined the {p}",
        "number of participants in the {p}",
        "who takes part in the {p}",
        "{p} participants",
        "how many delegates attended the {p}",
        "who attended the {p}",
        "{p} attendance",
        "size of the {p} group",
    ),
    "content": (
        "what do participants learn in the {p}",
        "{p} activities",
        "what happens at the {p}",
        "{p} curriculum",
        "what topics does the {p} cover",
        "what is taught in the {p}",
        "{p} lectures and site visits",
        "main activities of the {p}",
    ),
    "results": (
        "what did the {p} achieve",
        "{p} report",
        "outcomes of the {p}",
        "{p} results",
        "was the {p} a success",
        "what came out of the {p}",
        "{p} achievements",
        "impact of the {p}",
    ),
}
ASPECTS_JA: dict[str, tuple[str, ...]] = {
    "overview": (
        "{p}とは何ですか",
        "{p}について教えてください",
        "{p}の概要",
        "{p}の目的は",
        "{p}はどんな内容ですか",
        "{p}の説明",
        "{p}のねらい",
        "{p}の紹介",
    ),
    "schedule": (
        "{p}のスケジュール",
        "{p}はいつ始まりますか",
        "{p}は何月ですか",
        "{p}はいつ開催されますか",
        "{p}の流れ",
        "{p}の年間予定",
        "{p}の進め方",
        "{p}の実施時期",
    ),
    "venue": (
        "{p}の会場",
        "{p}はどこで開催されますか",
        "{p}の開催地",
        "{p}の場所",
        "{p}を受け入れる都市は",
        "{p}はどこで行われますか",
        "{p}の開催都市",
        "{p}の受入れ自治体",
    ),
    "organiser": (
        "{p}の主催者",
        "{p}は誰が運営していますか",
        "{p}の担当部署",
        "{p}の実施団体",
        "{p}はクレアが実施していますか",
        "{p}の運営",
        "{p}の窓口",
        "{p}を企画しているのは",
    ),
    "duration": (
        "{p}の期間",
        "{p}はどのくらいの長さですか",
        "{p}は何日間ですか",
        "{p}は何週間ですか",
        "{p}の長さ",
        "{p}の実施期間",
        "{p}はどれくらい続きますか",
        "{p}の日数",
    ),
    "participants": (
        "{p}の参加者",
        "{p}の参加人数",
        "{p}には何人参加しましたか",
        "{p}に参加したのは誰ですか",
        "{p}の参加自治体",
        "{p}の規模",
        "{p}の参加状況",
        "{p}の出席者",
    ),
    "content": (
        "{p}の内容",
        "{p}で何を学びますか",
        "{p}のプログラム内容",
        "{p}の主な活動",
        "{p}のカリキュラム",
        "{p}では何をしますか",
        "{p}のテーマ",
        "{p}の講義と視察",
    ),
    "results": (
        "{p}の成果",
        "{p}の報告",
        "{p}の結果",
        "{p}は成功しましたか",
        "{p}の効果",
        "{p}の実績",
        "{p}から何が生まれましたか",
        "{p}の報告書",
    ),
}
_TITLES = {
    "overview": ("About the {name} {kind}", "{name}{kind}について"),
    "schedule": ("{name} {kind} schedule", "{name}{kind}のスケジュール"),
    "venue": ("Where the {name} {kind} is held", "{name}{kind}の会場"),
    "organiser": ("Who runs the {name} {kind}", "{name}{kind}の運営"),
    "duration": ("How long the {name} {kind} lasts", "{name}{kind}の期間"),
    "participants": ("{name} {kind} participants", "{name}{kind}の参加者"),
    "content": ("What the {name} {kind} covers", "{name}{kind}の内容"),
    "results": ("Results of the {name} {kind}", "{name}{kind}の成果"),
}


@dataclass(frozen=True)
class Word:
    """A made-up word, in romaji and in katakana."""

    romaji: str
    kana: str


@dataclass(frozen=True)
class Programme:
    """A made-up programme that several generated entries are about."""

    name: Word
    kind: str
    field: str

    def namings(self) -> tuple[str, ...]:
        """The ways an English question may name the programme."""
        name = self.name.romaji.capitalize()
        return (
            f"{name} {self.kind}",
            f"{name} {self.field} {self.kind}",
            f"{name} programme",
            f"{self.kind} on {self.field} called {name}",
            name,
        )

    def namings_ja(self) -> tuple[str, ...]:
        """The ways a Japanese question may name the programme."""
        kind, field = KINDS[self.kind], FIELDS[self.field]
        return (
            f"{self.name.kana}{kind}",
            f"{field}の{self.name.kana}{kind}",
            f"{self.name.kana}プログラム",
            self.name.kana,
        )


# Every ISO 3166 country name (generated names must not look like one).
_COUNTRIES = Countries()


def pseudo_words(rng: random.Random, banned: set[str]) -> Iterator[Word]:
    """Endless distinct made-up words of two to four syllables, none of them `banned`."""
    seen = set(banned)
    while True:
        syllables = [rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))]
        word = Word("".join(r for r, _ in syllables), "".join(k for _, k in syllables))
        if len(word.romaji) < 5 or {word.romaji, word.kana} & seen:
            continue
        if _COUNTRIES.find(word.romaji):
            continue
        seen.update((word.romaji, word.kana))
        yield word


def _banned_words(shipped: Path) -> set[str]:
    """Words a generated name must not be: stop words, guard terms and places."""
    banned: set[str] = set()
    for name in ("guards.yaml", "places.yaml", "synonyms.yaml", "language.yaml"):
        with open(shipped / name, encoding="utf-8") as handle:
            banned.update(basic_normalize(yaml.safe_dump(yaml.safe_load(handle))).split())
    return banned


def generate_entries(
    count: int, alternates: int, shipped: Path, categories: list[str]
) -> list[dict[str, object]]:
    """`count` entries holding `alternates` alternate questions between them, in YAML shape,
    each in one of `categories`."""
    rng = random.Random(SEED)
    rng_ja = random.Random(SEED + 1)
    words = pseudo_words(rng, _banned_words(shipped))
    base, extra = divmod(alternates, count) if count else (0, 0)
    entries: list[dict[str, object]] = []
    seen_questions: set[str] = set()
    programme: Programme | None = None
    category = ""
    aspects: list[str] = []
    for index in range(count):
        if not aspects:
            programme = Programme(next(words), rng.choice(list(KINDS)), rng.choice(list(FIELDS)))
            category = rng.choice(categories)
            aspects = rng.sample(sorted(ASPECTS), rng.randint(4, len(ASPECTS)))
        assert programme is not None
        aspect = aspects.pop()
        wanted = base + (1 if index < extra else 0)
        questions = _questions(rng, programme, aspect, wanted, seen_questions, words)
        partner = next(words)
        title, title_ja = _TITLES[aspect]
        entry: dict[str, object] = {
            "id": f"syn-{index + 1:05d}",
            "title": title.format(name=programme.name.romaji.capitalize(), kind=programme.kind),
            "category": category,
            "questions": questions,
            "answer": _answer(rng, programme, aspect, partner),
            "source": SOURCE,
            "title_ja": title_ja.format(name=programme.name.kana, kind=KINDS[programme.kind]),
            "questions_ja": _questions_ja(rng_ja, programme, aspect, seen_questions),
            "answer_ja": _answer_ja(rng_ja, programme, partner),
        }
        entries.append(entry)
    return entries


def _questions(
    rng: random.Random,
    programme: Programme,
    aspect: str,
    wanted: int,
    seen: set[str],
    words: Iterator[Word],
) -> list[str]:
    templates = ASPECTS[aspect]
    namings = programme.namings()
    questions: list[str] = []
    attempts = 0
    while len(questions) < wanted:
        attempts += 1
        question = rng.choice(templates).format(p=rng.choice(namings))
        # Past the obvious phrasings, add what people add: context words, a made-up name.
        if attempts > 6 or rng.random() < 0.3:
            extra = rng.choice(list(PROGRAMME_WORDS)) if rng.random() < 0.7 else next(words).romaji
            question = f"{question} for {extra}" if rng.random() < 0.7 else f"{question} ({extra})"
        key = basic_normalize(question)
        if key in seen:
            continue
        seen.add(key)
        questions.append(question[0].upper() + question[1:] + ("?" if rng.random() < 0.5 else ""))
    return questions


def _questions_ja(
    rng: random.Random, programme: Programme, aspect: str, seen: set[str]
) -> list[str]:
    templates = ASPECTS_JA[aspect]
    namings = programme.namings_ja()
    questions: list[str] = []
    while len(questions) < JAPANESE_QUESTIONS:
        question = rng.choice(templates).format(p=rng.choice(namings))
        if len(questions) >= 2 and rng.random() < 0.3:
            question = f"{question}（{rng.choice(list(PROGRAMME_WORDS.values()))}）"
        key = basic_normalize(question)
        if key in seen:
            continue
        seen.add(key)
        questions.append(question + ("？" if rng.random() < 0.5 else ""))
    return questions


def _answer(rng: random.Random, programme: Programme, aspect: str, partner: Word) -> str:
    name = programme.name.romaji.capitalize()
    words = list(PROGRAMME_WORDS)
    return "\n".join(
        (
            f"The {name} {programme.kind} on {programme.field} brings together "
            f"{rng.choice(words)} and {rng.choice(words)} from member municipalities.",
            f"This part is about its {aspect}: it is arranged with the "
            f"{partner.romaji.capitalize()} {rng.choice(words)} and follows the usual "
            f"{rng.choice(list(KINDS))} format.",
            f"For more on the {programme.kind}, please contact CLAIR.",
        )
    )


def _answer_ja(rng: random.Random, programme: Programme, partner: Word) -> str:
    words = list(PROGRAMME_WORDS.values())
    kind, field = KINDS[programme.kind], FIELDS[programme.field]
    return "\n".join(
        (
            f"{programme.name.kana}{kind}（{field}）は、会員自治体の{rng.choice(words)}と"
            f"{rng.choice(words)}が集まる事業です。",
            f"{partner.kana}{rng.choice(words)}と連携して実施します。",
            "詳しくはクレアにお問い合わせください。",
        )
    )


class _Dumper(yaml.SafeDumper):
    """Writes answers as literal blocks (``answer: |``), the way the shipped files do."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _shipped_entries(shipped: Path) -> list[dict[str, Any]]:
    """The entries of the shipped knowledge files, as plain YAML data."""
    entries: list[dict[str, Any]] = []
    for path in sorted(shipped.glob("*.yaml")):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        if isinstance(data, dict):
            entries.extend(e for e in data.get("entries", []) if isinstance(e, dict))
    return entries


def shipped_question_count(shipped: Path) -> int:
    """How many (English) alternate questions the shipped knowledge files hold."""
    return sum(len(e.get("questions") or []) for e in _shipped_entries(shipped))


def build_knowledge_folder(shipped: Path, target: Path, size: int) -> Path:
    """Write a knowledge folder with `size` alternate questions (shipped ones included)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in sorted(shipped.glob("*.yaml")):
        shutil.copy2(path, target / path.name)
    shipped_entries = _shipped_entries(shipped)
    shipped_questions = sum(len(e.get("questions") or []) for e in shipped_entries)
    # Generated entries join the shipped categories, which already have their display names.
    categories = sorted({str(e["category"]) for e in shipped_entries})
    wanted = size - shipped_questions
    if wanted < 0:
        raise ValueError(f"the shipped knowledge base alone has {shipped_questions} questions")
    if 0 < wanted < MIN_QUESTIONS:
        wanted = MIN_QUESTIONS  # an entry needs this many; the caller reports the real size
    count = max(1, round(wanted / ALTERNATES_PER_ENTRY)) if wanted else 0
    entries = generate_entries(count, wanted, shipped, categories)
    for number, start in enumerate(range(0, len(entries), ENTRIES_PER_FILE), start=1):
        chunk = entries[start : start + ENTRIES_PER_FILE]
        header = f"# Generated by benchmarks/synthetic.py (seed {SEED}); not real content.\n"
        body = yaml.dump(
            {"entries": chunk}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
        )
        (target / f"synthetic_{number:03d}.yaml").write_text(header + body, encoding="utf-8")
    return target
