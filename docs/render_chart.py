"""Render the README's picture of the /stats chart: `python docs/render_chart.py [OUT.png]`.

The figures are made up (a fixed seed; busier on office days, as the real ones are) and the
labels are the staff language's default, Japanese; the drawing is exactly what /stats sends.
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path

from bot import chart, stafftexts
from bot.storage.records import Day, State, Stats

OUT = Path(__file__).resolve().parent / "stats-chart.png"


def sample(days: int = 30, seed: int = 13) -> Stats:
    """Thirty plausible days ending on a Friday."""
    rng = random.Random(seed)
    last = date(2026, 11, 27)
    series = []
    for offset in range(days):
        day = last - timedelta(days=days - 1 - offset)
        office = day.weekday() < 5
        answered = rng.randint(14, 30) if office else rng.randint(2, 8)
        escalated = rng.randint(3, 9) if office else rng.randint(0, 3)
        resolved = rng.randint(2, 8) if office else 0
        median = round(rng.uniform(0.4, 3.5), 1) if office else None
        series.append(Day(day, answered, escalated, resolved, median))
    return Stats(
        open=7,
        by_state={State.NEW: 3, State.CLAIMED: 2, State.PENDING: 2},
        answered_today=5,
        answered_this_week=21,
        first_reply_median_h=1.6,
        first_reply_p90_h=4.2,
        ratings={5: 14, 4: 6, 3: 2, 2: 1},
        ratings_asked=31,
        answered_by_bot=sum(d.answered_by_bot for d in series),
        escalated=sum(d.escalated for d in series),
        series=series,
        days=days,
    )


def main() -> None:
    """Write the PNG."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.write_bytes(chart.render(sample(), stafftexts.JA))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
