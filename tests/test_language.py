"""Japanese as well as English: detecting the language, and matching Japanese questions."""

from pathlib import Path

import pytest

from bot.decision import Action
from bot.knowledge import load_knowledge
from bot.language import detect_language, fold_japanese, japanese_terms
from bot.matcher import Matcher

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_knowledge(KNOWLEDGE))


@pytest.mark.parametrize(
    ("text", "hint", "language"),
    [
        ("研修員はいつ来日しますか", None, "ja"),  # kana: Japanese whatever the hint
        ("研修員はいつ来日しますか", "en", "ja"),
        ("姉妹都市", "ja", "ja"),  # kanji alone: the user's language decides
        ("姉妹都市", "zh-hans", "en"),  # ...and may be Chinese, which we do not answer in
        ("JET", "ja", "ja"),  # short Latin text from a Japanese user
        ("JET", "en", "en"),
        ("What is the JET Programme?", "ja", "en"),  # a real English sentence stays English
    ],
)
def test_detect_language(text: str, hint: str | None, language: str) -> None:
    assert detect_language(text, hint) == language


def test_japanese_names_fold_to_the_same_short_forms_as_english(matcher: Matcher) -> None:
    phrases = matcher.kb.lexicon.phrases_ja
    question = "語学指導等を行う外国青年招致事業について教えてください"
    assert fold_japanese(question, phrases) == "jet"
    assert fold_japanese("全国市町村国際文化研修所", phrases) == "jiam"
    assert "cir" in fold_japanese("国際交流員の仕事", phrases).split()


def test_japanese_terms_are_latin_words_and_two_character_pieces() -> None:
    assert japanese_terms("jet の参加者") == ["jet", "の参", "参加", "加者"]
    assert japanese_terms("jet の fax") == ["jet", "fax"]  # a lone particle is dropped


def test_japanese_question_answered_in_japanese(matcher: Matcher) -> None:
    decision = matcher.decide("研修員はいつ日本に到着しますか")
    assert decision.action is Action.ANSWER
    assert decision.language == "ja"
    assert decision.entry_id == "lgotp-arrival"
    assert "5月" in decision.answer


def test_japanese_table_question(matcher: Matcher) -> None:
    decision = matcher.decide("フィリピンからのJET参加者は何人ですか")
    assert decision.action is Action.ANSWER
    assert decision.entry_id == "jet-participants"
    assert "339" in decision.answer and "334" in decision.answer
    assert "フィリピン" in decision.answer


def test_japanese_unanswerable_is_escalated(matcher: Matcher) -> None:
    for question in ("LGOTPの応募締め切りはいつですか", "研修員の宿舎は用意されますか"):
        assert matcher.decide(question).action is Action.ESCALATE, question


def test_japanese_smalltalk(matcher: Matcher) -> None:
    decision = matcher.decide("ありがとうございます")
    assert decision.action is Action.SMALLTALK
    assert decision.language == "ja"
    assert decision.answer != matcher.decide("thanks").answer


def test_reply_language_can_differ_from_the_question(matcher: Matcher) -> None:
    decision = matcher.decide("When do trainees arrive in Japan?", reply_language="ja")
    assert decision.entry_id == "lgotp-arrival"
    assert decision.language == "ja" and "5月" in decision.answer


def test_language_of_a_json_decision(matcher: Matcher) -> None:
    assert matcher.decide("JIAMとは").to_json()["language"] == "ja"
    assert matcher.decide("what is jiam").to_json()["language"] == "en"


def test_kanji_for_japanese_language_is_not_the_country(matcher: Matcher) -> None:
    decision = matcher.decide("JIAMの日本語クラスは何人ですか")
    assert decision.action is Action.ANSWER
    assert decision.entry_id == "lgotp-jiam-training"
