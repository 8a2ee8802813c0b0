"""What an answer carries besides the matcher's text: a contact's telephone, and its source.

An answer that tells the user to contact an office ("please contact J.CLAIR Singapore") ends
with that office's telephone line, taken from the contact entry it lists in `related` (an
entry whose answer has a "Tel" line); every answer then ends with one short line naming the
source document of its entries (`sources.yaml`), in the language of the answer. Telegram,
the terminal chat and `clair-bot ask` all send answers through `finish`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot import texts
from bot.decision import Action, Decision
from bot.knowledge import Entry, KnowledgeBase

# How the sources phrase "get in touch with this office" (not "a contact point").
_CONTACT_US = re.compile(
    r"\bcontact\s+(?:CLAIR|J\.CLAIR|us\b|the\b)|お問い合わせください|お問合せください|ご連絡ください",
    re.IGNORECASE,
)
# A contact entry's telephone line: "Tel +81-3-5213-1726", "TEL 65-6224-7927", "電話 +81-...".
_PHONE_LINE = re.compile(r"^(?:tel|telephone|phone|電話)\b.*\d", re.IGNORECASE | re.MULTILINE)


def phone_line(entry: Entry, language: str) -> str | None:
    """The telephone line of a contact entry's answer, if it has one."""
    found = _PHONE_LINE.search(entry.answer_in(language))
    return found.group(0).strip() if found else None


def contact_phones(kb: KnowledgeBase, entry: Entry, text: str, language: str) -> list[str]:
    """For an answer that says to contact an office: that office's telephone, one line each.

    The office is a `related` entry with a telephone line; nothing is added to a contact
    entry's own answer, nor a number the answer already gives.
    """
    if phone_line(entry, language) is not None or not _CONTACT_US.search(text):
        return []
    lines = []
    for related in entry.related:
        contact = kb.entries.get(related)
        phone = phone_line(contact, language) if contact is not None else None
        if contact is not None and phone is not None and phone not in text:
            words = texts.get(language)
            lines.append(words.contact_phone.format(title=contact.title_in(language), phone=phone))
    return lines


def source_line(kb: KnowledgeBase, entries: Iterable[Entry], language: str) -> str:
    """ "Source: <title>" for the documents the entries come from (each once)."""
    titles = dict.fromkeys(kb.source_in(entry.source, language) for entry in entries)
    return texts.get(language).source.format(title="; ".join(titles)) if titles else ""


def finish(kb: KnowledgeBase, entry_ids: Iterable[str], text: str, language: str) -> str:
    """An answer as the user gets it: the text, a contact's telephone, the source line."""
    entries = [kb.entries[i] for i in dict.fromkeys(entry_ids) if i in kb.entries]
    if not entries:
        return text
    phones = [line for entry in entries for line in contact_phones(kb, entry, text, language)]
    body = "\n".join([text.rstrip(), *dict.fromkeys(phones)])
    return f"{body}\n\n{source_line(kb, entries, language)}"


def answer_text(kb: KnowledgeBase, decision: Decision) -> str:
    """The text sent for a decision: an answer finished as above; anything else as it is."""
    if decision.action is not Action.ANSWER:
        return decision.answer
    ids = decision.entry_ids or ((decision.entry_id,) if decision.entry_id else ())
    return finish(kb, ids, decision.answer, decision.language)
