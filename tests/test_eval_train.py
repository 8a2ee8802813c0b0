"""The training set (tuned on, misses may be read): its bars, languages and small talk.

A file of its own so that the two sets are evaluated on two workers at once.
"""

from __future__ import annotations

import pytest
from evalsets import BARS, report

from bot.evaluation import SMALLTALK


@pytest.mark.parametrize("language", ["en", "ja"])
def test_training_bars(language: str) -> None:
    figures = report("train").by_language()[language]
    print("train", language, figures)
    accuracy, wrong, recall = BARS[("train", language)]
    assert figures.accuracy >= accuracy
    assert figures.wrong_rate <= wrong
    assert figures.escalation_recall >= recall


def test_answers_come_in_the_language_of_the_question() -> None:
    mismatched = [
        o.item.line
        for o in report("train").outcomes
        if o.answered and o.decision.language != o.item.language
    ]
    assert mismatched == []


def test_smalltalk_never_reaches_staff() -> None:
    smalltalk = [o for o in report("train").outcomes if o.item.expect == SMALLTALK]
    assert smalltalk
    assert [o.item.line for o in smalltalk if o.decision.action.value == "escalate"] == []
