"""The bot's core services, opened together and closed together; nothing here knows Telegram.

`Services` holds the knowledge base, the store and the services built on them: the user flow
(`users`), attachments and edits both ways (`relay`), the staff workflow (`staff`), ratings
(`satisfaction`), `maintenance`, changes to the knowledge base (`kbedit`) and who may use the
staff console (`console`). Telegram's handlers and the command line call their
methods; neither reaches into the store or the matcher.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot import stafftexts
from bot.config import Settings
from bot.consoleauth import ConsoleAccess
from bot.core import Knowledge, StaffNotices
from bot.kbedit import KnowledgeEditor
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.maintenance import Maintenance
from bot.matcher import Matcher
from bot.outbox import Backoff, OutboxWorker, Sender
from bot.relay import Relay
from bot.satisfaction import Satisfaction
from bot.savedreplies import SavedReplies, load_saved_replies
from bot.staffwork import StaffService
from bot.storage import Storage
from bot.storage.database import now
from bot.storage.enquiries import StoreHooks
from bot.storage.replicas import OutboxClaims, SharedWindow
from bot.users import UserService


class Services:
    """Knowledge base, store and the services on them."""

    def __init__(
        self,
        settings: Settings,
        kb: KnowledgeBase,
        storage: Storage,
        matcher: Matcher | None = None,
        saved: SavedReplies | None = None,
    ) -> None:
        self.settings = settings
        self.knowledge = Knowledge(settings, kb, matcher, saved)
        self.storage = storage
        self.hours = settings.staff.office_hours()
        staff = settings.staff
        words = stafftexts.get(staff.language)
        self.notices = StaffNotices(
            staff.chat_id,
            self.hours,
            words,
            staff.autoclose_days,
            follow_up_window_s=staff.follow_up_window_seconds,
        )
        # Every change of state, whichever command made it, updates the announcement's
        # buttons; the first close asks the user for a rating.
        storage.enquiries.hooks = StoreHooks(self.notices.keyboard, self.notices.resolved)
        self.users = UserService(settings, self.knowledge, storage, self.notices)
        if storage.database.dialect == "postgresql":  # replicas count a user's updates together
            self.users.flood.shared = SharedWindow(storage.database)
        self.relay = Relay(settings, storage, self.notices)
        self.staff = StaffService(settings, self.knowledge, storage, self.notices)
        self.satisfaction = Satisfaction(storage, self.notices)
        self.maintenance = Maintenance(settings, storage, self.notices)
        self.kbedit = KnowledgeEditor(self.knowledge, storage.enquiries)
        self.console = ConsoleAccess(staff.user_ids, storage.clock, settings.token)

    @classmethod
    async def open(cls, settings: Settings, clock: Callable[[], datetime] = now) -> Services:
        """Load and validate the knowledge base and the saved replies (raises KnowledgeError
        or SavedRepliesError), then open the store."""
        kb = load_knowledge(settings.knowledge.path)
        saved = load_saved_replies(settings.staff.saved_replies)
        storage = await Storage.open(settings.storage.url, clock)
        return cls(settings, kb, storage, saved=saved)

    async def close(self) -> None:
        """Close the store."""
        await self.storage.close()

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base in use (/reload replaces it)."""
        return self.knowledge.kb

    async def record_thread(self, ref: int, chat_id: int, message_ids: Sequence[int]) -> None:
        """Messages the bot sent or staff wrote about an enquiry: replies to them join it."""
        await self.storage.enquiries.record_thread_messages(ref, chat_id, message_ids)

    def outbox_worker(self, sender: Sender, backoff: Backoff | None = None) -> OutboxWorker:
        """The background task that delivers the outbox through `sender`; on PostgreSQL it
        claims each message with a lease (replicas share the outbox) and looks for what the
        others queued every storage.outbox_poll_seconds."""
        database, storage = self.storage.database, self.settings.storage
        if database.dialect != "postgresql":
            return OutboxWorker(
                self.storage.outbox,
                sender,
                backoff or Backoff(),
                on_failure=self.notices.failure_notice,
            )
        return OutboxWorker(
            self.storage.outbox,
            sender,
            backoff or Backoff(),
            on_failure=self.notices.failure_notice,
            idle_s=storage.outbox_poll_seconds,
            claimer=OutboxClaims(database, storage.outbox_lease_seconds),
        )
