"""The labelled evaluation set: big enough, independent of the knowledge base, and passed."""

from pathlib import Path

import pytest

from bot.evaluation import ESCALATE, SMALLTALK, EvalReport, evaluate, load_eval
from bot.knowledge import load_knowledge
from bot.matcher import Matcher
from bot.normalize import basic_normalize

ROOT = Path(__file__).resolve().parent.parent
EVAL_FILE = ROOT / "tests" / "eval" / "questions.yaml"


@pytest.fixture(scope="module")
def report() -> EvalReport:
    # The shipped settings (config.yaml), so the figures are the ones the bot really gets.
    from bot.config import load_settings

    settings = load_settings(ROOT / "config.yaml", environ={})
    matcher = Matcher(load_knowledge(ROOT / "knowledge"), settings.matcher)
    return evaluate(matcher, load_eval(EVAL_FILE))


def test_eval_set_is_big_and_varied() -> None:
    items = load_eval(EVAL_FILE)
    assert len(items) >= 150
    assert sum(i.expect == ESCALATE for i in items) >= 40
    assert sum(bool(i.contains) for i in items) >= 20  # table rows and totals


def test_eval_questions_are_not_copied_from_the_knowledge_base() -> None:
    kb = load_knowledge(ROOT / "knowledge")
    alternates = {basic_normalize(q) for e in kb.entries.values() for q in e.questions}
    copied = [
        i.question for i in load_eval(EVAL_FILE) if basic_normalize(i.question) in alternates
    ]
    assert copied == []


def test_accuracy_and_wrong_answer_bars(report: EvalReport) -> None:
    print(report.format())
    assert report.accuracy >= 0.90
    assert report.wrong_answer_rate <= 0.03


def test_smalltalk_items_are_never_escalated(report: EvalReport) -> None:
    smalltalk = [o for o in report.outcomes if o.item.expect == SMALLTALK]
    assert smalltalk
    assert not [o.item.question for o in smalltalk if o.decision.action.value == "escalate"]
