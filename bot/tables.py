"""Answers about one row, one column or one total of a seed table.

A question that names a country or year the table does not list gets no number: the
caller escalates it. Generated sentences only ever repeat cells of the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.knowledge import Column, Row, Table


@dataclass(frozen=True)
class TableAnswer:
    """Either an answer text, or the reason no number may be given (then `text` is empty)."""

    text: str = ""
    refusal: str = ""


def _cell(value: int | None, words: _Words) -> str:
    return words.none if value is None else f"{value:,}"


def _column_for_years(
    table: Table, years: tuple[int, ...], before: bool
) -> tuple[Column | None, str]:
    """The column a question's years point at, or a refusal when they point at none.

    With `before` ("before 2019"), a single year means the column that ends the year before;
    two years ("from 1996 to 2018") still name a span.
    """
    wanted = set(years)
    if before and len(wanted) == 1:
        (year,) = wanted
        for column in table.columns:
            if year - 1 in (column.year, column.to_year):
                return column, ""
        return None, "the table cannot say what came before that year"
    for column in table.columns:
        if column.year is not None and wanted == {column.year}:
            return column, ""
        if column.from_year is not None and wanted == {column.from_year, column.to_year}:
            return column, ""
    if table.years and wanted <= table.years:
        return None, ""  # the whole table is about that year: no particular column
    for column in table.columns:
        if (
            column.from_year is not None
            and column.to_year is not None
            and all(column.from_year <= y <= column.to_year for y in wanted)
        ):
            return None, (f"the table gives {column.label} only as one figure, not year by year")
    listed = ", ".join(str(y) for y in sorted(wanted))
    return None, f"the table has no figures for {listed}"


def answer_from_table(
    table: Table,
    countries: tuple[str, ...],
    years: tuple[int, ...],
    mentions_column: Callable[[Column], bool],
    row_countries: Mapping[str, frozenset[str]],
    before: bool = False,
    language: str = "en",
) -> TableAnswer | None:
    """Answer from `table` for what the question names; None when it names nothing specific.

    `mentions_column` tells whether the question names a (non-year) column such as "CIR";
    `row_countries` gives, for each row key, the canonical country names it stands for.
    """
    rows: list[Row] = []
    for country in countries:
        row = next(
            (
                r
                for r in table.rows
                if not r.total and country in row_countries.get(r.key, frozenset())
            ),
            None,
        )
        if row is None:
            return TableAnswer(refusal=f"{country} is not in the table '{table.title}'")
        rows.append(row)
    columns: list[Column] = [c for c in table.columns if not c.total and mentions_column(c)]
    if years:
        year_column, refusal = _column_for_years(table, years, before)
        if refusal:
            return TableAnswer(refusal=refusal)
        if year_column is not None and year_column not in columns:
            columns.append(year_column)
    if not rows and not columns:
        return None
    words = _WORDS[language if language in _WORDS else "en"]
    total_index = next((i for i, c in enumerate(table.columns) if c.total), None)
    total_row = next((r for r in table.rows if r.total), None)
    unit = table.unit_in(language)
    lines: list[str] = []
    for row in rows:
        values = dict(zip(table.columns, row.values, strict=True))
        shown = columns or [c for c in table.columns if not c.total]
        cells = words.sep.join(
            f"{c.label_in(language)}{words.colon}{_cell(values[c], words)}" for c in shown
        )
        total = _cell(row.values[total_index], words) if total_index is not None else None
        if columns and (total is None or len(columns) == 1):
            lines.append(f"{row.label_in(language)}{words.dash}{cells}")
        elif total is not None:
            lines.append(
                f"{row.label_in(language)}{words.dash}"
                + words.total.format(value=total, unit=unit)
                + words.paren.format(cells)
            )
        else:
            lines.append(f"{row.label_in(language)}{words.dash}{cells}")
    if not rows:
        for column in columns:
            index = table.columns.index(column)
            line = column.label_in(language)
            if total_row is not None:
                total = _cell(total_row.values[index], words)
                line += words.colon + words.total.format(value=total, unit=unit)
            listed = [
                f"{r.label_in(language)} {_cell(r.values[index], words)}"
                for r in table.rows
                if not r.total and r.values[index] not in (None, 0)
            ]
            if listed:
                line += words.paren.format(words.sep.join(listed))
            lines.append(line)
    text = f"{table.title_in(language)}{words.colon.strip()}\n" + "\n".join(lines)
    if table.note_in(language):
        text += f"\n{table.note_in(language)}"
    return TableAnswer(text=text)


@dataclass(frozen=True)
class _Words:
    """How generated table sentences are put together in one language."""

    colon: str
    sep: str
    dash: str
    total: str
    paren: str
    none: str


_WORDS = {
    "en": _Words(": ", ", ", " - ", "{value} {unit} in total", " ({})", "none listed"),
    "ja": _Words("：", "、", "：", "合計{value}{unit}", "（{}）", "記載なし"),
}
