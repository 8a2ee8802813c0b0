"""The /stats chart: a PNG of the expected size whose Japanese labels render as glyphs.

matplotlib warns "Glyph ... missing from font(s)" for every character its font lacks (and
draws a box); with the bundled IPAexGothic no Japanese label may warn. The control draws the
same labels in DejaVu Sans alone, which must warn, so the check can fail.
"""

from __future__ import annotations

import io
import warnings
from datetime import date, timedelta

from fontTools.ttLib import TTFont

from bot import chart, stafftexts
from bot.storage.records import Day, State, Stats


def figures() -> Stats:
    first = date(2026, 11, 1)
    series = [
        Day(first + timedelta(days=n), n % 5, n % 3, n % 4, (n % 6) * 0.5 if n % 2 else None)
        for n in range(30)
    ]
    return Stats(
        open=2,
        by_state={State.NEW: 2},
        answered_today=1,
        answered_this_week=3,
        first_reply_median_h=1.5,
        first_reply_p90_h=4.0,
        ratings={5: 2, 3: 1},
        ratings_asked=4,
        answered_by_bot=60,
        escalated=30,
        series=series,
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def missing_glyphs(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_the_japanese_chart_is_a_png_of_the_expected_size_with_every_glyph() -> None:
    # (The English chart's size is checked end to end, by /stats in test_helpdesk_e2e.)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = chart.render(figures(), stafftexts.JA)
    assert png_size(image) == (chart.WIDTH_PX, chart.HEIGHT_PX) == (1200, 800)
    assert missing_glyphs(caught) == []


def test_the_bundled_font_has_every_japanese_label_character() -> None:
    font = TTFont(chart.font_path(), lazy=True)
    covered = set(font.getBestCmap())
    labels = "".join(stafftexts.JA.chart.values())
    assert {c for c in labels if ord(c) not in covered and not c.isspace()} == set()


def test_the_control_without_the_japanese_font_does_warn() -> None:
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    chart.font_path()
    with (
        warnings.catch_warnings(record=True) as caught,
        rc_context({"font.family": "DejaVu Sans"}),
    ):
        warnings.simplefilter("always")
        figure = Figure()
        figure.subplots().set_title(stafftexts.JA.chart["title"])
        figure.savefig(io.BytesIO(), format="png")
    assert missing_glyphs(caught)
