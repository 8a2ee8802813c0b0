"""The matcher's decisions and reason codes, on a small fixture knowledge base.

The fixture (tests/fixtures/matcher-knowledge) is built for these tests, so editing the
shipped knowledge base cannot break them; the shipped content is measured by test_eval.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.decision import Action, MatcherSettings, Reason
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Matcher

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "matcher-knowledge"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(FIXTURE)


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)


# -- every reason code ---------------------------------------------------------------------
def test_answered(matcher: Matcher) -> None:
    decision = matcher.decide("how long is the LGOTP training?")
    assert (decision.action, decision.code) == (Action.ANSWER, Reason.ANSWERED)
    assert decision.entry_id == "lgotp-duration"
    assert "6-12 months" in decision.answer


def test_answered_part_forwards_the_rest(matcher: Matcher) -> None:
    decision = matcher.decide("how long is lgotp and how much is the fee")
    assert (decision.action, decision.code) == (Action.ANSWER, Reason.ANSWERED_PART)
    assert "6-12 months" in decision.answer
    assert decision.forwarded == ("how much is the fee",)


@pytest.mark.parametrize(
    ("message", "reply"),
    [
        ("thanks, that helped", "welcome"),
        ("good evening po", "Hello"),
        ("are you a bot?", "automated"),
        ("ボットですか", "自動応答"),
    ],
)
def test_smalltalk(matcher: Matcher, message: str, reply: str) -> None:
    decision = matcher.decide(message)
    assert (decision.action, decision.code) == (Action.SMALLTALK, Reason.SMALLTALK)
    assert reply in decision.answer


def test_empty(matcher: Matcher) -> None:
    decision = matcher.decide("?!")
    assert (decision.action, decision.code) == (Action.SMALLTALK, Reason.EMPTY)


def test_clarify_close_and_weak(kb: KnowledgeBase) -> None:
    question = "how long is lgotp"
    score = Matcher(kb).decide(question).score
    # Another entry within the margin: "did you mean" between them.
    close = Matcher(kb, MatcherSettings(margin=101)).decide(question)
    assert (close.action, close.code) == (Action.CLARIFY, Reason.CLARIFY_CLOSE)
    assert close.suggestions[0].entry_id == "lgotp-duration"
    # Not sure enough to answer, sure enough to ask.
    weak = Matcher(kb, MatcherSettings(answer_threshold=score + 1, clarify_threshold=0))
    decision = weak.decide(question)
    assert (decision.action, decision.code) == (Action.CLARIFY, Reason.CLARIFY_WEAK)


def test_no_match(matcher: Matcher) -> None:
    decision = matcher.decide("what is the capital of peru")
    assert (decision.action, decision.code) == (Action.ESCALATE, Reason.NO_MATCH)


def test_guard_topic(matcher: Matcher) -> None:
    decision = matcher.decide("how much is the fee for lgotp")
    assert (decision.action, decision.code) == (Action.ESCALATE, Reason.GUARD_TOPIC)
    assert "cost" in decision.reason


def test_entry_gap(matcher: Matcher) -> None:
    decision = matcher.decide("where is jiam located")
    assert (decision.action, decision.code) == (Action.ESCALATE, Reason.ENTRY_GAP)


def test_not_covered(matcher: Matcher) -> None:
    # The arrival entry speaks of Tokyo, not of Kyoto.
    decision = matcher.decide("when do trainees arrive in kyoto")
    assert (decision.action, decision.code) == (Action.ESCALATE, Reason.NOT_COVERED)


def test_no_figure(matcher: Matcher) -> None:
    # The placement test entry says when the test is held, never how many take it.
    decision = matcher.decide("how many trainees take the placement test")
    assert (decision.action, decision.code) == (Action.ESCALATE, Reason.NO_FIGURE)


@pytest.mark.parametrize(
    "question", ["is the placement test hard?", "クラス分けテストは難しいですか"]
)
def test_fact_kind(matcher: Matcher, question: str) -> None:
    decision = matcher.decide(question)
    assert (decision.action, decision.code) == (Action.ESCALATE, Reason.FACT_KIND)
    assert "opinion" in decision.reason


def test_unexplained(matcher: Matcher) -> None:
    # "vaccinations" is a real word the knowledge base never uses.
    decision = matcher.decide("what vaccinations do trainees need before the training")
    assert (decision.action, decision.code) == (Action.ESCALATE, Reason.UNEXPLAINED)


@pytest.mark.parametrize(
    "question",
    [
        "how many SEAs came from Laos",  # the JET table has no Laos row
        "jet participants from indonesia in 2023",  # the JET table is FY2024 only
        "lgotp participants from laos in 2010",  # inside a span given as one figure
        "jet participants from the philippines so far",  # a running total of a one-year table
    ],
)
def test_table_missing(matcher: Matcher, question: str) -> None:
    decision = matcher.decide(question)
    assert (decision.action, decision.code) == (Action.ESCALATE, Reason.TABLE_MISSING)
    assert decision.answer == ""


# -- tables --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "facts"),
    [
        ("how many lgotp participants from indonesia", ["56"]),
        ("lgotp participants from the philippines in 2019", ["1"]),
        ("how many CIRs from indonesia in the jet programme", ["4"]),
        ("which country has the most lgotp participants", ["Indonesia", "56"]),
        ("which country has the fewest lgotp participants", ["Laos", "9"]),
        ("indonesia and philippines lgotp participants combined", ["102"]),
        ("total lgotp participants for the whole region", ["111"]),
    ],
)
def test_table_rows_totals_sums_and_rankings(
    matcher: Matcher, question: str, facts: list[str]
) -> None:
    decision = matcher.decide(question)
    assert decision.action is Action.ANSWER, decision
    for fact in facts:
        assert fact in decision.answer


def test_a_dash_is_none_listed_not_zero(matcher: Matcher) -> None:
    decision = matcher.decide("lgotp participants from laos in 2019")
    assert decision.action is Action.ANSWER
    assert "none listed" in decision.answer


# -- languages and messages ----------------------------------------------------------------
def test_japanese_question_answered_in_japanese_or_in_the_chosen_language(
    matcher: Matcher,
) -> None:
    japanese = matcher.decide("LGOTPの研修期間を教えてください")
    assert (japanese.action, japanese.entry_id, japanese.language) == (
        Action.ANSWER,
        "lgotp-duration",
        "ja",
    )
    assert "6-12か月" in japanese.answer
    english = matcher.decide("LGOTPの研修期間を教えてください", reply_language="en")
    assert "6-12 months" in english.answer


def test_a_long_message_is_answered_from_its_question(matcher: Matcher) -> None:
    message = (
        "Good afternoon. I work in the international affairs section of Cebu City and my "
        "director asked me to check how long the training lasts, as we need to plan staffing. "
        "Is it the full year?"
    )
    decision = matcher.decide(message)
    assert (decision.action, decision.entry_id) == (Action.ANSWER, "lgotp-duration")
    assert decision.question == message  # kept whole, to be stored whole if escalated


def test_a_later_part_inherits_what_the_first_names(matcher: Matcher) -> None:
    decision = matcher.decide("Indonesia in JET: how many CIRs, and how many SEAs?")
    assert decision.action is Action.ANSWER
    assert "CIR: 4" in decision.answer and "SEA: 2" in decision.answer


def test_threshold_boundaries(kb: KnowledgeBase) -> None:
    """The same question answers, clarifies or escalates as the thresholds pass its score."""
    question = "when do trainees arrive"
    score = Matcher(kb).decide(question).score
    settings = MatcherSettings(margin=0)
    answer = Matcher(kb, replace(settings, answer_threshold=score, clarify_threshold=score - 1))
    assert answer.decide(question).action is Action.ANSWER
    clarify = Matcher(
        kb, replace(settings, answer_threshold=score + 0.01, clarify_threshold=score)
    )
    assert clarify.decide(question).action is Action.CLARIFY
    escalate = Matcher(
        kb, replace(settings, answer_threshold=score + 2, clarify_threshold=score + 0.01)
    )
    assert escalate.decide(question).action is Action.ESCALATE


def test_answer_for_a_chosen_entry_keeps_the_question_context(matcher: Matcher) -> None:
    text = matcher.answer_for("lgotp-participants", "lgotp participants from laos")
    assert "Laos" in text and "Indonesia" not in text
    assert matcher.answer_for("lgotp-duration") == "The LGOTP training lasts 6-12 months."


def test_deterministic(matcher: Matcher) -> None:
    questions = ("lgotp", "jiam", "participants", "how long")
    assert [matcher.decide(q) for q in questions] == [matcher.decide(q) for q in questions]


def test_json_shape_has_the_reason_code(matcher: Matcher) -> None:
    data = matcher.decide("how long is lgotp and how much is the fee").to_json()
    assert {"question", "action", "code", "reason", "answer", "entry_ids", "forwarded"} <= set(
        data
    )
    assert data["code"] == "answered-part"
