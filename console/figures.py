"""The /stats figures as interactive charts over a chosen period.

The page carries the figures as JSON (a data block, not a script), and console/static/
figures.js draws them with Chart.js, served from console/static/vendor: questions answered by
the bot and escalated a day, the first-reply time in office hours, satisfaction, and the most
frequent unanswered topics. Choosing another period fetches /figures/data without a reload.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import stafftexts
from bot.consoleauth import Session
from bot.inbound import number
from bot.storage.records import Stats
from console.web import console_of, language_of, render, staff_page

#: The periods staff may choose, in days; the first is the default.
PERIODS = (30, 7, 90, 365)


def data(figures: Stats, language: str) -> dict[str, object]:
    """The figures as the charts take them, with their labels in `language`."""
    words = stafftexts.get(language)
    no_entry = words.stats["no_entry"]
    share = figures.bot_share
    return {
        "days": figures.days,
        "dates": [f"{d.day.month}/{d.day.day}" for d in figures.series],
        "answered_by_bot": [d.answered_by_bot for d in figures.series],
        "escalated": [d.escalated for d in figures.series],
        "resolved": [d.resolved for d in figures.series],
        "median_first_reply": [
            None if d.median_first_reply_h is None else round(d.median_first_reply_h, 2)
            for d in figures.series
        ],
        "ratings": [figures.ratings.get(score, 0) for score in range(1, 6)],
        "rating_average": figures.rating_average,
        "ratings_asked": figures.ratings_asked,
        "topics": [[title or no_entry, count] for title, count in figures.unanswered_topics],
        "open": figures.open,
        "by_state": {state.value: n for state, n in figures.by_state.items()},
        "first_reply_median": figures.first_reply_median_h,
        "first_reply_p90": figures.first_reply_p90_h,
        "bot_share": share,
        "bot_total": figures.answered_by_bot,
        "answered_total": figures.answered_by_bot + figures.escalated,
        "labels": words.chart,
        "states": {state.value: name for state, name in words.states.items()},
    }


def _days(request: Request) -> int:
    days = number(request.query_params.get("days", ""))
    return days if days in PERIODS else PERIODS[0]


async def page(request: Request, session: Session) -> Response:
    """The figures page, drawn in the browser from the data it carries."""
    console = console_of(request)
    language = await language_of(console, session)
    days = _days(request)
    figures = await console.services.maintenance.stats(days=days)
    return await render(
        request,
        session,
        "figures.html",
        days=days,
        periods=sorted(PERIODS),
        figures=data(figures, language),
    )


async def figures_data(request: Request, session: Session) -> Response:
    """The figures of another period, for the charts to redraw."""
    console = console_of(request)
    language = await language_of(console, session)
    figures = await console.services.maintenance.stats(days=_days(request))
    return JSONResponse(data(figures, language))


ROUTES = [
    Route("/figures", staff_page(page)),
    Route("/figures/data", staff_page(figures_data)),
]
