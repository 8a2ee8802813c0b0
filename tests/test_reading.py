"""Stage 1, reading the message: the question parts of long, chatty and two-part messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Matcher
from bot.reading import Reader, clean, western_years

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "matcher-knowledge"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(FIXTURE)


@pytest.fixture(scope="module")
def reader(kb: KnowledgeBase) -> Reader:
    # The matcher's reader knows which words name a topic of the knowledge base.
    return Matcher(kb).reader


def test_clean_folds_full_width_and_drops_invisible_characters() -> None:
    assert clean("ＪＥＴ　２０２４年度") == "JET 2024年度"
    assert clean("zero\u200bwidth") == "zero width"
    assert clean("lone \ud800surrogate") == "lone surrogate"
    assert clean("tab\tand\x07bell") == "tab and bell"


def test_japanese_era_years_become_western_years() -> None:
    eras = {"令和": 2018, "平成": 1988}
    assert western_years("令和6年度のJET", eras) == "2024年度のJET"
    assert western_years("平成元年", eras) == "1989年"
    assert western_years("R5年度の参加者", eras) == "2023年度の参加者"
    assert clean("令和６年度", eras) == "2024年度"


def test_regional_particles_and_chat_phrasing_become_plain_english(reader: Reader) -> None:
    assert reader.plain_english("lgotp how long po") == "lgotp how long"
    assert reader.plain_english("govt trng can or not?") == "government training can?"


def test_a_long_message_is_read_down_to_its_question(reader: Reader) -> None:
    message = (
        "Good afternoon. I work in the international affairs section of Cebu City and my "
        "director asked me to check how long the training lasts, as we need to plan "
        "staffing. Is it the full year?"
    )
    reading = reader.read(message)
    # Parts come lower case and without punctuation; "Is it ...?" joins the part it is about.
    assert reading.parts == ("how long the training lasts is it the full year",)
    # Neither the greeting nor Cebu City (where the writer works) is part of the question.
    assert all("cebu" not in part.lower() for part in reading.parts)


def test_a_frame_around_the_question_is_peeled_off(reader: Reader) -> None:
    reading = reader.read("I would like to know when do trainees arrive")
    assert reading.parts == ("when do trainees arrive",)


def test_self_introductions_and_closings_are_dropped(reader: Reader) -> None:
    reading = reader.read("My name is Ana. When do trainees arrive? Best regards")
    assert reading.parts == ("when do trainees arrive",)
    assert "My name is Ana." in reading.dropped


def test_japanese_politeness_and_context_are_dropped(reader: Reader) -> None:
    message = (
        "お世話になっております。セブ市国際課の田中と申します。"
        "研修員の受入れを検討しております。研修員はいつ来日しますか。よろしくお願いいたします。"
    )
    reading = reader.read(message)
    assert reading.language == "ja"
    assert reading.parts == ("研修員はいつ来日しますか",)


def test_two_questions_in_one_sentence_become_two_parts(reader: Reader) -> None:
    reading = reader.read("how long is lgotp and how much is the fee")
    assert reading.parts == ("how long is lgotp", "how much is the fee")
    japanese = reader.read("JIAMのクラスは何人、研修は何か月ですか")
    assert japanese.parts == ("JIAMのクラスは何人", "研修は何か月ですか")


def test_a_part_without_a_topic_of_its_own_stays_with_its_neighbour(reader: Reader) -> None:
    # "and also" splits only where both sides name something.
    reading = reader.read("when do trainees arrive and also thanks")
    assert len(reading.parts) == 1


def test_a_message_of_politeness_only_has_no_question(reader: Reader) -> None:
    assert reader.read("Thank you. Best regards").parts == ()
