"""Every sentence the bot says that is not knowledge-base content, in one place for review."""

from __future__ import annotations

EMPTY_QUESTION = (
    'Please type your question in words, for example: "When do LGOTP trainees arrive in '
    'Japan?" or "What does a CIR do?"'
)
DID_YOU_MEAN = "I'm not sure which of these you mean. Did you mean:"
NONE_OF_THESE = "None of these - ask staff"
DIVISION = "the International Cooperation and Economic Relations Division"


def escalated(ref: int) -> str:
    """The acknowledgement for a question forwarded to staff."""
    return (
        f"I don't have a reliable answer to that, so I've forwarded your question to CLAIR "
        f"staff ({DIVISION}). Your reference is #{ref}. A member of staff will reply to you "
        f"here; you don't need to ask again."
    )


NO_TOKEN = """\
TELEGRAM_BOT_TOKEN is not set, so the Telegram bot cannot start.
To run it on Telegram: talk to @BotFather in Telegram, send /newbot, follow the prompts,
then run:  TELEGRAM_BOT_TOKEN=<the token> make run
Meanwhile, here is the same bot in your terminal (same knowledge base, same database)."""

CHAT_HELP = """\
Type a question and press Enter. When I offer choices, type the number of one.
Commands: /staff <question> sends a question straight to staff, /status lists your
enquiries, /help shows this, /quit leaves (Ctrl-D works too)."""
