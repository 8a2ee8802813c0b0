"""The questions the latency benchmark asks: a fixed-seed mix of four kinds.

- exact: an alternate question of the knowledge base, as written;
- paraphrased: an alternate with a word dropped, two words swapped or a word replaced by a
  synonym;
- misspelt: an alternate with one or two character edits (never the first letter, which
  people rarely get wrong);
- out of scope: the evaluation set's `escalate` questions, topped up with questions about
  a programme's fees, visas and deadlines, which the seeds never answer.

The first three know the entry that owns their alternate, so the benchmark can also say
how often each approach found it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.evaluation import ESCALATE, EvalItem
from bot.knowledge import KnowledgeBase

KINDS = ("exact", "paraphrased", "misspelt", "out-of-scope")
# Word-level synonyms people use for the knowledge base's words, on top of synonyms.yaml.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "programme": ("program", "scheme"),
    "program": ("programme",),
    "training": ("course", "trainning"),
    "schedule": ("timetable", "plan", "shedule"),
    "organises": ("organizes", "runs", "manages"),
    "held": ("hosted", "organised"),
    "participants": ("attendees", "members", "trainees"),
    "trainees": ("participants", "interns"),
    "what": ("wat",),
    "where": ("wher",),
    "when": ("wen",),
    "how": ("hw",),
    "japan": ("jpn",),
    "city": ("town",),
    "results": ("outcome",),
    "long": ("lengthy",),
}
OUT_OF_SCOPE_TEMPLATES = (
    "how much is the fee for the {p}",
    "do i need a visa for the {p}",
    "what is the deadline to apply for the {p}",
    "is accommodation provided during the {p}",
    "what allowance do participants of the {p} get",
    "when is the next {p}",
)


@dataclass(frozen=True)
class Query:
    """One timed question; `expect` is the owning entry id, or `escalate`."""

    text: str
    kind: str
    expect: str


def build_queries(
    kb: KnowledgeBase, eval_items: list[EvalItem], count: int, seed: int
) -> list[Query]:
    """`count` questions, a quarter of each kind, shuffled with a fixed seed."""
    rng = random.Random(seed)
    owned = [
        (question, entry.id)
        for entry in kb.entries.values()
        for question in entry.questions
        # Placeholders ({country}, {year}) are not something a person types.
        if "{" not in question
    ]
    synonyms = dict(SYNONYMS)
    for variant, canonical in kb.lexicon.phrases.items():
        if " " not in canonical and " " not in variant:
            synonyms.setdefault(canonical, (*synonyms.get(canonical, ()), variant))
    per_kind = [
        count // len(KINDS) + (1 if i < count % len(KINDS) else 0) for i in range(len(KINDS))
    ]
    queries: list[Query] = []
    for question, entry_id in rng.sample(owned, min(per_kind[0], len(owned))):
        queries.append(Query(question, "exact", entry_id))
    for question, entry_id in rng.sample(owned, min(per_kind[1], len(owned))):
        queries.append(Query(paraphrase(rng, question, synonyms), "paraphrased", entry_id))
    for question, entry_id in rng.sample(owned, min(per_kind[2], len(owned))):
        queries.append(Query(misspell(rng, question), "misspelt", entry_id))
    queries.extend(_out_of_scope(rng, kb, eval_items, per_kind[3]))
    rng.shuffle(queries)
    return queries


def _out_of_scope(
    rng: random.Random, kb: KnowledgeBase, eval_items: list[EvalItem], count: int
) -> list[Query]:
    escalate = [item.question for item in eval_items if item.expect == ESCALATE]
    chosen = rng.sample(escalate, min(count, len(escalate)))
    titles = [entry.title for entry in kb.entries.values()]
    while len(chosen) < count:
        subject = rng.choice(titles).lower().rstrip("?")
        chosen.append(rng.choice(OUT_OF_SCOPE_TEMPLATES).format(p=subject))
    return [Query(text, "out-of-scope", ESCALATE) for text in chosen]


def paraphrase(rng: random.Random, question: str, synonyms: dict[str, tuple[str, ...]]) -> str:
    """One or two word-level changes: drop a word, swap neighbours, or use a synonym."""
    words = question.rstrip("?").split()
    for _ in range(rng.randint(1, 2)):
        replaceable = [i for i, w in enumerate(words) if w.lower() in synonyms]
        choice = rng.random()
        if replaceable and choice < 0.5:
            i = rng.choice(replaceable)
            words[i] = rng.choice(synonyms[words[i].lower()])
        elif len(words) > 3 and choice < 0.75:
            del words[rng.randrange(len(words))]
        elif len(words) > 1:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words).lower()


def misspell(rng: random.Random, question: str) -> str:
    """One or two typing slips in words of four letters or more."""
    words = question.split()
    for _ in range(rng.randint(1, 2)):
        long_words = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
        if not long_words:
            break
        i = rng.choice(long_words)
        words[i] = _slip(rng, words[i])
    return " ".join(words)


def _slip(rng: random.Random, word: str) -> str:
    position = rng.randrange(1, len(word))
    slip = rng.randrange(4)
    if slip == 0:  # a letter left out
        return word[:position] + word[position + 1 :]
    if slip == 1:  # a letter doubled
        return word[:position] + word[position] + word[position:]
    if slip == 2 and position < len(word) - 1:  # two letters swapped
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")  # a wrong letter
    return word[:position] + letter + word[position + 1 :]
