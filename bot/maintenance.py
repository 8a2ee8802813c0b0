"""Maintenance: reminders, the retention purge, statistics and the unanswered questions.

The periodic jobs (handlers.delivery) and `/stats`, `clair-bot kb suggestions` call these.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import Settings
from bot.core import StaffNotices
from bot.storage import Storage
from bot.storage.records import Stats
from bot.suggestions import SuggestionGroup, group_questions


class Maintenance:
    """Work on the whole store rather than on one enquiry."""

    def __init__(self, settings: Settings, storage: Storage, notices: StaffNotices) -> None:
        self.settings = settings
        self._enquiries = storage.enquiries
        self._clock = storage.clock
        self._notices = notices
        self.hours = notices.hours

    async def send_reminders(self, now: datetime | None = None) -> list[int]:
        """Re-announce, once, enquiries waiting longer than staff.remind_after_hours."""
        moment = now or self._clock()
        limit = self.settings.staff.remind_after_hours
        reminded: list[int] = []
        for enquiry in await self._enquiries.unreminded_waiting():
            if self.hours.between(enquiry.created_at, moment) < limit:
                continue
            await self._enquiries.mark_reminded(enquiry.ref, self._notices.remind)
            reminded.append(enquiry.ref)
        return reminded

    async def purge(self) -> int:
        """Delete resolved enquiries older than storage.retention_days."""
        return await self._enquiries.purge_resolved(self.settings.storage.retention_days)

    async def stats(self, now: datetime | None = None) -> Stats:
        """Figures for /stats, days and weeks counted in the office's time zone."""
        moment = now or self._clock()
        local = moment.astimezone(self.hours.timezone)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        week_start = day_start - timedelta(days=local.weekday())
        return await self._enquiries.stats(moment, week_start, day_start)

    async def suggestion_groups(self) -> list[SuggestionGroup]:
        """Questions the bot could not answer, grouped by similarity, most frequent first."""
        enquiries = await self._enquiries.all()
        return group_questions([(e.ref, e.text) for e in enquiries])
