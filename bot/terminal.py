"""The terminal chat (`clair-bot chat`, and `clair-bot run` without a token): the same bot.

It goes through the user flow Telegram uses (bot.users) and shows the same screens
(bot.screens): their HTML as plain text, their buttons as numbered choices (topics, related
questions, "Ask staff", 👍/👎, "New question" / "Part of #N"). It understands Telegram's
commands; an unknown command gets the list and is never a question for staff. Replies from
staff appear as they arrive: the store is polled for them, since the terminal has no chat
for the outbox to deliver to. The terminal's enquiries are stored under chat id 0. Ctrl-C or
Ctrl-D leaves, with a goodbye. When the staff console runs beside it (`clair-bot run` without
a token), /console prints a new sign-in link.
"""

from __future__ import annotations

import asyncio
import getpass
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO

from bot import callback_data as cd
from bot import screens, staffview, texts
from bot.core import TERMINAL_CHAT_ID
from bot.inbound import number as typed_number
from bot.inbound import without_surrogates
from bot.markup import strip_tags
from bot.media import label
from bot.screens import Screen
from bot.service import Services
from bot.storage.records import Asker, Message
from bot.users import Notice, RecentQuestions

#: How often the store is read for new staff replies, in seconds.
POLL_SECONDS = 1.0
PROMPT = "\nyou> "
#: How to leave, besides Ctrl-C and Ctrl-D.
QUIT = ("/quit", "/exit")


class TerminalChat:
    """One person talking to the bot in a terminal."""

    def __init__(
        self,
        services: Services,
        stdin: TextIO,
        stdout: TextIO,
        poll_seconds: float = POLL_SECONDS,
        console_link: Callable[[], str] | None = None,
    ) -> None:
        self.services = services
        self.users = services.users
        self.stdin = stdin
        self.stdout = stdout
        self.poll_seconds = poll_seconds
        name = getpass.getuser() or "terminal"
        self.asker = Asker(user_id=TERMINAL_CHAT_ID, chat_id=TERMINAL_CHAT_ID, name=name)
        self.recent = RecentQuestions()
        self.choices: list[cd.ButtonAction] = []
        self._seen = 0  # the newest staff reply already shown
        self._commands: dict[str, Callable[[str], Awaitable[None]]] = {
            "/start": self._start,
            "/help": self._help,
            "/topics": self._topics,
            "/contact": self._contact,
            "/ask": self._ask,
            "/status": self._status,
            "/language": self._language,
            "/privacy": self._privacy,
            "/forget": self._forget,
        }
        if console_link is not None:  # the staff console runs beside this chat
            self._commands["/console"] = lambda rest: self._console(console_link)

    # -- the conversation ----------------------------------------------------------------------
    async def run(self) -> None:
        """Talk until /quit, the end of input (Ctrl-D) or Ctrl-C; then say goodbye."""
        self._seen = await self.users.last_message_id()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        reader = threading.Thread(
            target=_read_lines, args=(self.stdin, asyncio.get_running_loop(), lines), daemon=True
        )  # a daemon: a read still waiting for a line must not keep the program alive
        reader.start()
        poller = asyncio.create_task(self._poll())
        try:
            await self._help("")
            while True:
                self._write(PROMPT)
                line = await lines.get()
                if line is None:
                    self._write("\n")
                    break
                if not await self.handle(line):
                    break
        except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels the task; leave cleanly
            self._write("\n")
        finally:
            poller.cancel()
        self.say(texts.GOODBYE)

    async def handle(self, line: str) -> bool:
        """One line from the user; False when they asked to leave. Bytes that were not UTF-8
        (kept as lone surrogates) become U+FFFD first: nothing could print them back."""
        text = without_surrogates(line).strip()
        if not text:
            return True
        if text.lower() in QUIT:
            return False
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            action = self._commands.get(command.lower())
            if action is None:
                await self._unknown()
            else:
                await action(rest.strip())
            return True
        if self.choices and (choice := typed_number(text)) is not None:
            await self._choose(choice)
            return True
        await self._message(text)
        return True

    async def _message(self, text: str) -> None:
        reply = await self.users.handle_message(self.asker, text)
        number = self.recent.remember(text)
        if reply.enquiry is not None:
            self.recent.forwarded[number] = reply.enquiry.ref
        self.show(screens.replies(self.users.kb, reply, number))

    async def _choose(self, number: int) -> None:
        if not 1 <= number <= len(self.choices):
            self.say(
                texts.get(await self._language_now()).chat_choose.format(count=len(self.choices))
            )
            return
        await self.act(self.choices[number - 1])

    async def act(self, action: cd.ButtonAction) -> None:
        """What a numbered choice does: what the same button does on Telegram."""
        kb, users = self.users.kb, self.users
        language = await self._language_now()
        words = texts.get(language)
        if isinstance(action, cd.OpenEntry) and action.entry_id in kb.entries:
            self.show([screens.entry(kb, kb.entries[action.entry_id], language)])
        elif isinstance(action, cd.Choose) and action.entry_id in kb.entries:
            asked = self.recent.question(action.number)
            answer, reply_in = await users.answer_choice(
                self.asker.user_id, action.entry_id, asked, language
            )
            entry = kb.entries[action.entry_id]
            self.show([screens.entry(kb, entry, reply_in, answer, action.number)])
        elif isinstance(action, cd.OpenCategory) and action.index < len(kb.categories):
            self.show([screens.category(kb, action.index, language)])
        elif isinstance(action, cd.ShowTopics):
            self.show([screens.topics(kb, language)])
        elif isinstance(action, cd.AskStaff):
            reason = "none of the suggestions" if action.none_of_these else "asked for staff"
            self._tell(
                await users.forward_remembered(
                    self.asker, self.recent, action.number, reason, language
                )
            )
        elif isinstance(action, cd.JoinEnquiry | cd.NewEnquiry):
            ref = action.ref if isinstance(action, cd.JoinEnquiry) else None
            self._tell(await users.settle(self.asker, self.recent, action.number, ref, language))
        elif isinstance(action, cd.Feedback):
            await users.rate(self.asker.user_id, action.entry_id, action.helpful)
            self.say(words.feedback_thanks)
        elif isinstance(action, cd.Forget):
            await self._forgotten(action.confirmed, language)
        elif isinstance(action, cd.SetLanguage):
            await users.choose_language(self.asker.user_id, action.language)
            self.say(strip_tags(texts.get(action.language).language_set))
        else:  # an entry or category a /reload removed since the choices were shown
            self.say(words.button_expired)

    # -- commands --------------------------------------------------------------------------
    async def _start(self, rest: str) -> None:
        language = await self._language_now()
        self.show([screens.topics(self.users.kb, language, texts.get(language).welcome)])

    async def _help(self, rest: str) -> None:
        self.choices = []
        self._write(texts.get(await self._language_now()).chat_help + "\n")

    async def _topics(self, rest: str) -> None:
        self.show([screens.topics(self.users.kb, await self._language_now())])

    async def _contact(self, rest: str) -> None:
        self.show([screens.contact(self.users.kb, await self._language_now())])

    async def _ask(self, question: str) -> None:
        language = await self._language_now()
        if not question:
            self.show([Screen((texts.get(language).ask_usage,))])
            return
        number = self.recent.remember(question)
        reason = "asked for staff"
        self._tell(
            await self.users.forward_remembered(self.asker, self.recent, number, reason, language)
        )

    async def _status(self, rest: str) -> None:
        """The user's enquiries, each with the staff replies it got."""
        language = await self._language_now()
        enquiries = await self.users.status(self.asker.user_id)
        self.show([screens.status(enquiries, language)])
        for enquiry in enquiries:
            for message in await self.users.thread(self.asker.user_id, enquiry.ref):
                if message.is_staff_reply:
                    self._write(f"  {_staff_reply(enquiry.ref, enquiry.language, message)}\n")

    async def _language(self, rest: str) -> None:
        self.show([screens.language_choice(await self._language_now())])

    async def _privacy(self, rest: str) -> None:
        days = self.services.settings.storage.retention_days
        words = texts.get(await self._language_now())
        self.show([Screen((words.privacy.format(days=days),))])

    async def _forget(self, rest: str) -> None:
        self.show([screens.forget(await self._language_now())])

    async def _forgotten(self, confirmed: bool, language: str) -> None:
        words = texts.get(language)
        if not confirmed:
            self.say(words.forget_cancelled)
            return
        result = await self.users.forget(self.asker.user_id)
        self.recent.clear()
        self.say(
            words.forgotten.format(
                enquiries=result.enquiries, messages=result.messages, feedback=result.feedback
            )
        )

    async def _console(self, link: Callable[[], str]) -> None:
        self.say(link())

    async def _unknown(self) -> None:
        language = await self._language_now()
        words = texts.get(language)
        commands = ", ".join(f"/{name}" for name, _ in words.commands)
        self.say(words.chat_unknown_command.format(commands=f"{commands}, {QUIT[0]}"))

    # -- staff replies as they arrive ----------------------------------------------------------
    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)  # a poll of the store, which has no events
            await self.show_new_replies()

    async def show_new_replies(self) -> None:
        """Show staff replies stored since the last ones shown."""
        for ref, language, message in await self.users.staff_replies_after(
            self.asker.user_id, self._seen
        ):
            self._seen = message.id
            self._write("\n")
            self.say(_staff_reply(ref, language, message))
            self._write(PROMPT)

    # -- output --------------------------------------------------------------------------------
    def show(self, shown: Sequence[Screen]) -> None:
        """Screens as text, their buttons numbered; the numbers are the next choices."""
        choices: list[cd.ButtonAction] = []
        for screen in shown:
            self.say("\n".join(strip_tags(part) for part in screen.parts))
            for row in screen.rows:
                for button in row:
                    choices.append(button.action)
                    self._write(f"  {len(choices)}. {button.label}\n")
        self.choices = choices

    def _tell(self, notice: Notice) -> None:
        self.choices = []
        self.say(strip_tags(notice.html))

    def say(self, text: str) -> None:
        """What the bot says (plain text)."""
        self._write(f"bot> {text}\n")

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    async def _language_now(self) -> str:
        return await self.users.language_for(self.asker.user_id, None)


def _staff_reply(ref: int, language: str | None, message: Message) -> str:
    """A staff reply as plain text; an attachment, which a terminal cannot show, by its kind
    and name."""
    text = f"[{label(message.media)}] {message.text}" if message.media else message.text
    return strip_tags(staffview.staff_reply_to_user(ref, language, text.strip()))


def _read_lines(
    stdin: TextIO, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]
) -> None:
    """In a thread: every line of `stdin` into `lines`, then None at the end of input."""
    try:
        for line in iter(stdin.readline, ""):
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)
    except (RuntimeError, ValueError, OSError):  # the chat ended first (loop or stdin closed)
        return
