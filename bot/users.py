"""The user flow: questions answered, forwarded or joined to an open enquiry, and the user's data.

Telegram and the terminal chat (`clair-bot chat`) both go through these methods, so they
behave the same. An escalated question is stored in one transaction with its announcement
to staff and the user's acknowledgement in the outbox (the terminal chat, which the outbox
does not reach, shows the acknowledgement itself). An unanswerable message joins the user's
open enquiry only when it plainly continues it (a reply to its messages, or soon after and
about the same thing, `bot.conversation.same_thing`); otherwise the user is asked whether it
is new or part of it. Once staff have answered (the enquiry is pending on the user), a new
unanswerable message opens a new enquiry; the daily cap (limits.enquiries_per_day) counts
only new enquiries.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot import references, texts
from bot.answers import answer_text, finish
from bot.config import Settings
from bot.conversation import Topics
from bot.core import Knowledge, StaffNotices, UnknownEnquiry, queued, require
from bot.decision import Action, Decision, Reason
from bot.flood import FloodGuard, Verdict
from bot.inbound import without_surrogates
from bot.knowledge import KnowledgeBase
from bot.language import ENGLISH, JAPANESE, detect_language
from bot.storage import Storage
from bot.storage.enquiries import EnquiryStore
from bot.storage.records import (
    Asker,
    Author,
    Enquiry,
    ForgetResult,
    Message,
    Render,
    State,
)

#: The daily cap (limits.enquiries_per_day) counts enquiries opened in a moving 24 hours.
CAP_WINDOW = timedelta(days=1)
#: How long an acknowledgement queued with an answer in part waits for that answer, sent
#: straight away, to go first (`UserService.release`): at most this late if the bot stops
#: in between.
HOLD_S = 30.0
#: How many recent questions per user buttons and numbered choices can refer to.
REMEMBERED_QUESTIONS = 20


class DailyLimitReached(Exception):
    """The user has opened as many enquiries in a day as limits.enquiries_per_day allows."""

    def __init__(self, resets_at: datetime) -> None:
        super().__init__(f"no new enquiry before {resets_at.isoformat()}")
        self.resets_at = resets_at  # when the oldest of the day's enquiries leaves the window


@dataclass(frozen=True)
class Reply:
    """What became of a user's message."""

    decision: Decision | None  # None: it joined an enquiry without asking the matcher
    enquiry: Enquiry | None = None  # stored for staff (new, or the open one it joined)
    follow_up: bool = False  # joined the user's open enquiry instead of opening one
    limited: bool = False  # over the daily cap: nothing was forwarded
    # What to tell the user (plain text) when it went to staff, or why it could not.
    acknowledgement: str = ""
    # The acknowledgement is in the outbox, queued with what was stored (see `queued`):
    # not part of the reply.
    queued: bool = False
    language: str = ""  # the language to answer in; the decision's when empty
    answer: str = ""  # an answer as sent: the matcher's text, a contact's phone, the source
    rephrase: bool = False  # no recognisable words: asked to rephrase, nothing forwarded
    broad: Topics | None = None  # one broad word: the topics it names, offered as buttons
    # Unanswerable while this enquiry is open and not plainly about the same thing: the
    # user is asked whether it is a new question or part of it; nothing is stored yet.
    belongs: Enquiry | None = None

    @property
    def answer_language(self) -> str:
        """The language of the reply."""
        if self.language:
            return self.language
        return self.decision.language if self.decision is not None else ENGLISH


@dataclass
class RecentQuestions:
    """A user's recent questions, numbered so that buttons (and the terminal's numbered
    choices) can refer to them, and which of them went to staff."""

    questions: dict[int, str] = field(default_factory=dict)
    forwarded: dict[int, int] = field(default_factory=dict)  # question number -> enquiry ref
    last_number: int = 0

    def remember(self, question: str) -> int:
        """Keep a question and return its number (for callback data)."""
        self.last_number += 1
        self.questions[self.last_number] = question
        for old in [n for n in self.questions if n <= self.last_number - REMEMBERED_QUESTIONS]:
            del self.questions[old]
            self.forwarded.pop(old, None)
        return self.last_number

    def question(self, number: int) -> str | None:
        """A remembered question, or None when it is unknown or too old."""
        return self.questions.get(number)

    def clear(self) -> None:
        """Forget every remembered question (after /forget)."""
        self.questions.clear()
        self.forwarded.clear()


@dataclass(frozen=True)
class Notice:
    """What to tell the user (HTML) after a button or choice; `ref` when it is about an
    enquiry (replies to it then join the enquiry's thread)."""

    html: str
    ref: int | None = None
    queued: bool = False  # already in the outbox, queued with what was stored: not sent here


def _pending(recent: RecentQuestions, number: int, language: str) -> str | Notice:
    """Remembered question `number`, still to be sent to staff; or, when it is too old or
    was sent already, what to tell the user."""
    words = texts.get(language)
    asked = recent.question(number)
    if asked is None:
        return Notice(words.ask_type_question)
    if (ref := recent.forwarded.get(number)) is not None:
        return Notice(html.escape(words.already_forwarded.format(ref=ref)))
    return asked


async def cap_resets_at(
    enquiries: EnquiryStore, user_id: int, now: datetime, cap: int
) -> datetime | None:
    """None while the user has opened fewer than `cap` enquiries in the 24 hours before
    `now`; else when the oldest of them leaves the window, which makes room for one more."""
    created = await enquiries.created_since(user_id, now - CAP_WINDOW)
    if len(created) < cap:
        return None
    return created[len(created) - cap] + CAP_WINDOW


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
        self._outbox = storage.outbox
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
        self, asker: Asker, text: str, replied_to: int | None = None, quoted: str | None = None
    ) -> Reply:
        """A typed message: a follow-up of an enquiry, or a question.

        `replied_to` is the id of the message (in the user's chat) this one replies to: a
        reply to one of the bot's messages about an enquiry (its acknowledgement or a staff
        answer) joins that enquiry, whatever it says. `quoted` is the text of that message
        when it is the bot's: a copy whose id was never recorded is tied by the `#N` it
        shows, to an enquiry of this user's.
        """
        text = without_surrogates(text)
        if replied_to is not None:
            ref = await self._enquiries.ref_for_message(asker.chat_id, replied_to)
            current = await self._enquiries.get(ref) if ref is not None else None
            if current is None and (ref := references.in_user_message(quoted)) is not None:
                current = await self._enquiries.get(ref)
            if current is not None and current.user_id == asker.user_id:
                return await self.join(asker, current.ref, text)
        return await self.ask(asker, text, await self._users.language_of(asker.user_id))

    async def ask(self, asker: Asker, text: str, language: str | None = None) -> Reply:
        """Decide on a message; what goes to staff joins the user's open enquiry when it
        plainly continues it, opens a new one, or waits for the user to say which.

        The answer comes in `language` (the user's choice) if given, else in the language the
        question is written in; an enquiry records the language it was written in. A message
        of one broad word gets topics, one of no recognisable words a request to rephrase.
        """
        decision = self.knowledge.matcher.decide(
            text, hint=asker.language, reply_language=language
        )
        conversation = self.knowledge.conversation
        if decision.action is not Action.SMALLTALK and not decision.forwarded:
            broad = conversation.broad_topics(text)
            if broad is not None:
                return Reply(decision, broad=broad)
        if decision.action is not Action.ESCALATE and not decision.forwarded:
            if decision.action is Action.ANSWER:
                await self._count_answer()
            return Reply(decision, answer=self.finish(decision))
        if decision.action is Action.ESCALATE and conversation.is_gibberish(text):
            return Reply(decision, rephrase=True)
        # Escalated, or answered in part: what the knowledge base cannot answer goes to staff.
        answer = self.finish(decision) if decision.action is Action.ANSWER else ""
        asker = replace(asker, language=detect_language(text, asker.language))
        current = await self._enquiries.open_for_user(asker.user_id)
        if current is not None and current.state is not State.PENDING:
            # Once staff have answered, a new question is a new enquiry.
            if await self._continues(current, text, decision):
                enquiry = await self.follow_up(
                    current.ref, asker, text, decision.language, held=bool(answer)
                )
                ack = self.acknowledgement(enquiry, decision.language, follow_up=True)
                return Reply(
                    decision,
                    enquiry,
                    True,
                    acknowledgement=ack,
                    answer=answer,
                    queued=queued(enquiry),
                )
            return Reply(decision, belongs=current, answer=answer)
        return await self._open(asker, text, decision, answer)

    async def _continues(self, current: Enquiry, text: str, decision: Decision) -> bool:
        """Soon after the user last wrote about `current`, and about the same thing."""
        thread = [
            m for m in await self._enquiries.messages(current.ref) if m.author is Author.USER
        ]
        last = max((m.created_at for m in thread), default=current.created_at)
        window = timedelta(minutes=self.settings.limits.follow_up_minutes)
        if self._clock() - last > window:
            return False
        earlier = [m.text for m in thread] or [current.text]
        return self.knowledge.conversation.same_thing(
            earlier, current.candidates, text, decision.considered
        )

    async def _open(self, asker: Asker, text: str, decision: Decision, answer: str = "") -> Reply:
        """A new enquiry for an unanswerable message (or its unanswered parts), under the cap."""
        resets_at = await self._cap_resets_at(asker.user_id)
        if resets_at is not None:
            notice = self.limit_notice(resets_at, decision.language)
            return Reply(decision, limited=True, acknowledgement=notice, answer=answer)
        reason = decision.reason
        if decision.forwarded:  # staff see the whole message, and which parts are theirs
            reason = "answered in part; not answered: " + "; ".join(decision.forwarded)
        enquiry = await self._enquiries.create(
            asker,
            text,
            decision.considered,
            reason,
            self.acknowledged(self._notices.announce, decision.language, held=bool(answer)),
            code=decision.code.value,
        )
        ack = self.acknowledgement(enquiry, decision.language)
        return Reply(decision, enquiry, acknowledgement=ack, answer=answer, queued=queued(enquiry))

    async def open_new(self, asker: Asker, text: str) -> Reply:
        """The user said a message is a new question: its own enquiry (under the cap)."""
        language = await self._users.language_of(asker.user_id)
        decision = self.knowledge.matcher.decide(
            text, hint=asker.language, reply_language=language
        )
        asker = replace(asker, language=detect_language(text, asker.language))
        reply = await self._open(asker, text, decision)
        return replace(reply, decision=None, language=decision.language)

    async def join(self, asker: Asker, ref: int, text: str) -> Reply:
        """The user said (or showed, by replying) that a message belongs to enquiry `ref`."""
        language = await self.reply_language(asker, text)
        current = await self._enquiries.get(ref)
        if current is None or current.user_id != asker.user_id:
            raise UnknownEnquiry(ref)
        enquiry = await self.follow_up(ref, asker, text, language)
        ack = self.acknowledgement(enquiry, language, follow_up=True)
        return Reply(
            None, enquiry, True, acknowledgement=ack, language=language, queued=queued(enquiry)
        )

    async def ask_staff(
        self,
        asker: Asker,
        text: str,
        reason: str = "asked for staff",
        language: str | None = None,
    ) -> Enquiry:
        """A new enquiry the user asked for (/ask, "Ask staff"), acknowledged through the
        outbox (`acknowledged`) in `language`, else in the question's; DailyLimitReached over
        the cap.

        Unlike an unanswerable message, which may join the user's open enquiry, an explicit
        request is a new question and gets its own reference.
        """
        resets_at = await self._cap_resets_at(asker.user_id)
        if resets_at is not None:
            raise DailyLimitReached(resets_at)
        text = without_surrogates(text)
        asker = replace(asker, language=detect_language(text, asker.language))
        matcher = self.knowledge.matcher
        considered = matcher.decide(text, asker.language).considered if text.strip() else ()
        return await self._enquiries.create(
            asker,
            text,
            considered,
            reason,
            self.acknowledged(self._notices.announce, language),
            code=Reason.ASKED_STAFF.value,
        )

    async def forward_remembered(
        self, asker: Asker, recent: RecentQuestions, number: int, reason: str, language: str
    ) -> Notice:
        """ "Ask staff" / "None of these" for remembered question `number`: once only."""
        asked = _pending(recent, number, language)
        if isinstance(asked, Notice):
            return asked
        try:
            enquiry = await self.ask_staff(asker, asked, reason, language)
        except DailyLimitReached as over:
            return Notice(html.escape(self.limit_notice(over.resets_at, language)))
        recent.forwarded[number] = enquiry.ref
        ack = html.escape(self.acknowledgement(enquiry, language))
        return Notice(ack, enquiry.ref, queued(enquiry))

    async def settle(
        self,
        asker: Asker,
        recent: RecentQuestions,
        number: int,
        ref: int | None,
        language: str,
    ) -> Notice:
        """The user's answer to "a new question, or part of #ref?" for remembered question
        `number`: a new enquiry (ref None) or a follow-up of `ref`; once only."""
        asked = _pending(recent, number, language)
        if isinstance(asked, Notice):
            return asked
        if ref is None:
            reply = await self.open_new(asker, asked)
        else:
            try:
                reply = await self.join(asker, ref, asked)
            except UnknownEnquiry:  # deleted with /forget, purged, or forged data
                return Notice(html.escape(texts.get(language).not_your_enquiry))
        if reply.enquiry is None:  # over the daily cap
            return Notice(html.escape(reply.acknowledgement))
        recent.forwarded[number] = reply.enquiry.ref
        return Notice(html.escape(reply.acknowledgement), reply.enquiry.ref, reply.queued)

    async def follow_up(
        self,
        ref: int,
        asker: Asker,
        text: str,
        language: str | None = None,
        held: bool = False,
    ) -> Enquiry:
        """The user wrote again about an enquiry: into its staff thread (reopening it), and
        acknowledged through the outbox in `language`, else in the enquiry's (`held`: see
        `acknowledged`).

        Staff see whether it arrived after their reply."""
        await require(self._enquiries, ref)
        thread = await self._enquiries.messages(ref)
        after_reply = any(m.is_staff_reply for m in thread)
        render = self._notices.follow_up(text, after_reply)
        return await self._enquiries.add_user_message(
            ref, asker, text, self.acknowledged(render, language, follow_up=True, held=held)
        )

    def finish(self, decision: Decision) -> str:
        """An answer as the user gets it: with a contact's telephone and the source line."""
        return answer_text(self.kb, decision)

    async def answer_choice(
        self, user_id: int, entry_id: str, question: str | None, language: str
    ) -> tuple[str, str]:
        """A "did you mean" choice: the entry's answer to the question, and its language.

        The answer comes in the user's chosen language, else in the question's, else in
        `language` (the one the buttons were shown in); it ends with its source.
        """
        reply_in = await self._users.language_of(user_id)
        if reply_in is None and question:
            reply_in = detect_language(question, language)
        reply_in = reply_in or language
        text = self.knowledge.matcher.answer_for(entry_id, question or "", reply_in)
        await self._count_answer()
        return finish(self.kb, (entry_id,), text, reply_in), reply_in

    def entry_answer(self, entry_id: str, language: str) -> str:
        """An entry's answer as opened from a topic button or link, ending with its source."""
        entry = self.kb.entries[entry_id]
        return finish(self.kb, (entry_id,), entry.answer_in(language), language)

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

    def acknowledged(
        self, render: Render, language: str | None, follow_up: bool = False, held: bool = False
    ) -> Render:
        """`render`'s drafts, then the user's acknowledgement in `language` (None: the
        enquiry's), queued in the transaction that stores their message: it is sent even if
        this bot stops right after (another bot, or this one restarted, sends it), and it is
        committed with the update's record (bot.storage.updates). None for the terminal
        chat, which shows it itself. `held`: it comes after an answer in part that is sent
        straight away, so it waits for `release` (HOLD_S at most)."""

        def text(enquiry: Enquiry) -> str:
            words = language or enquiry.language or ENGLISH
            return html.escape(self.acknowledgement(enquiry, words, follow_up))

        return self._notices.then_to_user(render, text, HOLD_S if held else 0.0)

    async def release(self, reply: Reply) -> None:
        """The answer in part of `reply` is sent: its acknowledgement may follow now."""
        if reply.enquiry is not None and reply.queued and reply.answer:
            await self._outbox.release(reply.enquiry.ref, reply.enquiry.chat_id)

    def limit_notice(self, resets_at: datetime, language: str) -> str:
        """Over the daily cap (plain text): nothing sent, and when a new question can be."""
        when = texts.format_time(resets_at, self._notices.hours, language)
        return texts.get(language).daily_limit.format(when=when)

    async def _cap_resets_at(self, user_id: int) -> datetime | None:
        cap = self.settings.limits.enquiries_per_day
        return await cap_resets_at(self._enquiries, user_id, self._clock(), cap)

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

    async def staff_replies_after(
        self, user_id: int, after: int
    ) -> list[tuple[int, str | None, Message]]:
        """Staff replies to the user's enquiries stored after message id `after`, oldest
        first, as (enquiry ref, its language, the reply): for the terminal chat, which has
        no chat for the outbox to deliver them to."""
        return await self._enquiries.staff_replies_after(user_id, after)

    async def last_message_id(self) -> int:
        """The newest message id of any enquiry's thread (where to start showing replies)."""
        return await self._enquiries.last_message_id()

    async def rate(self, user_id: int, entry_id: str, helpful: bool) -> None:
        """Record a 👍 or 👎 on an answer."""
        await self._users.add_feedback(user_id, entry_id, helpful)

    async def forget(self, user_id: int) -> ForgetResult:
        """Delete everything stored about the user."""
        return await self._users.forget(user_id)
