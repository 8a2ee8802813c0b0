"""Which enquiry a message of the bot's is about, read from its text (issue 10, point 1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot import references, staffview, texts
from bot.markup import strip_tags
from bot.storage.records import Enquiry, State
from bot.workhours import OfficeHours

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
HOURS = OfficeHours.parse("Asia/Tokyo", ("mon", "tue", "wed", "thu", "fri"), "09:00", "17:45")


def enquiry(ref: int, text: str = "what is the #5 deadline?", name: str = "Ana #9") -> Enquiry:
    return Enquiry(ref, 42, 42, name, "ana", "en", text, (), "", State.NEW, None, NOW, None, None)


def plain(html_text: str) -> str:
    """What a reply's quoted message shows: the text without its markup."""
    return strip_tags(html_text)


@pytest.mark.parametrize(
    "render",
    [
        lambda e: staffview.announcement(e, HOURS),
        lambda e: staffview.announcement(e, HOURS, reminder=True),
        lambda e: staffview.follow_up(e, "#3 and also #4"),
        lambda e: staffview.state_changed(e, "Kenji #2"),
        lambda e: staffview.delivery_failed(e.ref, "blocked #7"),
        lambda e: staffview.show(e, [], HOURS),
        lambda e: staffview.SENT_TO_USER.format(ref=e.ref),
        lambda e: staffview.ONLY_TEXT.format(ref=e.ref),
    ],
)
def test_every_staff_chat_message_about_an_enquiry_names_it(
    render: Callable[[Enquiry], str],
) -> None:
    assert references.in_staff_message(plain(render(enquiry(1234)))) == 1234


def test_staff_chat_messages_about_no_one_enquiry_name_none() -> None:
    page, _ = staffview.queue_page([enquiry(3), enquiry(4)], 2, 0, 10, NOW)
    for text in (page, staffview.NOT_TIED, staffview.NO_SUCH_ENQUIRY.format(ref=8), "#12", ""):
        assert references.in_staff_message(plain(text)) is None
    assert references.in_staff_message(None) is None


@pytest.mark.parametrize("words", texts.ALL)
def test_every_message_to_a_user_about_an_enquiry_names_it(words: texts.Texts) -> None:
    for template in (words.escalated, words.followed_up, words.already_forwarded):
        text = template.format(ref=56, when="Mon 30 Nov 12:00 JST #2")
        assert references.in_user_message(plain(text)) == 56
    answer = staffview.staff_reply_to_user(enquiry(56), "see #7 in the guide")
    assert references.in_user_message(plain(answer)) == 56


def test_a_users_own_words_name_no_enquiry() -> None:
    for text in ("my reference is #12", "#12", "enquiry #12", texts.EN.welcome, ""):
        assert references.in_user_message(text) is None
