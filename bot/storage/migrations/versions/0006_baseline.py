"""The schema as SQLite's user_version 6 left it: enquiries and their threads, the outbox,
users, feedback, ratings and the daily count of the bot's own answers.

A SQLite database made before Alembic is stamped with this revision once the old scripts
have brought it here (`bot.storage.migrate`); a new database, on either engine, starts here.

Revision ID: 0006
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = None
branch_labels = None
depends_on = None

#: 64 bits for Telegram's ids; INTEGER on SQLite, so that a primary key is the row id.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "enquiries",
        sa.Column("ref", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("chat_id", Id, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("username", sa.Text),
        sa.Column("language", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("candidates", sa.Text, nullable=False, server_default="[]"),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("state", sa.Text, nullable=False, server_default="new"),
        sa.Column("assignee", Id),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("first_reply_at", sa.Text),
        sa.Column("resolved_at", sa.Text),
        sa.Column("staff_message_id", Id),
        sa.Column("staff_thread_id", Id),
        sa.Column("reminded_at", sa.Text),
        sa.Column("kb_suggested", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("code", sa.Text, nullable=False, server_default=""),
        sa.Column("assignee_name", sa.Text, nullable=False, server_default=""),
        sa.Column("pending_since", sa.Text),
        sa.Column("merged_into", Id),
        sqlite_autoincrement=True,
    )
    op.create_index("enquiries_user", "enquiries", ["user_id", "created_at"])
    op.create_index("enquiries_state", "enquiries", ["state", "created_at"])
    op.create_table(
        "messages",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ref", Id, sa.ForeignKey("enquiries.ref", ondelete="CASCADE"), nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("author_id", Id),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("author_name", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.Text, nullable=False, server_default="text"),
        sa.Column("media", sa.Text),
        sa.Column("chat_id", Id),
        sa.Column("message_id", Id),
        sa.Column("edit_of", Id),
        sa.Column("saved_reply", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("author IN ('user', 'staff')", name="messages_author"),
        sqlite_autoincrement=True,
    )
    op.create_index("messages_ref", "messages", ["ref", "id"])
    op.create_index("messages_source", "messages", ["chat_id", "message_id"])
    op.create_table(
        "feedback",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("entry_id", sa.Text, nullable=False),
        sa.Column("helpful", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("feedback_user", "feedback", ["user_id"])
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ref", Id, sa.ForeignKey("enquiries.ref", ondelete="CASCADE")),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("chat_id", Id, nullable=False),
        sa.Column("in_thread", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("markup", sa.Text),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("telegram_message_id", Id),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text),
        sa.Column("copy_chat_id", Id),
        sa.Column("copy_message_id", Id),
        sa.Column("edit_of", Id),
        sa.Column("carries", Id),
        sqlite_autoincrement=True,
    )
    op.create_index("outbox_due", "outbox", ["state", "next_attempt_at"])
    op.create_index("outbox_carries", "outbox", ["carries"])
    op.create_index("outbox_telegram", "outbox", ["chat_id", "telegram_message_id"])
    op.create_table(
        "thread_messages",
        sa.Column("chat_id", Id, primary_key=True, autoincrement=False),
        sa.Column("message_id", Id, primary_key=True, autoincrement=False),
        sa.Column("ref", Id, sa.ForeignKey("enquiries.ref", ondelete="CASCADE"), nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("user_id", Id, primary_key=True, autoincrement=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "ratings",
        sa.Column(
            "ref",
            Id,
            sa.ForeignKey("enquiries.ref", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("asked_at", sa.Text, nullable=False),
        sa.Column("score", sa.Integer),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("rated_at", sa.Text),
        sa.Column("prompt_chat_id", Id),
        sa.Column("prompt_message_id", Id),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ratings_score"),
    )
    op.create_table(
        "bot_answers",
        sa.Column("day", sa.Text, primary_key=True),
        sa.Column("answered", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
