"""The knowledge base: the shipped one is valid, and every kind of mistake is reported clearly."""

import shutil
import textwrap
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge import SPECIAL_FILES, KnowledgeError, check_knowledge, load_knowledge

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def test_shipped_knowledge_base_is_valid() -> None:
    report = check_knowledge(KNOWLEDGE)
    assert report.errors == []
    kb = report.kb
    assert kb is not None
    assert len(kb.entries) >= 40
    assert {
        "lgotp-participants",
        "exchange-seminar-participants",
        "jet-participants-fy2024",
    } <= set(kb.tables)
    for entry in kb.entries.values():
        assert len(entry.questions) >= 5, entry.id
        assert entry.source in kb.sources


def test_contacts_are_copied_exactly_from_the_seeds() -> None:
    kb = load_knowledge(KNOWLEDGE)
    tokyo = kb.entries["contact-tokyo-division"].answer
    assert "+81-3-5213-1726" in tokyo and "+81-3-5213-1742" in tokyo
    singapore = kb.entries["contact-jclair-singapore"].answer
    for fact in (
        "1 Raffles Place",
        "#30-03",
        "048616",
        "6224-7927",
        "6224-8376",
        "info@clair.org.sg",
    ):
        assert fact in singapore
    online = kb.entries["contact-online"].answer
    assert "http://www.clair.org.sg" in online and "facebook.com/clairsg" in online


def test_kb_check_command_passes_on_shipped_knowledge(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "check"]) == 0
    assert "ok: " in capsys.readouterr().out


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A knowledge folder with the real special files and one small content file."""
    root = tmp_path / "knowledge"
    root.mkdir()
    for name in SPECIAL_FILES:
        shutil.copy(KNOWLEDGE / name, root / name)
    return root


GOOD = """\
entries:
  - id: alpha
    title: Alpha
    category: Contacts
    questions: [what is alpha, alpha please, tell me alpha, alpha info, about alpha]
    answer: Alpha is the first.
    related: [beta]
    source: our-activities-2025
    title_ja: アルファ
    questions_ja: [アルファとは, アルファについて, アルファの説明, アルファ情報, アルファ]
    answer_ja: アルファは最初です。
  - id: beta
    title: Beta
    category: Contacts
    questions: [what is beta, beta please, tell me beta, beta info, about beta]
    answer: Beta is the second.
    source: our-activities-2025
    title_ja: ベータ
    questions_ja: [ベータとは, ベータについて, ベータの説明, ベータ情報, ベータ]
    answer_ja: ベータは2番目です。
"""


def problems(root: Path, content: str) -> list[str]:
    (root / "area.yaml").write_text(textwrap.dedent(content))
    return [str(p) for p in check_knowledge(root).errors]


def test_a_good_file_has_no_errors(kb_dir: Path) -> None:
    assert problems(kb_dir, GOOD) == []


def test_missing_field_names_file_entry_and_line(kb_dir: Path) -> None:
    found = problems(kb_dir, GOOD.replace("    answer: Beta is the second.\n", ""))
    assert found == ["knowledge/area.yaml:12: error: entry 'beta': missing field 'answer'"]


def test_empty_answer(kb_dir: Path) -> None:
    found = problems(kb_dir, GOOD.replace("Beta is the second.", '""'))
    assert found == ["knowledge/area.yaml:16: error: entry 'beta': the answer is empty"]


def test_duplicate_id_points_at_the_first(kb_dir: Path) -> None:
    found = problems(kb_dir, GOOD.replace("id: beta", "id: alpha").replace("[beta]", "[]"))
    assert found == [
        "knowledge/area.yaml:12: error: entry 'alpha': duplicate id "
        "(first defined at knowledge/area.yaml:2)"
    ]


def test_related_id_that_does_not_exist(kb_dir: Path) -> None:
    found = problems(kb_dir, GOOD.replace("related: [beta]", "related: [gamma]"))
    assert found == [
        "knowledge/area.yaml:2: error: entry 'alpha': related id 'gamma' does not exist"
    ]


def test_same_question_under_two_entries(kb_dir: Path) -> None:
    found = problems(kb_dir, GOOD.replace("beta please", "'Alpha, please?'"))
    assert found == [
        "knowledge/area.yaml:15: error: entry 'beta': question 'Alpha, please?' is also under "
        "entry 'alpha' (knowledge/area.yaml:5)"
    ]


def test_unknown_source_and_unknown_field(kb_dir: Path) -> None:
    text = GOOD.replace(
        "source: our-activities-2025\n    title_ja: アルファ",
        "source: a-blog\n    title_ja: アルファ",
    )
    text = text.replace("    title: Beta\n", "    title: Beta\n    questons: [typo]\n")
    found = problems(kb_dir, text)
    assert any("entry 'alpha': source 'a-blog' is not in sources.yaml" in p for p in found)
    assert "knowledge/area.yaml:14: error: entry 'beta': unknown field 'questons'" in found


def test_yaml_syntax_error_gives_the_line(kb_dir: Path) -> None:
    found = problems(kb_dir, GOOD.replace("    title: Beta\n", "    title: [Beta\n"))
    assert len(found) == 1
    assert found[0].startswith("knowledge/area.yaml:1")
    assert "not valid YAML" in found[0]


def test_table_rows_must_match_columns(kb_dir: Path) -> None:
    text = GOOD.replace(
        "    source: our-activities-2025\n  - id: beta",
        "    source: our-activities-2025\n    table: t\n  - id: beta",
        1,
    )
    text += textwrap.dedent("""\
        tables:
          - id: t
            entry: alpha
            title: T
            unit: people
            columns: [{key: A}, {key: Total, total: true}]
            rows:
              - {key: Laos, values: [1, 1]}
              - {key: Total, total: true, values: [1]}
        """)
    found = problems(kb_dir, text)
    assert found == [
        "knowledge/area.yaml:29: error: table 't': row 'Total' has 1 values for 2 columns"
    ]


def test_load_refuses_invalid_knowledge_with_the_same_messages(kb_dir: Path) -> None:
    (kb_dir / "area.yaml").write_text(GOOD.replace("related: [beta]", "related: [gamma]"))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(kb_dir)
    assert "related id 'gamma' does not exist" in str(caught.value)


def test_kb_check_exits_non_zero_on_errors(
    kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (kb_dir / "area.yaml").write_text(GOOD.replace("related: [beta]", "related: [gamma]"))
    config = tmp_path / "config.yaml"
    config.write_text(f"knowledge:\n  path: {kb_dir}\n")
    assert main(["--config", str(config), "kb", "check"]) == 1
    out = capsys.readouterr().out
    assert "related id 'gamma' does not exist" in out
    assert "1 error(s)" in out


def test_missing_japanese_side(kb_dir: Path) -> None:
    found = problems(kb_dir, GOOD.replace("    answer_ja: ベータは2番目です。\n", ""))
    assert found == [
        "knowledge/area.yaml:12: error: entry 'beta': missing its Japanese side: answer_ja"
    ]


def test_missing_english_side(kb_dir: Path) -> None:
    english = "    questions: [what is beta, beta please, tell me beta, beta info, about beta]\n"
    found = problems(kb_dir, GOOD.replace(english, ""))
    assert found == ["knowledge/area.yaml:12: error: entry 'beta': missing field 'questions'"]


def test_numbers_must_match_between_languages(kb_dir: Path) -> None:
    found = problems(kb_dir, GOOD.replace("ベータは2番目です。", "ベータは3番目です。"))
    assert found == [
        "knowledge/area.yaml:20: error: entry 'beta': numbers differ between answer and "
        "answer_ja; only in English: 2; only in Japanese: 3"
    ]


def test_a_second_key_is_an_error_not_a_silent_replacement(kb_dir: Path) -> None:
    found = problems(kb_dir, GOOD.replace("    title: Beta\n", "    title: Beta\n    title: B\n"))
    assert found == [
        "knowledge/area.yaml:14: error: not valid YAML: duplicate key 'title' (first at line 13)"
    ]
    (kb_dir / "synonyms.yaml").write_text("phrases: {}\nphrases: {}\n")
    assert any(
        "synonyms.yaml:2" in p and "duplicate key 'phrases'" in p for p in problems(kb_dir, GOOD)
    )


def test_yes_and_no_must_be_quoted_where_text_is_expected(kb_dir: Path) -> None:
    found = problems(kb_dir, GOOD.replace("[what is alpha,", "[yes, what is alpha,"))
    assert found == [
        "knowledge/area.yaml:5: error: entry 'alpha': 'questions.0' must be text "
        "(quote yes, no, on, off as text)"
    ]


def test_facets_are_kinds_of_fact(kb_dir: Path) -> None:
    found = problems(
        kb_dir,
        GOOD.replace(
            "    category: Contacts\n", "    category: Contacts\n    facets: [date, colour]\n", 1
        ),
    )
    assert len(found) == 1
    assert found[0].startswith(
        "knowledge/area.yaml:5: error: entry 'alpha': 'facets.1' must be one of:"
    )


def test_word_lists_are_checked(kb_dir: Path) -> None:
    language = (kb_dir / "language.yaml").read_text()
    (kb_dir / "language.yaml").write_text(
        language.replace("  kinds:\n", "  kinds:\n    colour: [which colour]\n", 1)
    )
    found = problems(kb_dir, GOOD)
    assert len(found) == 1
    assert "language.yaml" in found[0] and "english.kinds.colour" in found[0]
