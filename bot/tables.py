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


def _cell(value: int | None) -> str:
    return "none listed" if value is None else f"{value:,}"


def _column_for_years(
    table: Table, years: tuple[int, ...], before: bool
) -> tuple[Column | None, str]:
    """The column a question's years point at, or a refusal when they point at none.

    With `before` ("before 2019"), a single year means the column that ends the year before.
    """
    wanted = set(years)
    if before:
        if len(wanted) == 1:
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
    total_index = next((i for i, c in enumerate(table.columns) if c.total), None)
    total_row = next((r for r in table.rows if r.total), None)
    lines: list[str] = []
    if rows and columns:
        for row in rows:
            cells = ", ".join(
                f"{c.label}: {_cell(row.values[table.columns.index(c)])}" for c in columns
            )
            if total_index is not None and len(columns) > 1:
                cells += f" ({_cell(row.values[total_index])} {table.unit} in total)"
            lines.append(f"{row.label} - {cells}")
    elif rows:
        for row in rows:
            lines.append(f"{row.label} - {_row_summary(table, row, total_index)}")
    else:
        for column in columns:
            lines.append(_column_summary(table, column, total_row))
    text = f"{table.title}:\n" + "\n".join(lines)
    if table.note:
        text += f"\n{table.note}"
    return TableAnswer(text=text)


def _row_summary(table: Table, row: Row, total_index: int | None) -> str:
    parts = [
        f"{c.label}: {_cell(v)}"
        for c, v in zip(table.columns, row.values, strict=True)
        if not c.total
    ]
    if total_index is None:
        return "; ".join(parts)
    return f"{_cell(row.values[total_index])} {table.unit} in total ({'; '.join(parts)})"


def _column_summary(table: Table, column: Column, total_row: Row | None) -> str:
    index = table.columns.index(column)
    listed = [
        f"{r.label} {_cell(r.values[index])}"
        for r in table.rows
        if not r.total and r.values[index] not in (None, 0)
    ]
    head = f"{column.label}"
    if total_row is not None:
        head += f": {_cell(total_row.values[index])} {table.unit} in total"
    if listed:
        head += f" ({', '.join(listed)})"
    return head
