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

# --------------------------------------------------------------------------- Telegram
# The texts below are sent with HTML parse mode: they may use <b>/<i>, and anything
# interpolated into them must already be escaped by the caller (handlers do this).

WELCOME = (
    "Hello! I'm the CLAIR Singapore assistant. I answer questions about CLAIR's programmes: "
    "LGOTP training, the JET Programme, exchanges, seminars, sister cities and more.\n\n"
    "Type your question in your own words, or pick a topic below. /help lists what else I "
    "can do."
)
HELP = (
    "<b>How to use this bot</b>\n"
    "Type a question, e.g. <i>When do LGOTP trainees arrive in Japan?</i> If I'm not sure, "
    "I'll show a few choices; if I can't answer, I'll forward your question to CLAIR staff.\n\n"
    "/topics - browse the topics\n"
    "/contact - how to reach CLAIR\n"
    "/ask &lt;question&gt; - send a question straight to staff\n"
    "/status - your questions to staff\n"
    "/privacy - what is stored about you\n"
    "/forget - delete what is stored about you\n\n"
    "In a group, mention me or reply to one of my messages."
)
TOPICS = "<b>Topics</b>\nPick a topic to see its questions:"
CONTACT_HEADER = "<b>How to reach CLAIR</b>"
ASK_USAGE = (
    "Type /ask followed by your question, e.g. <i>/ask Can my city host a trainee next year?"
    "</i> It goes straight to CLAIR staff, who will reply here."
)
ASK_TYPE_QUESTION = (
    "I no longer have that question. Please type it again after /ask, e.g. "
    "<i>/ask When is the application deadline?</i>"
)
NO_ENQUIRIES = "You have no questions with CLAIR staff."
ENQUIRIES_HEADER = "<b>Your questions to staff</b> (newest first):"
NOT_TEXT = (
    "Sorry, I can only read text messages. Please type your question in words. "
    "To send a question straight to CLAIR staff, type /ask followed by your question."
)
UNKNOWN_COMMAND = "I don't know that command. /help lists the commands I understand."
BUTTON_EXPIRED = "This button has expired - please type your question again."
FEEDBACK_THANKS = "Thank you for your feedback!"
SOMETHING_WRONG = (
    "Sorry, something went wrong on my side. Please try again in a moment, or type /ask "
    "followed by your question to reach CLAIR staff."
)
FORGET_CONFIRM = (
    "This deletes your questions to staff, their replies and your answer feedback. "
    "Staff will no longer be able to reply to open questions. Delete everything?"
)
FORGET_CANCELLED = "Nothing was deleted."

BUTTON_ASK_STAFF = "Ask staff"
BUTTON_HELPFUL = "👍"
BUTTON_NOT_HELPFUL = "👎"
BUTTON_BACK = "« Back"
BUTTON_FORGET_YES = "Yes, delete"
BUTTON_FORGET_NO = "No, keep it"

#: The command menu registered with set_my_commands, in the order shown to users.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Welcome and topics"),
    ("topics", "Browse the topics"),
    ("contact", "How to reach CLAIR"),
    ("ask", "Send a question straight to staff"),
    ("status", "Your questions to staff"),
    ("privacy", "What is stored about you"),
    ("forget", "Delete what is stored about you"),
    ("help", "How to use this bot"),
)


def privacy(retention_days: int) -> str:
    """What the bot stores about a person, and for how long."""
    return (
        "<b>Privacy</b>\n"
        "When a question goes to CLAIR staff, I store it with your name, username, Telegram "
        "user id and language, so staff can reply to you. When you rate an answer with "
        f"{BUTTON_HELPFUL} or {BUTTON_NOT_HELPFUL}, I store the rating with your user id.\n"
        "Questions answered from the knowledge base are not stored.\n"
        f"Stored questions are kept until they are resolved, then for {retention_days} more "
        "days. /forget deletes everything stored about you now."
    )


def forgotten(enquiries: int, messages: int, feedback: int) -> str:
    """The report after /forget was confirmed."""
    return (
        f"Done. I deleted {enquiries} question(s) to staff, {messages} message(s) and "
        f"{feedback} answer rating(s)."
    )


def already_forwarded(ref: int) -> str:
    """The reply when the same question's "Ask staff" button is pressed again."""
    return f"You already sent this question to staff: your reference is #{ref}."


DAILY_LIMIT = (
    "I've already forwarded as many of your questions to staff as I can today, so this one "
    "was not sent. Staff will reply to the ones you sent; please ask again tomorrow if you "
    "still need to."
)
TOO_FAST = "You're sending messages faster than I can read them. Please wait a minute."


def followed_up(ref: int) -> str:
    """The acknowledgement when a message joins the user's open enquiry."""
    return (
        f"I've added this to your open question #{ref}, so the member of staff handling it "
        "will see it. You don't need to ask again."
    )
