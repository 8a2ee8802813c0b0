"""The labelled evaluation sets: big enough, independent of the knowledge base, and passed."""

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.evaluation import ESCALATE, SMALLTALK, EvalReport, evaluate, load_eval
from bot.knowledge import load_knowledge
from bot.language import has_japanese
from bot.matcher import Matcher
from bot.normalize import basic_normalize

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "tests" / "eval"
# language: (file, at least this many questions, of which at least this many unanswerable)
SETS = {"en": ("questions.yaml", 150, 40), "ja": ("questions_ja.yaml", 80, 20)}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    # The shipped settings (config.yaml), so the figures are the ones the bot really gets.
    settings = load_settings(ROOT / "config.yaml", environ={})
    return Matcher(load_knowledge(ROOT / "knowledge"), settings.matcher)


@pytest.fixture(scope="module", params=sorted(SETS))
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def report(matcher: Matcher, language: str) -> EvalReport:
    return evaluate(matcher, load_eval(EVAL_DIR / SETS[language][0]))


def test_eval_set_is_big_and_varied(language: str) -> None:
    name, size, unanswerable = SETS[language]
    items = load_eval(EVAL_DIR / name)
    assert len(items) >= size
    assert sum(i.expect == ESCALATE for i in items) >= unanswerable
    assert sum(bool(i.contains) for i in items) >= 20  # table rows and totals
    if language == "ja":
        assert all(has_japanese(i.question) for i in items)


def test_eval_questions_are_not_copied_from_the_knowledge_base(language: str) -> None:
    kb = load_knowledge(ROOT / "knowledge")
    alternates = {
        basic_normalize(q) for e in kb.entries.values() for q in (*e.questions, *e.questions_ja)
    }
    items = load_eval(EVAL_DIR / SETS[language][0])
    assert [i.question for i in items if basic_normalize(i.question) in alternates] == []


def test_accuracy_and_wrong_answer_bars(report: EvalReport) -> None:
    print(report.format())
    assert report.accuracy >= 0.90
    assert report.wrong_answer_rate <= 0.03


def test_answers_come_in_the_language_of_the_question(report: EvalReport, language: str) -> None:
    answers = [o.decision for o in report.outcomes if o.answered]
    assert answers
    assert {d.language for d in answers} == {language}


def test_smalltalk_items_are_never_escalated(report: EvalReport) -> None:
    smalltalk = [o for o in report.outcomes if o.item.expect == SMALLTALK]
    assert smalltalk
    assert not [o.item.question for o in smalltalk if o.decision.action.value == "escalate"]
