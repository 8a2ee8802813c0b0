"""Answers from a seed table: a row, a column, a total, a sum, or which row has the most.

A question that names a country or year the table does not list gets no number: the caller
escalates it. Generated sentences only ever repeat cells of the table, or add cells of it up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.knowledge import Column, Row, Table


@dataclass(frozen=True)
class TableQuestion:
    """What a question asks of a table."""

    countries: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    columns: tuple[Column, ...] = ()  # non-year columns the question names ("CIR")
    before: bool = False  # "before 2019"
    most: bool = False  # which row has the most
    fewest: bool = False  # which row has the fewest
    total: bool = False  # a sum: "in total", "combined", "since 1995"


@dataclass(frozen=True)
class TableAnswer:
    """Either an answer text, or the reason no number may be given (then `text` is empty)."""

    text: str = ""
    refusal: str = ""


@dataclass(frozen=True)
class _Words:
    """How generated table sentences are put together in one language."""

    colon: str
    sep: str
    dash: str
    total: str
    paren: str
    none: str
    most: str
    fewest: str
    summed: str


_WORDS = {
    "en": _Words(
        ": ",
        ", ",
        " - ",
        "{value} {unit} in total",
        " ({})",
        "none listed",
        "Most: {rows} ({value})",
        "Fewest: {rows} ({value})",
        "Together: {value} {unit}",
    ),
    "ja": _Words(
        "：",
        "、",
        "：",
        "合計{value}{unit}",
        "（{}）",
        "記載なし",
        "最も多い：{rows}（{value}）",
        "最も少ない：{rows}（{value}）",
        "合計：{value}{unit}",
    ),
}


def _cell(value: int | None, words: _Words) -> str:
    return words.none if value is None else f"{value:,}"


def _year_columns(
    table: Table, years: tuple[int, ...], before: bool, total: bool
) -> tuple[list[Column], str]:
    """The columns a question's years point at, or a refusal when they point at none.

    With `before` ("before 2019"), a single year means the column that ends the year before;
    two years ("from 1996 to 2018") name a span; with `total`, a range of years that whole
    columns make up ("2022 to 2024 in total") names those columns, to be added up.
    """
    wanted = set(years)
    if before and len(wanted) == 1:
        (year,) = wanted
        for column in table.columns:
            if year - 1 in (column.year, column.to_year):
                return [column], ""
        return [], "the table cannot say what came before that year"
    for column in table.columns:
        if column.year is not None and wanted == {column.year}:
            return [column], ""
        if column.from_year is not None and wanted == {column.from_year, column.to_year}:
            return [column], ""
    if table.years and wanted <= table.years:
        return [], ""  # the whole table is about that year: no particular column
    first = min(c.from_year or c.year or 0 for c in table.columns if not c.total)
    if total and len(wanted) == 1 and min(wanted) <= first:
        return [], ""  # "since 1995": everything the table counts, i.e. its total
    if len(wanted) >= 2:
        low, high = min(wanted), max(wanted)
        inside = [
            c
            for c in table.columns
            if not c.total
            and low <= (c.from_year or c.year or 0) <= (c.to_year or c.year or 0) <= high
        ]
        covered = {
            y
            for c in inside
            for y in range(c.from_year or c.year or 0, (c.to_year or c.year or 0) + 1)
        }
        if (
            inside
            and (total or len(wanted) > 2 or len(inside) > 1)
            and (wanted <= covered and _contiguous(table, inside))
        ):
            return inside, ""
    for column in table.columns:
        if (
            column.from_year is not None
            and column.to_year is not None
            and all(column.from_year <= y <= column.to_year for y in wanted)
        ):
            return [], f"the table gives {column.label} only as one figure, not year by year"
    listed = ", ".join(str(y) for y in sorted(wanted))
    return [], f"the table has no figures for {listed}"


def _contiguous(table: Table, columns: Sequence[Column]) -> bool:
    """Whether the columns sit side by side in the table (a range, not a selection)."""
    positions = sorted(table.columns.index(c) for c in columns)
    return positions == list(range(positions[0], positions[-1] + 1))


def answer_from_table(
    table: Table,
    question: TableQuestion,
    row_countries: Mapping[str, frozenset[str]],
    language: str = "en",
) -> TableAnswer | None:
    """Answer from `table` for what the question names; None when it names nothing specific.

    `row_countries` gives, for each row key, the canonical country names it stands for.
    """
    rows: list[Row] = []
    for country in question.countries:
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
        if row not in rows:
            rows.append(row)
    columns = list(question.columns)
    if question.years:
        year_columns, refusal = _year_columns(
            table, question.years, question.before, question.total
        )
        if refusal:
            return TableAnswer(refusal=refusal)
        columns += [c for c in year_columns if c not in columns]
    words = _WORDS[language if language in _WORDS else "en"]
    if (question.most or question.fewest) and len(rows) != 1:
        return _extreme(table, rows, columns, question.most, language, words)
    if not rows and not columns:
        if not question.total:
            return None
        grand = _grand_total(table)
        if grand is None:
            return None
        line = words.summed.format(value=f"{grand:,}", unit=table.unit_in(language))
        return TableAnswer(text=_finish(table, [line], language, words))
    lines = _row_lines(table, rows, columns, language, words)
    year_span = [c for c in columns if c.year is not None or c.from_year is not None]
    if not rows and len(year_span) > 1 and question.total:
        lines.append(_sum_of_columns(table, year_span, language, words))
    elif len(rows) > 1 and question.total:
        lines.append(_sum_of_rows(table, rows, columns, language, words))
    elif len(rows) == 1 and len(year_span) > 1 and question.total:
        values = dict(zip(table.columns, rows[0].values, strict=True))
        value = sum(values[c] or 0 for c in year_span)
        lines.append(words.summed.format(value=f"{value:,}", unit=table.unit_in(language)))
    return TableAnswer(text=_finish(table, lines, language, words))


def _row_lines(
    table: Table, rows: list[Row], columns: list[Column], language: str, words: _Words
) -> list[str]:
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
    return lines


def _grand_total(table: Table) -> int | None:
    """The table's own grand total (total row, total column), if it prints one."""
    total_row = next((r for r in table.rows if r.total), None)
    total_index = next((i for i, c in enumerate(table.columns) if c.total), None)
    if total_row is None or total_index is None:
        return None
    return total_row.values[total_index]


def _sum_of_columns(table: Table, columns: list[Column], language: str, words: _Words) -> str:
    total_row = next((r for r in table.rows if r.total), None)
    indexes = [table.columns.index(c) for c in columns]
    if total_row is not None and all(total_row.values[i] is not None for i in indexes):
        value = sum(total_row.values[i] or 0 for i in indexes)
    else:
        value = sum(r.values[i] or 0 for r in table.rows if not r.total for i in indexes)
    return words.summed.format(value=f"{value:,}", unit=table.unit_in(language))


def _sum_of_rows(
    table: Table, rows: list[Row], columns: list[Column], language: str, words: _Words
) -> str:
    column = _measure(table, columns)
    index = table.columns.index(column)
    value = sum(r.values[index] or 0 for r in rows)
    return words.summed.format(value=f"{value:,}", unit=table.unit_in(language))


def _measure(table: Table, columns: list[Column]) -> Column:
    """The column a comparison or a sum reads: the one named, else the total column."""
    if len(columns) == 1:
        return columns[0]
    return next((c for c in table.columns if c.total), table.columns[-1])


def _extreme(
    table: Table,
    among: list[Row],
    columns: list[Column],
    most: bool,
    language: str,
    words: _Words,
) -> TableAnswer:
    """Which row has the most (or fewest), by the column named or the total."""
    if len(columns) > 1:
        return TableAnswer(refusal="the question compares more than one column")
    column = _measure(table, columns)
    index = table.columns.index(column)
    rows = [r for r in (among or table.rows) if not r.total and r.values[index] is not None]
    if not rows:
        return TableAnswer(refusal=f"the table lists no figures for {column.label}")
    pick = max if most else min
    value = pick(r.values[index] or 0 for r in rows)
    winners = [r for r in rows if (r.values[index] or 0) == value]
    names = words.sep.join(r.label_in(language) for r in winners)
    template = words.most if most else words.fewest
    line = template.format(rows=names, value=f"{value:,}")
    if not column.total:
        line = f"{column.label_in(language)}{words.colon}{line}"
    return TableAnswer(text=_finish(table, [line], language, words))


def _finish(table: Table, lines: list[str], language: str, words: _Words) -> str:
    text = f"{table.title_in(language)}{words.colon.strip()}\n" + "\n".join(lines)
    if table.note_in(language):
        text += f"\n{table.note_in(language)}"
    return text
