"""The bot's core, shared by Telegram and the terminal chat: match, answer, or escalate.

Nothing here knows about Telegram. An escalated question is stored before the user is
told it was forwarded, so an acknowledgement always has a stored enquiry behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Action, Decision, Matcher
from bot.storage import Asker, Enquiry, Store


@dataclass(frozen=True)
class Reply:
    """The matcher's decision, and the stored enquiry when the question was escalated."""

    decision: Decision
    enquiry: Enquiry | None = None


class Service:
    """Knowledge base, matcher and store, opened together and closed together."""

    def __init__(self, settings: Settings, kb: KnowledgeBase, store: Store) -> None:
        self.settings = settings
        self.kb = kb
        self.matcher = Matcher(kb, settings.matcher)
        self.store = store

    @classmethod
    async def open(cls, settings: Settings) -> Service:
        """Load and validate the knowledge base (raises KnowledgeError), then open the store."""
        kb = load_knowledge(settings.knowledge.path)
        store = await Store.open(settings.storage.path)
        return cls(settings, kb, store)

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()

    async def ask(self, asker: Asker, text: str) -> Reply:
        """Decide on a question; store it as an enquiry if it goes to staff."""
        decision = self.matcher.decide(text)
        if decision.action is not Action.ESCALATE:
            return Reply(decision)
        enquiry = await self.store.create_enquiry(
            asker, text, decision.considered, decision.reason
        )
        return Reply(decision, enquiry)

    async def ask_staff(self, asker: Asker, text: str, reason: str = "asked for staff") -> Enquiry:
        """Send a question straight to staff, keeping what the matcher would have said."""
        considered = self.matcher.decide(text).considered if text.strip() else ()
        return await self.store.create_enquiry(asker, text, considered, reason)
