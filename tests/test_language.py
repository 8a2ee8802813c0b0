"""Japanese as well as English: detecting the language, Japanese words, Japanese questions.

On the fixture knowledge base (tests/fixtures/matcher-knowledge): content edits cannot break it.
"""

from pathlib import Path

import pytest

from bot.decision import Action
from bot.japanese import content_words, names_a_thing
from bot.knowledge import load_knowledge
from bot.language import detect_language, fold_japanese
from bot.matcher import Matcher

KNOWLEDGE = Path(__file__).resolve().parent / "fixtures" / "matcher-knowledge"


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
    frames = matcher.kb.language.japanese.frames
    question = "自治体職員協力交流事業を教えてください"
    assert fold_japanese(question, phrases, frames) == "lgotp"
    assert "trainee" in fold_japanese("研修生の人数", phrases).split()


def test_japanese_content_words_are_normalised_forms() -> None:
    assert content_words("東京オリエンテーションって難しかったですか") == [
        "東京",
        "オリエンテーション",
        "難しい",
    ]
    assert names_a_thing("病院") and names_a_thing("ビザ") and not names_a_thing("訪れる")
    assert not names_a_thing("けんしゅう")  # kana alone: maybe a word spelt out


def test_japanese_question_answered_in_japanese(matcher: Matcher) -> None:
    decision = matcher.decide("研修員はいつ来日しますか")
    assert decision.action is Action.ANSWER
    assert decision.language == "ja"
    assert decision.entry_id == "lgotp-arrival"
    assert "5月" in decision.answer


def test_japanese_table_question(matcher: Matcher) -> None:
    decision = matcher.decide("フィリピンからのLGOTP参加者は何人ですか")
    assert decision.action is Action.ANSWER
    assert decision.entry_id == "lgotp-participants"
    assert "46" in decision.answer and "フィリピン" in decision.answer


def test_japanese_era_year_and_full_width_digits(matcher: Matcher) -> None:
    # 令和５年度 is FY2023: the JET table is FY2024 only, so no number is given.
    decision = matcher.decide("令和５年度のインドネシアのJET参加者は何人ですか")
    assert decision.action is Action.ESCALATE
    assert decision.answer == ""


def test_japanese_unanswerable_is_escalated(matcher: Matcher) -> None:
    for question in ("LGOTPの費用はいくらですか", "研修員のビザについて教えてください"):
        assert matcher.decide(question).action is Action.ESCALATE, question


def test_japanese_smalltalk(matcher: Matcher) -> None:
    decision = matcher.decide("ありがとうございます")
    assert decision.action is Action.SMALLTALK
    assert decision.language == "ja"
    assert decision.answer != matcher.decide("thanks").answer


def test_reply_language_can_differ_from_the_question(matcher: Matcher) -> None:
    decision = matcher.decide("When do trainees arrive?", reply_language="ja")
    assert decision.entry_id == "lgotp-arrival"
    assert decision.language == "ja" and "5月" in decision.answer


def test_language_of_a_json_decision(matcher: Matcher) -> None:
    assert matcher.decide("JIAMとは").to_json()["language"] == "ja"
    assert matcher.decide("what is jiam").to_json()["language"] == "en"
