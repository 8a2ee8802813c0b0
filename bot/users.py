"""The user flow: questions answered, forwarded or joined to an open enquiry, and the user's data.

Telegram and the terminal chat (`clair-bot chat`) both go through these methods, so they
behave the same. An escalated question is stored, with its announcement to staff in the
outbox, before the user is told it was forwarded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot import texts
from bot.config import Settings
from bot.core import Knowledge, StaffNotices, require
from bot.decision import Action, Decision, Reason
from bot.flood import FloodGuard, Verdict
from bot.knowledge import KnowledgeBase
from bot.language import ENGLISH, JAPANESE, detect_language
from bot.storage import Storage
from bot.storage.records import Asker, Enquiry, ForgetResult, Message


class DailyLimitReached(Exception):
    """The user has opened as many enquiries today as limits.enquiries_per_day allows."""


@dataclass(frozen=True)
class Reply:
    """What became of a user's message."""

    decision: Decision | None  # None: it joined an enquiry without asking the matcher
    enquiry: Enquiry | None = None  # stored for staff (new, or the open one it joined)
    follow_up: bool = False  # joined the user's open enquiry instead of opening one
    limited: bool = False  # over the daily cap: nothing was forwarded
    acknowledgement: str = ""  # what to tell the user when it went to staff (plain text)
    language: str = ""  # the language to answer in; the decision's when empty

    @property
    def answer_language(self) -> str:
        """The language of the reply."""
        if self.language:
            return self.language
        return self.decision.language if self.decision is not None else ENGLISH


class UserService:
    """What a person asking questions can do."""

    def __init__(
        self,
        settings: Settings,
        knowledge: Knowledge,
        storage: Storage,
        notices: StaffNotices,
    ) -> None:
        self.settings = settings
        self.knowledge = knowledge
        self._enquiries = storage.enquiries
        self._users = storage.users
        self._clock = storage.clock
        self._notices = notices
        self.flood = FloodGuard(settings.limits.messages_per_minute)

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base in use."""
        return self.knowledge.kb

    async def admit(self, user_id: int) -> Verdict:
        """Flood limit (limits.messages_per_minute): whether to handle a user's update."""
        return await self.flood.check(user_id)

    # -- languages ----------------------------------------------------------------------------
    async def language_for(self, user_id: int, client_language: str | None) -> str:
        """The language to talk to a user in: their /language choice, else their client's."""
        chosen = await self._users.language_of(user_id)
        if chosen:
            return chosen
        return JAPANESE if (client_language or "").lower().startswith(JAPANESE) else ENGLISH

    async def choose_language(self, user_id: int, language: str) -> None:
        """Remember the language a user chose with /language."""
        await self._users.set_language(user_id, language)

    async def reply_language(self, asker: Asker, text: str) -> str:
        """The language to answer `text` in: the user's choice, else the text's own."""
        chosen = await self._users.language_of(asker.user_id)
        return chosen or detect_language(text, asker.language)

    # -- questions ----------------------------------------------------------------------------
    async def handle_message(
        self, asker: Asker, text: str, replied_to: int | None = None
    ) -> Reply:
        """A typed message: a follow-up of an enquiry, or a question.

        `replied_to` is the id of the message (in the user's chat) this one replies to: a
        reply to one of the bot's messages about an enquiry (its acknowledgement or a staff
        answer) joins that enquiry, whatever it says.
        """
        if replied_to is not None:
            ref = await self._enquiries.ref_for_message(asker.chat_id, replied_to)
            current = await self._enquiries.get(ref) if ref is not None else None
            if current is not None:
                enquiry = await self.follow_up(current.ref, asker, text)
                language = await self.reply_language(asker, text)
                ack = self.acknowledgement(enquiry, language, follow_up=True)
                return Reply(None, enquiry, True, acknowledgement=ack, language=language)
        return await self.ask(asker, text, await self._users.language_of(asker.user_id))

    async def ask(self, asker: Asker, text: str, language: str | None = None) -> Reply:
        """Decide on a question; what goes to staff joins the user's open enquiry, or opens one.

        The answer comes in `language` (the user's choice) if given, else in the language the
        question is written in; an enquiry records the language it was written in.
        """
        matcher = self.knowledge.matcher
        decision = matcher.decide(text, hint=asker.language, reply_language=language)
        if decision.action is not Action.ESCALATE and not decision.forwarded:
            if decision.action is Action.ANSWER:
                await self._count_answer()
            return Reply(decision)
        # Escalated, or answered in part: what the knowledge base cannot answer goes to staff.
        asker = replace(asker, language=detect_language(text, asker.language))
        current = await self._enquiries.open_for_user(asker.user_id)
        if current is not None:
            enquiry = await self.follow_up(current.ref, asker, text)
            ack = self.acknowledgement(enquiry, decision.language, follow_up=True)
            return Reply(decision, enquiry, follow_up=True, acknowledgement=ack)
        if await self._over_daily_cap(asker.user_id):
            return Reply(decision, limited=True)
        reason = decision.reason
        if decision.forwarded:  # staff see the whole message, and which parts are theirs
            reason = "answered in part; not answered: " + "; ".join(decision.forwarded)
        enquiry = await self._enquiries.create(
            asker,
            text,
            decision.considered,
            reason,
            self._notices.announce,
            code=decision.code.value,
        )
        return Reply(
            decision, enquiry, acknowledgement=self.acknowledgement(enquiry, decision.language)
        )

    async def ask_staff(self, asker: Asker, text: str, reason: str = "asked for staff") -> Enquiry:
        """A new enquiry the user asked for (/ask, "Ask staff"); DailyLimitReached over the cap.

        Unlike an unanswerable message, which joins the user's open enquiry, an explicit
        request is a new question and gets its own reference.
        """
        if await self._over_daily_cap(asker.user_id):
            raise DailyLimitReached
        asker = replace(asker, language=detect_language(text, asker.language))
        matcher = self.knowledge.matcher
        considered = matcher.decide(text, asker.language).considered if text.strip() else ()
        return await self._enquiries.create(
            asker, text, considered, reason, self._notices.announce, code=Reason.ASKED_STAFF.value
        )

    async def follow_up(self, ref: int, asker: Asker, text: str) -> Enquiry:
        """The user wrote again about an enquiry: into its staff thread (reopening it)."""
        await require(self._enquiries, ref)
        return await self._enquiries.add_user_message(
            ref, asker, text, self._notices.follow_up(text)
        )

    async def answer_choice(
        self, user_id: int, entry_id: str, question: str | None, language: str
    ) -> tuple[str, str]:
        """A "did you mean" choice: the entry's answer to the question, and its language.

        The answer comes in the user's chosen language, else in the question's, else in
        `language` (the one the buttons were shown in).
        """
        reply_in = await self._users.language_of(user_id)
        if reply_in is None and question:
            reply_in = detect_language(question, language)
        reply_in = reply_in or language
        answer = self.knowledge.matcher.answer_for(entry_id, question or "", reply_in)
        await self._count_answer()
        return answer, reply_in

    async def _count_answer(self) -> None:
        """One more question the bot answered itself (for /stats: a count a day, no more)."""
        await self._users.count_answer(
            self._clock().astimezone(self._notices.hours.timezone).date()
        )

    def expected_reply(self, now: datetime | None = None) -> datetime:
        """When a reply can be expected for an enquiry sent now (office hours)."""
        moment = now or self._clock()
        return self._notices.hours.add(moment, self.settings.staff.remind_after_hours)

    def acknowledgement(self, enquiry: Enquiry, language: str, follow_up: bool = False) -> str:
        """What the user is told (plain text) once their message is with staff."""
        words = texts.get(language)
        if follow_up:
            return words.followed_up.format(ref=enquiry.ref)
        hours = self._notices.hours
        when = texts.format_time(self.expected_reply(enquiry.created_at), hours, language)
        return words.escalated.format(ref=enquiry.ref, when=when)

    async def _over_daily_cap(self, user_id: int) -> bool:
        since = self._clock() - timedelta(days=1)
        count = await self._enquiries.count_created_since(user_id, since)
        return count >= self.settings.limits.enquiries_per_day

    # -- the user's own data -----------------------------------------------------------------
    async def status(self, user_id: int) -> list[Enquiry]:
        """The user's enquiries, newest first."""
        return await self._enquiries.for_user(user_id)

    async def thread(self, user_id: int, ref: int) -> list[Message]:
        """The messages of one of the user's own enquiries (none for anyone else's)."""
        enquiry = await self._enquiries.get(ref)
        if enquiry is None or enquiry.user_id != user_id:
            return []
        return await self._enquiries.messages(ref)

    async def rate(self, user_id: int, entry_id: str, helpful: bool) -> None:
        """Record a 👍 or 👎 on an answer."""
        await self._users.add_feedback(user_id, entry_id, helpful)

    async def forget(self, user_id: int) -> ForgetResult:
        """Delete everything stored about the user."""
        return await self._users.forget(user_id)
