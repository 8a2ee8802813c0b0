"""Normalisation: the same question, however it is typed, reaches the same form."""

from pathlib import Path

import pytest

from bot.english import is_real_word, stem
from bot.entities import Countries, find_years
from bot.knowledge import load_knowledge
from bot.matcher import Matcher
from bot.normalize import Normalizer, basic_normalize

KNOWLEDGE = Path(__file__).resolve().parent / "fixtures" / "matcher-knowledge"


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Matcher(load_knowledge(KNOWLEDGE)).analyser.normalizer


def test_case_unicode_and_punctuation_fold() -> None:
    assert basic_normalize("  What's  ＪＩＡＭ?!  ") == "what jiam"
    assert basic_normalize("CLAIR’s office, Singapore.") == "clair office singapore"
    assert basic_normalize("FY2024") == "fy 2024"


def test_long_names_fold_to_abbreviations(normalizer: Normalizer) -> None:
    assert normalizer.normalize("Japan Exchange and Teaching Programme") == "jet"
    assert normalizer.normalize("Local Government Officials Training Programme") == "lgotp"
    assert normalizer.normalize("Japan Intercultural Academy of Municipalities") == "jiam"
    assert normalizer.normalize("Coordinator for International Relations") == "cir"


def test_typos_are_corrected_but_real_words_are_not(normalizer: Normalizer) -> None:
    assert normalizer.normalize("phillipines") == "philippines"  # listed in synonyms.yaml
    assert normalizer.normalize("trainnees arival") == "trainees arrival"  # automatic
    # A real English word the knowledge base does not use stays what it is: "hours" is not
    # "tours", "famous" is not a typo; short words are left alone.
    assert normalizer.normalize("hours famous") == "hours famous"
    assert normalizer.normalize("wen") == "wen"


def test_stems_and_real_words() -> None:
    assert stem("arrival") == stem("arrive") == stem("arriving")
    assert stem("countries") == stem("country")
    assert is_real_word("famous") and is_real_word("hours")
    assert not is_real_word("trainning") and not is_real_word("asdfgh")


def test_countries_and_years_are_found_and_masked() -> None:
    countries = Countries({"filipinos": "Philippines", "lao pdr": "Laos", "viet nam": "Vietnam"})
    find_countries, mask = countries.find, countries.mask
    text = basic_normalize("How many Filipinos and Lao PDR trainees in FY2023 or '19?")
    assert find_countries(text) == ("Philippines", "Laos")
    assert find_years("How many in FY2023 or '19?") == (2023, 2019)
    assert mask(basic_normalize("jet participants from viet nam in 2024")) == (
        "jet participants from xcountry in xyear"
    )
    # "us" in "contact us" is not the United States.
    assert find_countries(basic_normalize("how can I contact us")) == ()
