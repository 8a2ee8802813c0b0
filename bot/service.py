"""The bot's core, shared by Telegram and the command line: answers, escalation, staff work.

Nothing here knows about Telegram. An escalated question is stored, with its announcement
to staff in the outbox, before the user is told it was forwarded; staff replies are stored
with their relay to the user in the same transaction. Delivery is the outbox worker's job.
"""

from __future__ import annotations

import csv
import io
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import staffview, texts
from bot.config import Settings
from bot.decision import Action, Decision
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.language import ENGLISH, JAPANESE, detect_language
from bot.matcher import Matcher
from bot.storage import (
    Asker,
    Draft,
    Enquiry,
    Kind,
    Message,
    OutboxItem,
    State,
    Stats,
    Store,
)
from bot.suggestions import SuggestionGroup, add_suggestion, group_questions

# The terminal chat (`clair-bot chat`) stores its enquiries under this chat id; no Telegram
# chat has it.
TERMINAL_CHAT_ID = 0


class DailyLimitReached(Exception):
    """The user has opened as many enquiries today as limits.enquiries_per_day allows."""


class UnknownEnquiry(LookupError):
    """No enquiry has that reference number."""

    def __init__(self, ref: int) -> None:
        super().__init__(f"there is no enquiry #{ref}")
        self.ref = ref


@dataclass(frozen=True)
class Reply:
    """What became of a user's message."""

    decision: Decision
    enquiry: Enquiry | None = None  # stored for staff (new, or the open one it joined)
    follow_up: bool = False  # joined the user's open enquiry instead of opening one
    limited: bool = False  # over the daily cap: nothing was forwarded


class Service:
    """Knowledge base, matcher and store, opened together and closed together."""

    def __init__(
        self,
        settings: Settings,
        kb: KnowledgeBase,
        store: Store,
        monotonic: Callable[[], float] = time.monotonic,
        matcher: Matcher | None = None,
    ) -> None:
        self.settings = settings
        self.kb = kb
        self.matcher = matcher or Matcher(kb, settings.matcher)
        self.store = store
        self.hours = settings.staff.office_hours()
        self._monotonic = monotonic
        self._recent: dict[int, deque[float]] = {}

    @classmethod
    async def open(cls, settings: Settings) -> Service:
        """Load and validate the knowledge base (raises KnowledgeError), then open the store."""
        kb = load_knowledge(settings.knowledge.path)
        store = await Store.open(settings.storage.path)
        return cls(settings, kb, store)

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()

    def reload(self) -> KnowledgeBase:
        """Load the knowledge base again (raises KnowledgeError, keeping the old one)."""
        kb = load_knowledge(self.settings.knowledge.path)
        self.matcher = Matcher(kb, self.settings.matcher)
        self.kb = kb
        return kb

    # -- users ------------------------------------------------------------------------------
    def allow_message(self, user_id: int) -> bool:
        """Flood limit: False once a user sends more than the limit within a minute."""
        now = self._monotonic()
        window = self._recent.setdefault(user_id, deque())
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.settings.limits.messages_per_minute:
            return False
        window.append(now)
        return True

    async def ask(self, asker: Asker, text: str, language: str | None = None) -> Reply:
        """Decide on a question; what goes to staff joins the user's open enquiry, or opens one.

        The answer comes in `language` (the user's choice) if given, else in the language the
        question is written in; an enquiry records the language it was written in.
        """
        decision = self.matcher.decide(text, hint=asker.language, reply_language=language)
        if decision.action is not Action.ESCALATE:
            return Reply(decision)
        asker = replace(asker, language=detect_language(text, asker.language))
        current = await self.store.open_enquiry_for_user(asker.user_id)
        if current is not None:
            return Reply(decision, await self.follow_up(current.ref, asker, text), follow_up=True)
        if await self._over_daily_cap(asker.user_id):
            return Reply(decision, limited=True)
        enquiry = await self.store.create_enquiry(
            asker, text, decision.considered, decision.reason, self._announce
        )
        return Reply(decision, enquiry)

    async def ask_staff(self, asker: Asker, text: str, reason: str = "asked for staff") -> Enquiry:
        """A new enquiry the user asked for (/ask, "Ask staff"); DailyLimitReached over the cap.

        Unlike an unanswerable message, which joins the user's open enquiry, an explicit
        request is a new question and gets its own reference.
        """
        if await self._over_daily_cap(asker.user_id):
            raise DailyLimitReached
        asker = replace(asker, language=detect_language(text, asker.language))
        considered = self.matcher.decide(text, asker.language).considered if text.strip() else ()
        return await self.store.create_enquiry(asker, text, considered, reason, self._announce)

    async def follow_up(self, ref: int, asker: Asker, text: str) -> Enquiry:
        """The user wrote again about an enquiry: into its staff thread (reopening it)."""
        await self._require(ref)

        def render(enquiry: Enquiry) -> list[Draft]:
            return self._to_staff(Kind.FOLLOW_UP, staffview.follow_up(enquiry, text))

        return await self.store.add_user_message(ref, asker, text, render)

    def expected_reply(self, now: datetime | None = None) -> datetime:
        """When a reply can be expected for an enquiry sent now (office hours)."""
        moment = now or self.store.clock()
        return self.hours.add(moment, self.settings.staff.remind_after_hours)

    def acknowledgement(self, enquiry: Enquiry, language: str, follow_up: bool = False) -> str:
        """What the user is told (plain text) once their message is with staff."""
        words = texts.get(language)
        if follow_up:
            return words.followed_up.format(ref=enquiry.ref)
        when = texts.format_time(self.expected_reply(enquiry.created_at), self.hours, language)
        return words.escalated.format(ref=enquiry.ref, when=when)

    async def language_for(self, user_id: int, telegram_language: str | None) -> str:
        """The language to talk to a user in: their /language choice, else their client's."""
        chosen = await self.store.language_of(user_id)
        if chosen:
            return chosen
        return JAPANESE if (telegram_language or "").lower().startswith("ja") else ENGLISH

    async def _over_daily_cap(self, user_id: int) -> bool:
        since = self.store.clock() - timedelta(days=1)
        count = await self.store.count_created_since(user_id, since)
        return count >= self.settings.limits.enquiries_per_day

    # -- staff ------------------------------------------------------------------------------
    def is_staff(self, user_id: int | None) -> bool:
        """Whether a Telegram user may act on enquiries."""
        return user_id is not None and user_id in self.settings.staff.user_ids

    async def _require(self, ref: int) -> Enquiry:
        enquiry = await self.store.get_enquiry(ref)
        if enquiry is None:
            raise UnknownEnquiry(ref)
        return enquiry

    async def staff_reply(self, ref: int, staff_id: int, staff_name: str, text: str) -> Enquiry:
        """Record a staff answer and put its relay to the user in the outbox."""
        await self._require(ref)

        def render(enquiry: Enquiry) -> list[Draft]:
            if enquiry.chat_id == TERMINAL_CHAT_ID:
                return []  # asked in the terminal chat: the reply shows in its /status
            relay = staffview.staff_reply_to_user(enquiry, text)
            return [Draft(Kind.REPLY, enquiry.chat_id, relay)]

        return await self.store.add_staff_reply(ref, staff_id, staff_name, text, render)

    async def claim(self, ref: int, staff_id: int, staff_name: str) -> Enquiry:
        """Take an enquiry on."""
        return await self._change(ref, State.CLAIMED, staff_id, staff_name)

    async def resolve(self, ref: int, staff_id: int | None, staff_name: str) -> Enquiry:
        """Close an enquiry."""
        return await self._change(ref, State.RESOLVED, staff_id, staff_name)

    async def reopen(self, ref: int, staff_id: int | None, staff_name: str) -> Enquiry:
        """Open a resolved or answered enquiry again."""
        return await self._change(ref, State.NEW, staff_id, staff_name)

    async def _change(
        self, ref: int, state: State, staff_id: int | None, staff_name: str
    ) -> Enquiry:
        await self._require(ref)

        def render(enquiry: Enquiry) -> list[Draft]:
            return self._to_staff(Kind.NOTICE, staffview.state_changed(enquiry, staff_name))

        return await self.store.set_state(ref, state, staff_id, render)

    async def show(self, ref: int) -> tuple[Enquiry, list[Message]]:
        """An enquiry and its thread."""
        enquiry = await self._require(ref)
        return enquiry, await self.store.messages(ref)

    async def queue(self, page: int = 0, per_page: int = 10) -> tuple[list[Enquiry], int]:
        """One page of open enquiries, oldest first, and the total."""
        return await self.store.open_enquiries(page * per_page, per_page)

    async def stats(self, now: datetime | None = None) -> Stats:
        """Figures for /stats, days and weeks counted in the office's time zone."""
        moment = now or self.store.clock()
        local = moment.astimezone(self.hours.timezone)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        week_start = day_start - timedelta(days=local.weekday())
        return await self.store.stats(moment, week_start, day_start)

    async def export_csv(self) -> str:
        """Every enquiry as CSV text, one row each, with its thread joined."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "ref", "state", "created_at", "first_reply_at", "resolved_at", "user_id",
                "name", "username", "language", "question", "closest_entry", "score",
                "reason", "assignee", "messages",
            ]
        )  # fmt: skip
        for enquiry in await self.store.all_enquiries():
            thread = await self.store.messages(enquiry.ref)
            top = enquiry.candidates[0] if enquiry.candidates else None
            writer.writerow(
                [
                    enquiry.ref,
                    enquiry.state.value,
                    _iso(enquiry.created_at),
                    _iso(enquiry.first_reply_at),
                    _iso(enquiry.resolved_at),
                    enquiry.user_id,
                    enquiry.name,
                    enquiry.username or "",
                    enquiry.language or "",
                    enquiry.text,
                    top.entry_id if top else "",
                    f"{top.score:.1f}" if top else "",
                    enquiry.reason,
                    enquiry.assignee or "",
                    "\n".join(f"{m.author}: {m.text}" for m in thread),
                ]
            )
        return out.getvalue()

    async def send_reminders(self, now: datetime | None = None) -> list[int]:
        """Re-announce, once, enquiries waiting longer than staff.remind_after_hours."""
        moment = now or self.store.clock()
        limit = self.settings.staff.remind_after_hours
        reminded: list[int] = []
        for enquiry in await self.store.unreminded_waiting():
            if self.hours.between(enquiry.created_at, moment) < limit:
                continue

            def render(current: Enquiry) -> list[Draft]:
                text = staffview.announcement(current, self.hours, reminder=True)
                return self._to_staff(Kind.REMINDER, text, staffview.enquiry_buttons(current))

            await self.store.mark_reminded(enquiry.ref, render)
            reminded.append(enquiry.ref)
        return reminded

    async def add_to_knowledge_base(self, ref: int) -> Path | None:
        """Write a resolved enquiry's question and staff answer for review; None if done before."""
        enquiry = await self._require(ref)
        if enquiry.state is not State.RESOLVED:
            raise ValueError(f"#{ref} is not resolved yet: resolve it first")
        if not await self.store.mark_kb_suggested(ref):
            return None
        answers = [m.text for m in await self.store.messages(ref) if m.author == "staff"]
        path = self.settings.knowledge.path / "suggestions" / "suggestions.yaml"
        add_suggestion(path, enquiry, answers)
        return path

    async def suggestion_groups(self) -> list[SuggestionGroup]:
        """Questions the bot could not answer, grouped by similarity, most frequent first."""
        enquiries = await self.store.all_enquiries()
        return group_questions([(e.ref, e.text) for e in enquiries])

    async def purge(self) -> int:
        """Delete resolved enquiries older than storage.retention_days."""
        return await self.store.purge_resolved(self.settings.storage.retention_days)

    # -- rendering for the outbox -----------------------------------------------------------
    def _to_staff(self, kind: Kind, text: str, buttons: staffview.Buttons = ()) -> list[Draft]:
        chat_id = self.settings.staff.chat_id
        if not chat_id:
            return []  # no staff chat configured: the enquiry waits in the queue (CLI)
        return [Draft(kind, chat_id, text, buttons, in_thread=kind is not Kind.ANNOUNCE)]

    def _announce(self, enquiry: Enquiry) -> list[Draft]:
        text = staffview.announcement(enquiry, self.hours)
        return self._to_staff(Kind.ANNOUNCE, text, staffview.enquiry_buttons(enquiry))

    def failure_notice(
        self, item: OutboxItem, reason: str
    ) -> Callable[[Enquiry], Sequence[Draft]] | None:
        """For the outbox worker: tell the staff thread when a reply did not reach the user."""
        if item.kind is not Kind.REPLY:
            return None

        def render(enquiry: Enquiry) -> list[Draft]:
            return self._to_staff(Kind.NOTICE, staffview.delivery_failed(enquiry.ref, reason))

        return render


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""
