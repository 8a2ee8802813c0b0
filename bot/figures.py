"""The figures behind /stats and its chart, computed from plain values (no store, no clock).

Days are the office's days (staff.timezone); times to a first reply count office hours only,
so an enquiry sent on Friday evening and answered on Monday morning waited minutes, not days.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from bot.storage.records import Day, Enquiry, State, Stats
from bot.workhours import OfficeHours

DAYS = 30
TOP_TOPICS = 10


def percentile(values: Sequence[float], share: float) -> float | None:
    """The `share` (0-1) percentile of `values`, interpolated between ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def office_day(moment: datetime, hours: OfficeHours) -> date:
    """The office's calendar day of a moment."""
    return moment.astimezone(hours.timezone).date()


def compute(
    enquiries: Iterable[Enquiry],
    answered_by_bot: Mapping[date, int],
    ratings: Mapping[int, int],
    ratings_asked: int,
    by_state: Mapping[State, int],
    now: datetime,
    hours: OfficeHours,
    days: int = DAYS,
) -> Stats:
    """Every figure of /stats over the last `days` days (today included)."""
    today = office_day(now, hours)
    first = today - timedelta(days=days - 1)
    week_start = today - timedelta(days=today.weekday())
    escalated: Counter[date] = Counter()
    resolved: Counter[date] = Counter()
    waits: dict[date, list[float]] = {}
    topics: Counter[str] = Counter()
    recent_waits: list[float] = []
    answered_today = answered_week = 0
    for enquiry in enquiries:
        created = office_day(enquiry.created_at, hours)
        if created >= first:
            escalated[created] += 1
            top = enquiry.candidates[0].title if enquiry.candidates else ""
            topics[top] += 1
        if enquiry.resolved_at is not None and enquiry.state is State.RESOLVED:
            resolved[office_day(enquiry.resolved_at, hours)] += 1
        if enquiry.first_reply_at is not None:
            replied = office_day(enquiry.first_reply_at, hours)
            answered_today += replied == today
            answered_week += replied >= week_start
            if replied >= first:
                wait = hours.between(enquiry.created_at, enquiry.first_reply_at)
                waits.setdefault(replied, []).append(wait)
                recent_waits.append(wait)
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        series.append(
            Day(
                day=day,
                answered_by_bot=answered_by_bot.get(day, 0),
                escalated=escalated[day],
                resolved=resolved[day],
                median_first_reply_h=percentile(waits.get(day, []), 0.5),
            )
        )
    bot_total = sum(n for day, n in answered_by_bot.items() if first <= day <= today)
    ranked = sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TOPICS]
    open_count = sum(n for state, n in by_state.items() if state is not State.RESOLVED)
    return Stats(
        open=open_count,
        by_state=dict(by_state),
        answered_today=answered_today,
        answered_this_week=answered_week,
        first_reply_median_h=percentile(recent_waits, 0.5),
        first_reply_p90_h=percentile(recent_waits, 0.9),
        ratings=dict(ratings),
        ratings_asked=ratings_asked,
        answered_by_bot=bot_total,
        escalated=sum(escalated.values()),
        unanswered_topics=ranked,
        series=series,
        days=days,
    )
