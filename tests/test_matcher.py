"""The matcher's decisions on the shipped knowledge base: answer, clarify, escalate, small talk."""

from dataclasses import replace
from pathlib import Path

import pytest

from bot.decision import Action, MatcherSettings
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Matcher

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)


def test_answers_a_known_question_with_its_facts(matcher: Matcher) -> None:
    decision = matcher.decide("When do LGOTP trainees arrive in Japan?")
    assert decision.action is Action.ANSWER
    assert decision.entry_id == "lgotp-arrival"
    assert "mid-May" in decision.answer


def test_misspelt_short_question_still_answered(matcher: Matcher) -> None:
    decision = matcher.decide("jiam clases how many ppl")
    assert decision.action is Action.ANSWER
    assert decision.entry_id == "lgotp-jiam-training"
    assert "6-8" in decision.answer


@pytest.mark.parametrize(
    ("question", "facts"),
    [
        ("How many JET participants came from the Philippines?", ["339", "334", "5"]),
        ("how many CIRs from vietnam in jet", ["28"]),
        ("how many SEAs are on jet", ["2"]),
        ("how many indonesian lgotp trainees in 2019", ["2"]),
        ("lgotp participants from indonesia before 2019", ["54"]),
        ("exchange seminar participants from thailand", ["42"]),
        ("how many people joined the exchange and cooperation seminar in 2024", ["11"]),
    ],
)
def test_table_rows_columns_and_totals(matcher: Matcher, question: str, facts: list[str]) -> None:
    decision = matcher.decide(question)
    assert decision.action is Action.ANSWER, decision
    for fact in facts:
        assert fact in decision.answer


@pytest.mark.parametrize(
    "question",
    [
        "How many JET participants came from Brunei?",  # country not in the JET table
        "how many lgotp trainees came from japan",
        "lgotp participants in 2020",  # a year with no column
        "how many lgotp trainees from thailand in 2010",  # inside a span given as one figure
        "jet participants from singapore in 2023",  # the JET table is FY2024 only
    ],
)
def test_no_number_for_a_country_or_year_the_table_lacks(matcher: Matcher, question: str) -> None:
    decision = matcher.decide(question)
    assert decision.action is Action.ESCALATE, decision
    assert decision.answer == ""


@pytest.mark.parametrize(
    "question",
    [
        "what is the application deadline for lgotp",
        "how much is the monthly allowance for trainees",
        "do i need a visa for the jiam training",
        "am i eligible for the jet programme",
        "where will trainees stay, is accommodation provided",
        "what is the email address of the tokyo division",
        "what is the weather like in tokyo in may",
    ],
)
def test_what_the_seeds_do_not_say_is_escalated(matcher: Matcher, question: str) -> None:
    assert matcher.decide(question).action is Action.ESCALATE


@pytest.mark.parametrize(
    ("message", "intent_word"),
    [("hi", "Hello"), ("Thank you so much!", "welcome"), ("bye", "Goodbye"), ("?!", "Please")],
)
def test_smalltalk_is_never_escalated(matcher: Matcher, message: str, intent_word: str) -> None:
    decision = matcher.decide(message)
    assert decision.action is Action.SMALLTALK
    assert intent_word in decision.answer


def test_greeting_around_a_question_is_peeled_off(matcher: Matcher) -> None:
    decision = matcher.decide("Hello! when do trainees arrive in japan? thanks")
    assert decision.action is Action.ANSWER
    assert decision.entry_id == "lgotp-arrival"


def test_ambiguous_question_offers_up_to_three_choices(matcher: Matcher) -> None:
    decision = matcher.decide("fax")
    assert decision.action is Action.CLARIFY
    ids = [s.entry_id for s in decision.suggestions]
    assert "contact-tokyo-division" in ids and "contact-jclair-singapore" in ids
    assert len(ids) <= 3


def test_threshold_boundaries(kb: KnowledgeBase) -> None:
    """The same question answers, clarifies or escalates as the thresholds move past its score."""
    question = "what do trainees do at the host local government"
    base = Matcher(kb)
    top = base.rank(question)[0]
    assert top.entry_id == "lgotp-specialised-training"
    score = top.score
    settings = MatcherSettings(margin=0)

    answer = Matcher(kb, replace(settings, answer_threshold=score, clarify_threshold=score - 1))
    assert answer.decide(question).action is Action.ANSWER

    clarify = Matcher(
        kb, replace(settings, answer_threshold=score + 0.01, clarify_threshold=score)
    )
    decision = clarify.decide(question)
    assert decision.action is Action.CLARIFY
    assert decision.suggestions[0].entry_id == "lgotp-specialised-training"

    escalate = Matcher(
        kb, replace(settings, answer_threshold=score + 2, clarify_threshold=score + 0.01)
    )
    assert escalate.decide(question).action is Action.ESCALATE


def test_margin_turns_a_close_call_into_a_clarification(kb: KnowledgeBase) -> None:
    question = "what is jiam training"
    ranked = Matcher(kb).rank(question)
    gap = ranked[0].score - ranked[1].score
    wide = Matcher(kb, MatcherSettings(margin=gap + 0.01))
    assert wide.decide(question).action is Action.CLARIFY
    narrow = Matcher(kb, MatcherSettings(margin=max(gap - 0.01, 0)))
    assert narrow.decide(question).action is Action.ANSWER


def test_deterministic(matcher: Matcher) -> None:
    first = [matcher.decide(q) for q in ("jet", "clair", "sister cities", "jiam")]
    second = [matcher.decide(q) for q in ("jet", "clair", "sister cities", "jiam")]
    assert first == second


def test_very_long_question_is_matched_on_its_start(matcher: Matcher) -> None:
    limit = matcher.settings.max_question_chars
    text = "When do LGOTP trainees arrive in Japan? " * 125  # 5,000 characters
    decision = matcher.decide(text)
    assert decision.question == text  # kept whole, to be stored whole if escalated
    start = matcher.decide(text[:limit])
    assert (decision.action, decision.entry_id) == (start.action, start.entry_id)


def test_json_shape(matcher: Matcher) -> None:
    data = matcher.decide("fax").to_json()
    assert {"question", "action", "entry_id", "title", "score", "answer", "suggestions"} <= set(
        data
    )
    assert {"entry_id", "title", "score"} == set(data["suggestions"][0])
