"""The /stats chart: the last 30 days as a PNG, drawn with matplotlib.

Top: questions answered by the bot, escalated to staff and resolved, a day. Bottom: the median
time to a first staff reply (office hours) of the enquiries first answered that day. Labels
come from bot.stafftexts in the staff language; Japanese is set in IPAexGothic, which the
matplotlib-fontja package installs from PyPI with the bot (no system font is needed).
"""

from __future__ import annotations

import io
from functools import cache

from bot.stafftexts import StaffTexts
from bot.storage.records import Stats

WIDTH_PX = 1200
HEIGHT_PX = 800
DPI = 100
#: The family that renders both Latin and Japanese labels.
FONT_FAMILY = "IPAexGothic"


@cache
def font_path() -> str:
    """Register the bundled Japanese font with matplotlib once; return its file."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib_fontja import get_font_ttf_path

    path: str = get_font_ttf_path()
    font_manager.fontManager.addfont(path)
    return path


def render(figures: Stats, words: StaffTexts) -> bytes:
    """The chart of `figures.series` as PNG bytes, WIDTH_PX x HEIGHT_PX."""
    font_path()
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    labels = words.chart
    series = figures.series
    days = [d.day for d in series]
    positions = list(range(len(series)))
    with rc_context({"font.family": FONT_FAMILY, "axes.unicode_minus": False}):
        figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
        counts, waits = figure.subplots(2, 1, sharex=True, height_ratios=(2, 1))
        width = 0.28
        counts.bar(
            [p - width for p in positions],
            [d.answered_by_bot for d in series],
            width,
            label=labels["answered_by_bot"],
            color="#4C78A8",
        )
        counts.bar(
            positions,
            [d.escalated for d in series],
            width,
            label=labels["escalated"],
            color="#F58518",
        )
        counts.bar(
            [p + width for p in positions],
            [d.resolved for d in series],
            width,
            label=labels["resolved"],
            color="#54A24B",
        )
        counts.set_title(labels["title"].format(days=figures.days))
        counts.set_ylabel(labels["questions"])
        counts.legend(loc="upper left")
        counts.yaxis.get_major_locator().set_params(integer=True)
        medians = [d.median_first_reply_h for d in series]
        points = [(p, m) for p, m in zip(positions, medians, strict=True) if m is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            waits.plot(xs, ys, marker="o", color="#B279A2", label=labels["median"])
        waits.set_xlim(-0.6, len(series) - 0.4)
        waits.set_ylim(bottom=0)
        waits.set_ylabel(labels["hours"])
        waits.set_title(labels["median"], fontsize="medium")
        waits.set_xlabel(labels["date"])
        step = max(1, len(series) // 10)
        waits.set_xticks(positions[::step], [f"{d.month}/{d.day}" for d in days[::step]])
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
