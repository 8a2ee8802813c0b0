"""Delivering the outbox: retries with backoff, resumed after a restart, each message once.

The worker knows nothing of Telegram: it hands each due message to a `Sender`, which
returns the message id Telegram gave it, or raises `RetryLater` (network error, 429, 5xx)
or `Undeliverable` (the user blocked the bot, the chat is gone). The id is recorded the
moment the call returns, so the only window for a duplicate is a crash between Telegram
accepting a message and that one write; after such a crash the message is sent again
rather than never.

When that write fails (a full or read-only disk), the worker keeps the outcome in memory
and writes it before anything else once the disk takes writes again; until then the row
stays "sending", so nothing sends it twice, and the worker backs off instead of spinning.
On stop it finishes the message in hand (within `STOP_GRACE_S`) and leaves the rest
pending for the next start.

Several replicas on one PostgreSQL database share the outbox through a `Claimer`
(bot.storage.replicas.OutboxClaims): each message is claimed by one of them with a lease,
in the same order, and a message whose claim lapsed (its replica died mid-send) is claimed
again by another; nothing is reset at start-up then (the rows another replica is sending are
not this one's to reset).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from bot.storage.database import StorageUnavailable
from bot.storage.outbox import Lane, OutboxStore
from bot.storage.records import Draft, Enquiry, OutboxItem

log = logging.getLogger(__name__)

#: How long a stop waits for the message in hand (it may be waiting on the rate limiter).
STOP_GRACE_S = 5.0
#: The longest wait between rounds while the database takes no writes.
STORAGE_RETRY_CAP_S = 30.0

#: A write of what Telegram answered, not yet taken by the store.
Outcome = Callable[[], Awaitable[None]]


class RetryLater(Exception):
    """A temporary failure; `retry_after` seconds if the server said so."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Undeliverable(Exception):
    """A permanent failure: trying again will not help."""


class Claimer(Protocol):
    """Takes the next due message for this bot alone (replicas on one database)."""

    async def claim(self, lane: Lane | None) -> OutboxItem | None:
        """The next message of `lane` (or of both) to send, already marked as being sent."""
        ...


class Sender(Protocol):
    """Sends one outbox message and returns Telegram's id for it."""

    async def send(self, item: OutboxItem) -> int:
        """Deliver `item`; raise RetryLater or Undeliverable on failure."""
        ...


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff between attempts, capped."""

    base_s: float = 1.0
    cap_s: float = 300.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return float(min(self.cap_s, self.base_s * 2 ** max(attempts - 1, 0)))


FailureNotice = Callable[[OutboxItem, str], Callable[[Enquiry], Sequence[Draft]] | None]


async def deliver_due(
    store: OutboxStore,
    sender: Sender,
    backoff: Backoff = Backoff(),
    on_failure: FailureNotice | None = None,
    limit: int = 50,
    stopping: Callable[[], bool] = lambda: False,
    unrecorded: list[Outcome] | None = None,
    lane: Lane | None = None,
    claimer: Claimer | None = None,
) -> int:
    """Deliver what is due now (of one `lane`, or both), one message at a time, in order;
    returns how many were sent.

    Stops early once `stopping()` is true. An outcome the store cannot take is appended to
    `unrecorded` (for the caller to write later) before StorageUnavailable is raised. With
    a `claimer` (replicas), messages are claimed through it instead.
    """
    sent = 0
    for _ in range(limit):
        if stopping():
            break
        # One at a time: a message sent now can change how the next one is threaded
        # (the announcement's id is what follow-ups reply to).
        if claimer is not None:
            claimed = await claimer.claim(lane)
            if claimed is None:
                break
            item = claimed
        else:
            due = await store.due(limit=1, lane=lane)
            if not due:
                break
            item = due[0]
            if not await store.mark_sending(item.id):
                # Read as due, but no longer pending when taken: delivered or taken meanwhile.
                # Sending it anyway is how a message reached a user twice in the fault run
                # (the old storage's reads could see a moment before the last commit).
                log.warning(
                    "outbox %s (#%s): no longer pending when taken; not sent", item.id, item.ref
                )
                continue
        outcome: Outcome
        try:
            message_id = await sender.send(item)
        except RetryLater as exc:
            delay = (
                exc.retry_after
                if exc.retry_after is not None
                else backoff.delay(item.attempts + 1)
            )
            log.warning("outbox %s (#%s): %s; retrying in %.1fs", item.id, item.ref, exc, delay)
            outcome = partial(store.mark_retry, item.id, str(exc), delay)
        except Undeliverable as exc:
            log.warning("outbox %s (#%s) undeliverable: %s", item.id, item.ref, exc)
            render = on_failure(item, str(exc)) if on_failure else None
            outcome = partial(store.mark_failed, item, str(exc), render)
        except StorageUnavailable:  # the sender's own write (a forum topic): not sent
            outcome = partial(store.mark_retry, item.id, "the database takes no writes", 0)
        except Exception as exc:  # a sender bug must not strand the message mid-send
            log.exception("outbox %s (#%s): unexpected error", item.id, item.ref)
            outcome = partial(
                store.mark_retry, item.id, repr(exc), backoff.delay(item.attempts + 1)
            )
        else:
            outcome = partial(store.mark_sent, item, message_id)
            sent += 1
        try:
            await outcome()
        except StorageUnavailable:
            if unrecorded is not None:
                unrecorded.append(outcome)
            raise
    return sent


class OutboxWorker:
    """Background tasks that deliver the outbox as soon as something is due: one lane for
    what goes to users (answers, copies, edits, rating questions), one for the staff chat,
    so that a user's answer never waits behind the staff group's rate limit."""

    def __init__(
        self,
        store: OutboxStore,
        sender: Sender,
        backoff: Backoff = Backoff(),
        on_failure: FailureNotice | None = None,
        idle_s: float = 30.0,
        claimer: Claimer | None = None,
    ) -> None:
        self.store = store
        self.sender = sender
        self.backoff = backoff
        self.on_failure = on_failure
        self.idle_s = idle_s  # replicas: how often to look for what the others queued
        self.claimer = claimer
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._unrecorded: list[Outcome] = []
        self._recording = asyncio.Lock()  # both lanes write owed outcomes: one at a time

    async def start(self) -> None:
        """Resume after a restart (messages caught mid-send go again) and start delivering."""
        recovered = 0 if self.claimer is not None else await self.store.recover()
        if recovered:
            log.warning(
                "outbox: %d message(s) were mid-send at shutdown; sending again", recovered
            )
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._run(lane), name=f"clair-bot outbox ({lane})")
            for lane in Lane
        ]

    async def stop(self, grace_s: float | None = None) -> None:
        """Finish the message in hand (for at most `grace_s`, default STOP_GRACE_S), then
        stop; the rest stays pending for the next start."""
        self._stopping.set()
        self.store.changed.set()
        if self._tasks:
            grace = STOP_GRACE_S if grace_s is None else grace_s
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            if pending:  # stuck behind the rate limiter or a slow server
                log.warning("outbox: the message in hand did not finish; it goes at next start")
                for task in pending:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            self._tasks = []
        with contextlib.suppress(StorageUnavailable):
            await self._record_outcomes()
        if self._unrecorded:
            log.error(
                "outbox: %d delivery outcome(s) could not be written; those messages will be "
                "sent again at the next start",
                len(self._unrecorded),
            )

    async def _record_outcomes(self) -> None:
        """Write what Telegram answered before the store failed, oldest first."""
        async with self._recording:
            while self._unrecorded:
                await self._unrecorded[0]()
                self._unrecorded.pop(0)

    async def deliver(self, lane: Lane | None = None) -> int:
        """One round: the outcomes still owed to the store, then what is due (of `lane`)."""
        await self._record_outcomes()
        return await deliver_due(
            self.store,
            self.sender,
            self.backoff,
            self.on_failure,
            stopping=self._stopping.is_set,
            unrecorded=self._unrecorded,
            lane=lane,
            claimer=self.claimer,
        )

    async def _run(self, lane: Lane) -> None:
        """One lane: deliver its messages until stopped."""
        changed = self.store.changed.subscribe()
        try:
            await self._lane(lane, changed)
        finally:
            self.store.changed.unsubscribe(changed)

    async def _lane(self, lane: Lane, changed: asyncio.Event) -> None:
        failures = 0  # rounds in a row that failed (most often on a write)
        while not self._stopping.is_set():
            changed.clear()
            try:
                await self.deliver(lane)
                failures = 0
            except StorageUnavailable:  # the database logged why, once
                failures += 1
            except Exception:  # keep delivering whatever one bad message did
                log.exception("outbox: delivery round failed")
                failures += 1
            wait = self.idle_s
            if failures:
                wait = min(self.backoff.delay(failures), STORAGE_RETRY_CAP_S)
            else:
                upcoming = await self.store.next_attempt_at(lane)
                if upcoming is not None:
                    wait = min(wait, max(0.0, (upcoming - self.store.clock()).total_seconds()))
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=wait)
