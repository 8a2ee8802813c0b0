"""The SQLite schema as it was before Alembic: numbered scripts and `PRAGMA user_version`.

A SQLite database made then (at any user_version from 1 to 6) is brought to version 6 by
these scripts, the same ones that made it, and stamped as Alembic's revision 0006, whose
tables are the same (`bot/storage/migrations/versions/0006_baseline.py`). They are kept as
written then: they are history, and what they did must not change.
"""

from __future__ import annotations

#: The schema before Alembic, one script per PRAGMA user_version; a database at version N
#: runs scripts N+1 onwards, then Alembic carries on from revision 0006.
SCRIPTS: tuple[str, ...] = (
    # 1: enquiries, their messages, and feedback on answers.
    """
    CREATE TABLE enquiries (
        ref INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        username TEXT,
        language TEXT,
        text TEXT NOT NULL,
        candidates TEXT NOT NULL DEFAULT '[]',
        reason TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'new',
        assignee INTEGER,
        created_at TEXT NOT NULL,
        first_reply_at TEXT,
        resolved_at TEXT
    );
    CREATE INDEX enquiries_user ON enquiries (user_id, created_at);
    CREATE INDEX enquiries_state ON enquiries (state, created_at);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ref INTEGER NOT NULL REFERENCES enquiries (ref) ON DELETE CASCADE,
        author TEXT NOT NULL CHECK (author IN ('user', 'staff')),
        author_id INTEGER,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_ref ON messages (ref, id);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        entry_id TEXT NOT NULL,
        helpful INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX feedback_user ON feedback (user_id);
    """,
    # 2: the staff side: where each enquiry lives in the staff chat, and the outbox.
    """
    ALTER TABLE enquiries ADD COLUMN staff_message_id INTEGER;
    ALTER TABLE enquiries ADD COLUMN staff_thread_id INTEGER;
    ALTER TABLE enquiries ADD COLUMN reminded_at TEXT;
    ALTER TABLE enquiries ADD COLUMN kb_suggested INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN author_name TEXT NOT NULL DEFAULT '';
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ref INTEGER REFERENCES enquiries (ref) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        chat_id INTEGER NOT NULL,
        in_thread INTEGER NOT NULL DEFAULT 0,
        text TEXT NOT NULL,
        markup TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        telegram_message_id INTEGER,
        created_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
    CREATE TABLE thread_messages (
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        ref INTEGER NOT NULL REFERENCES enquiries (ref) ON DELETE CASCADE,
        PRIMARY KEY (chat_id, message_id)
    );
    """,
    # 3: the language a user chose with /language.
    """
    CREATE TABLE users (
        user_id INTEGER PRIMARY KEY,
        language TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # 4: the matcher's stable reason code for why an enquiry went to staff.
    """
    ALTER TABLE enquiries ADD COLUMN code TEXT NOT NULL DEFAULT '';
    """,
    # 5: left for the outbox's own change (issue 10); a database at 4 runs it as a no-op.
    """
    SELECT 1;
    """,
    # 6: the helpdesk side: pending and merged enquiries, who holds one, attachments, notes
    # and edits in threads, copies and edits in the outbox, ratings, the bot's own answers.
    """
    UPDATE enquiries SET state = 'pending' WHERE state = 'answered';
    ALTER TABLE enquiries ADD COLUMN assignee_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE enquiries ADD COLUMN pending_since TEXT;
    ALTER TABLE enquiries ADD COLUMN merged_into INTEGER;
    ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
    ALTER TABLE messages ADD COLUMN media TEXT;
    ALTER TABLE messages ADD COLUMN chat_id INTEGER;
    ALTER TABLE messages ADD COLUMN message_id INTEGER;
    ALTER TABLE messages ADD COLUMN edit_of INTEGER;
    ALTER TABLE messages ADD COLUMN saved_reply TEXT NOT NULL DEFAULT '';
    CREATE INDEX messages_source ON messages (chat_id, message_id);
    ALTER TABLE outbox ADD COLUMN copy_chat_id INTEGER;
    ALTER TABLE outbox ADD COLUMN copy_message_id INTEGER;
    ALTER TABLE outbox ADD COLUMN edit_of INTEGER;
    ALTER TABLE outbox ADD COLUMN carries INTEGER;
    CREATE INDEX outbox_carries ON outbox (carries);
    CREATE INDEX outbox_telegram ON outbox (chat_id, telegram_message_id);
    CREATE TABLE ratings (
        ref INTEGER PRIMARY KEY REFERENCES enquiries (ref) ON DELETE CASCADE,
        asked_at TEXT NOT NULL,
        score INTEGER CHECK (score BETWEEN 1 AND 5),
        comment TEXT NOT NULL DEFAULT '',
        rated_at TEXT,
        prompt_chat_id INTEGER,
        prompt_message_id INTEGER
    );
    CREATE TABLE bot_answers (
        day TEXT PRIMARY KEY,
        answered INTEGER NOT NULL DEFAULT 0
    );
    """,
)
