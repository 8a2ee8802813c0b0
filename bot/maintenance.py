"""Maintenance: reminders, the automatic close, the retention purge, statistics and the
unanswered questions.

The periodic jobs (handlers.delivery) and `/stats`, `clair-bot kb suggestions` call these.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import figures
from bot.config import Settings
from bot.core import StaffNotices
from bot.storage import Storage
from bot.storage.records import Event, Stats
from bot.suggestions import SuggestionGroup, group_questions


class Maintenance:
    """Work on the whole store rather than on one enquiry."""

    def __init__(self, settings: Settings, storage: Storage, notices: StaffNotices) -> None:
        self.settings = settings
        self._enquiries = storage.enquiries
        self._ratings = storage.ratings
        self._users = storage.users
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
            if await self._enquiries.mark_reminded(enquiry.ref, self._notices.remind):
                reminded.append(enquiry.ref)
        return reminded

    async def purge(self) -> int:
        """Delete resolved enquiries older than storage.retention_days."""
        return await self._enquiries.purge_resolved(self.settings.storage.retention_days)

    async def autoclose(self, now: datetime | None = None) -> list[int]:
        """Resolve pending enquiries with no word from the user for staff.autoclose_days
        (0: never); the user is told how to reopen, and asked to rate the answer."""
        days = self.settings.staff.autoclose_days
        if not days:
            return []
        cutoff = (now or self._clock()) - timedelta(days=days)
        closed = []
        for enquiry in await self._enquiries.pending_since_before(cutoff):
            await self._enquiries.change(enquiry.ref, Event.AUTOCLOSE)
            closed.append(enquiry.ref)
        return closed

    async def stats(self, now: datetime | None = None, days: int = figures.DAYS) -> Stats:
        """Figures for /stats and its chart over the last `days` days, in office days."""
        moment = now or self._clock()
        first = figures.office_day(moment, self.hours) - timedelta(days=days - 1)
        since = moment - timedelta(days=days + 7)  # this week's start may lie before `first`
        enquiries = await self._enquiries.active_since(since)
        answered = await self._users.answers_since(first)
        ratings, asked = await self._ratings.since(moment - timedelta(days=days))
        by_state = await self._enquiries.count_by_state()
        return figures.compute(
            enquiries, answered, ratings, asked, by_state, moment, self.hours, days
        )

    async def suggestion_groups(self) -> list[SuggestionGroup]:
        """Questions the bot could not answer, grouped by similarity, most frequent first."""
        enquiries = await self._enquiries.all()
        return group_questions([(e.ref, e.text) for e in enquiries])
