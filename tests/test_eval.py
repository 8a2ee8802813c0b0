"""The labelled evaluation sets: their shape, their independence, and the development bars.

Three kinds of set (tests/eval/README.md): `train` is tuned on (test_eval_train.py); `dev` is
watched through its aggregate figures only; `test` is run once, at the end, for the README,
and never here. The bars guard against regressions: they sit a few points inside the
figures the shipped bot reaches, per language, so a change that makes answers worse fails.
"""

from __future__ import annotations

import pytest
from evalsets import BARS, EVAL, FILES, FRESH, items, report, shipped

from bot.evaluation import ESCALATE, PARTIAL, SMALLTALK, load_eval
from bot.language import has_japanese
from bot.normalize import basic_normalize


@pytest.mark.parametrize("name", sorted(FRESH))
@pytest.mark.parametrize("language", ["en", "ja"])
def test_fresh_sets_are_big_and_varied(name: str, language: str) -> None:
    found = load_eval(EVAL / name / FILES[language])
    assert len(found) >= (250 if language == "en" else 150)
    if language == "ja":
        # A Japanese writer's "ok" is small talk in no language: counted with English.
        assert all(has_japanese(i.question) for i in found if i.expect != SMALLTALK)
    escalate = [i for i in found if i.expect == ESCALATE]
    assert len(escalate) >= 0.35 * len(found)
    assert sum("near-miss" in i.tags for i in escalate) >= len(escalate) / 3
    assert sum(i.long for i in found) >= 0.10 * len(found)
    assert any(i.expect == SMALLTALK for i in found)
    assert any(i.expect == PARTIAL for i in found)


@pytest.mark.parametrize("name", ["dev", "test", "test2"])
def test_held_out_questions_are_not_copied_from_the_knowledge_base(name: str) -> None:
    alternates = {
        basic_normalize(q)
        for e in shipped().entries.values()
        for q in (*e.questions, *e.questions_ja)
    }
    # Short common questions ("what is jet?") may coincide; more would mean the knowledge base
    # was written from the set. Only a count is shown: nobody reads these sets' questions.
    found = items(name)
    copied = sum(basic_normalize(i.question) in alternates for i in found)
    assert copied <= 0.02 * len(found), copied


@pytest.mark.parametrize("language", ["en", "ja"])
def test_development_bars(language: str) -> None:
    figures = report("dev").by_language()[language]
    # Figures only, never the misses: the development set's questions stay unread.
    print("dev", language, figures)
    accuracy, wrong, recall = BARS[("dev", language)]
    assert figures.accuracy >= accuracy
    assert figures.wrong_rate <= wrong
    assert figures.escalation_recall >= recall


def test_development_answers_come_in_the_language_of_the_question() -> None:
    outcomes = report("dev").outcomes
    assert sum(o.answered and o.decision.language != o.item.language for o in outcomes) == 0


def test_smalltalk_of_the_development_set_mostly_stays_small_talk() -> None:
    figures = report("dev").figures()  # a count, not the items
    assert figures.smalltalk_right >= 0.85 * figures.smalltalk
