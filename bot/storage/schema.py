"""The tables, defined once for both engines (SQLite and PostgreSQL).

Every query of the store is built on these with SQLAlchemy's Core; the Alembic migrations in
`bot/storage/migrations` create and change them. Moments are stored as ISO 8601 text in UTC
(`bot.storage.database.stamp`), which sorts in time order on both engines. Telegram's ids
need 64 bits; a primary key on SQLite stays INTEGER, so that it is the row id and
AUTOINCREMENT never hands out a number twice (references are shown to people).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)

#: A 64-bit integer; INTEGER on SQLite, so that a primary key is the row id.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

enquiries = Table(
    "enquiries",
    metadata,
    Column("ref", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, nullable=False),
    Column("chat_id", Id, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("username", Text),
    Column("language", Text),
    Column("text", Text, nullable=False),
    Column("candidates", Text, nullable=False, server_default="[]"),
    Column("reason", Text, nullable=False, server_default=""),
    Column("state", Text, nullable=False, server_default="new"),
    Column("assignee", Id),
    Column("created_at", Text, nullable=False),
    Column("first_reply_at", Text),
    Column("resolved_at", Text),
    Column("staff_message_id", Id),
    Column("staff_thread_id", Id),
    Column("reminded_at", Text),
    Column("kb_suggested", Integer, nullable=False, server_default=text("0")),
    Column("code", Text, nullable=False, server_default=""),
    Column("assignee_name", Text, nullable=False, server_default=""),
    Column("pending_since", Text),
    Column("merged_into", Id),
    Index("enquiries_user", "user_id", "created_at"),
    Index("enquiries_state", "state", "created_at"),
    sqlite_autoincrement=True,
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ref", Id, ForeignKey("enquiries.ref", ondelete="CASCADE"), nullable=False),
    Column("author", Text, nullable=False),
    Column("author_id", Id),
    Column("text", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("author_name", Text, nullable=False, server_default=""),
    Column("kind", Text, nullable=False, server_default="text"),
    Column("media", Text),
    Column("chat_id", Id),
    Column("message_id", Id),
    Column("edit_of", Id),
    Column("saved_reply", Text, nullable=False, server_default=""),
    CheckConstraint("author IN ('user', 'staff')", name="messages_author"),
    Index("messages_ref", "ref", "id"),
    Index("messages_source", "chat_id", "message_id"),
    sqlite_autoincrement=True,
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, nullable=False),
    Column("entry_id", Text, nullable=False),
    Column("helpful", Integer, nullable=False),
    Column("created_at", Text, nullable=False),
    Index("feedback_user", "user_id"),
    sqlite_autoincrement=True,
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ref", Id, ForeignKey("enquiries.ref", ondelete="CASCADE")),
    Column("kind", Text, nullable=False),
    Column("chat_id", Id, nullable=False),
    Column("in_thread", Integer, nullable=False, server_default=text("0")),
    Column("text", Text, nullable=False),
    Column("markup", Text),
    Column("state", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", Text, nullable=False),
    Column("last_error", Text),
    Column("telegram_message_id", Id),
    Column("created_at", Text, nullable=False),
    Column("sent_at", Text),
    Column("copy_chat_id", Id),
    Column("copy_message_id", Id),
    Column("edit_of", Id),
    Column("carries", Id),
    Column("claimed_by", Text),  # replicas: who claimed it (bot.storage.replicas)
    Column("lease_until", Text),  # replicas: when that claim lapses
    Index("outbox_due", "state", "next_attempt_at"),
    Index("outbox_carries", "carries"),
    Index("outbox_telegram", "chat_id", "telegram_message_id"),
    sqlite_autoincrement=True,
)

thread_messages = Table(
    "thread_messages",
    metadata,
    Column("chat_id", Id, primary_key=True, autoincrement=False),
    Column("message_id", Id, primary_key=True, autoincrement=False),
    Column("ref", Id, ForeignKey("enquiries.ref", ondelete="CASCADE"), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("user_id", Id, primary_key=True, autoincrement=False),
    Column("language", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

ratings = Table(
    "ratings",
    metadata,
    Column(
        "ref",
        Id,
        ForeignKey("enquiries.ref", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("asked_at", Text, nullable=False),
    Column("score", Integer),
    Column("comment", Text, nullable=False, server_default=""),
    Column("rated_at", Text),
    Column("prompt_chat_id", Id),
    Column("prompt_message_id", Id),
    CheckConstraint("score BETWEEN 1 AND 5", name="ratings_score"),
)

bot_answers = Table(
    "bot_answers",
    metadata,
    Column("day", Text, primary_key=True),
    Column("answered", Integer, nullable=False, server_default=text("0")),
)

#: Replicas: every update_id handled, written with the update's effects.
handled_updates = Table(
    "handled_updates",
    metadata,
    Column("update_id", Id, primary_key=True, autoincrement=False),
    Column("handled_at", Text, nullable=False),
)

#: Replicas: each user's numbered recent questions (what a "did you mean" button refers to),
#: as JSON, so that a button pressed on one replica finds a question asked on another.
user_state = Table(
    "user_state",
    metadata,
    Column("user_id", Id, primary_key=True, autoincrement=False),
    Column("state", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

#: Every table, parents before children (the order `db copy` fills them in).
TABLES = (
    enquiries,
    messages,
    feedback,
    outbox,
    thread_messages,
    users,
    ratings,
    bot_answers,
    handled_updates,
    user_state,
)
