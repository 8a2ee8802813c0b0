"""Office hours arithmetic: when a reply can be expected, and how long an enquiry has waited.

Staff work on office days between two clock times in one time zone; an enquiry sent on
Friday evening has not waited over the weekend. Pure functions, easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class OfficeHours:
    """When staff are at work."""

    timezone: ZoneInfo
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time

    @classmethod
    def parse(cls, timezone: str, days: tuple[str, ...], start: str, end: str) -> OfficeHours:
        """Build from settings strings; raises ValueError naming what is wrong."""
        try:
            zone = ZoneInfo(timezone)
        except Exception as exc:  # ZoneInfoNotFoundError or a malformed key
            raise ValueError(f"unknown time zone {timezone!r}") from exc
        indexes: set[int] = set()
        for day in days:
            key = day.strip().lower()[:3]
            if key not in DAY_NAMES:
                raise ValueError(f"unknown day {day!r} (use mon, tue, ...)")
            indexes.add(DAY_NAMES.index(key))
        if not indexes:
            raise ValueError("at least one office day is needed")
        opening, closing = _clock(start), _clock(end)
        if closing <= opening:
            raise ValueError(f"office hours end ({end}) must be after they start ({start})")
        return cls(zone, frozenset(indexes), opening, closing)

    def _windows(self, moment: datetime) -> list[tuple[datetime, datetime]]:
        """Office periods from the day of `moment` on (a generous two weeks of them)."""
        local = moment.astimezone(self.timezone)
        windows: list[tuple[datetime, datetime]] = []
        day = local.date()
        for offset in range(15):
            current = day + timedelta(days=offset)
            if current.weekday() in self.days:
                windows.append(
                    (
                        datetime.combine(current, self.start, self.timezone),
                        datetime.combine(current, self.end, self.timezone),
                    )
                )
        return windows

    def add(self, moment: datetime, hours: float) -> datetime:
        """The moment `hours` working hours after `moment`."""
        remaining = timedelta(hours=hours)
        cursor = moment
        while True:
            for opening, closing in self._windows(cursor):
                begin = max(opening, cursor)
                if begin >= closing:
                    continue
                if begin + remaining <= closing:
                    return begin + remaining
                remaining -= closing - begin
                cursor = closing
            cursor = cursor + timedelta(seconds=1)

    def between(self, start: datetime, end: datetime) -> float:
        """Working hours elapsed from `start` to `end`."""
        if end <= start:
            return 0.0
        total = timedelta()
        cursor = start
        while cursor < end:
            windows = self._windows(cursor)
            for opening, closing in windows:
                begin, finish = max(opening, cursor), min(closing, end)
                if finish > begin:
                    total += finish - begin
            cursor = windows[-1][1] if windows else end
            if cursor <= start:  # pragma: no cover - defensive, windows always advance
                break
        return total.total_seconds() / 3600


def _clock(text: str) -> time:
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"expected a time like 09:00, got {text!r}") from None
