"""Normalisation: the same question, however it is typed, reaches the same form."""

from pathlib import Path

import pytest

from bot.entities import find_countries, find_years, mask
from bot.knowledge import load_knowledge
from bot.normalize import Normalizer, basic_normalize, content_terms, stem

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    from bot.matcher import Matcher

    return Matcher(load_knowledge(KNOWLEDGE)).normalizer


def test_case_unicode_and_punctuation_fold() -> None:
    assert basic_normalize("  What's  ＪＩＡＭ?!  ") == "what jiam"
    assert basic_normalize("CLAIR’s office, Singapore.") == "clair office singapore"
    assert basic_normalize("FY2024") == "fy 2024"


def test_long_names_fold_to_abbreviations(normalizer: Normalizer) -> None:
    assert normalizer.normalize("Japan Exchange and Teaching Programme") == "jet"
    assert normalizer.normalize("Local Government Officials Training Program") == "lgotp"
    assert normalizer.normalize("Japan Intercultural Academy of Municipalities") == "jiam"
    assert normalizer.normalize("Coordinator for International Relations") == "cir"
    assert normalizer.normalize("ministry of internal affairs and communications") == "mic"


def test_listed_and_automatic_typo_correction(normalizer: Normalizer) -> None:
    assert normalizer.normalize("phillipines") == "philippines"
    assert normalizer.normalize("trainning orientaion") == "training orientation"
    # Automatic: an unknown word close to a known one, same first letter.
    assert normalizer.normalize("schedual") == "schedule"
    # Known words are never "corrected", and short words are left alone.
    assert normalizer.normalize("name of the director") == "name of the director"
    assert normalizer.normalize("wen") == "wen"


def test_content_terms_drop_function_words_and_plurals() -> None:
    assert content_terms("how many classes are there at jiam") == ["how", "many", "class", "jiam"]
    assert stem("countries") == "country"
    assert stem("class") == "class"


def test_countries_and_years_are_found_and_masked() -> None:
    text = basic_normalize("How many Filipinos and Lao PDR trainees in FY2023 or '19?")
    assert find_countries(text) == ("Philippines", "Laos")
    assert find_years("How many in FY2023 or '19?") == (2023, 2019)
    assert mask(basic_normalize("jet participants from viet nam in 2024")) == (
        "jet participants from xcountry in xyear"
    )
    # "us" in "contact us" is not the United States.
    assert find_countries(basic_normalize("how can I contact us")) == ()
