"""Which enquiry a message of the bot's is about, read from its text (issue 10, point 1), in
both staff languages and both user languages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot import references, stafftexts, staffview, texts
from bot.markup import strip_tags
from bot.stafftexts import StaffTexts
from bot.storage.records import Enquiry, Event, Media, State
from bot.workhours import OfficeHours

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
HOURS = OfficeHours.parse("Asia/Tokyo", ("mon", "tue", "wed", "thu", "fri"), "09:00", "17:45")
STAFF_WORDS = (stafftexts.EN, stafftexts.JA)


def enquiry(ref: int, text: str = "what is the #5 deadline?", name: str = "Ana #9") -> Enquiry:
    return Enquiry(ref, 42, 42, name, "ana", "en", text, (), "", State.NEW, None, NOW, None, None)


def plain(html_text: str) -> str:
    """What a reply's quoted message shows: the text without its markup."""
    return strip_tags(html_text)


STAFF_MESSAGES: list[Callable[[Enquiry, StaffTexts], str]] = [
    lambda e, w: staffview.announcement(e, HOURS, w),
    lambda e, w: staffview.announcement(e, HOURS, w, reminder=True),
    lambda e, w: staffview.follow_up(e, "#3 and also #4", w),
    lambda e, w: staffview.follow_up(e, "#3 new enquiry", w, after_reply=True),
    lambda e, w: staffview.user_edited(e, "now #3", w),
    lambda e, w: staffview.with_caption(
        staffview.attachment_header(e, Media("photo"), w), "#3 my passport"
    ),
    lambda e, w: staffview.state_changed(e, "Kenji #2", w),
    lambda e, w: staffview.state_changed(e, "Kenji #2", w, Event.REOPEN),
    lambda e, w: staffview.delivery_failed(e.ref, "blocked #7", w),
    lambda e, w: w.copy_failed.format(ref=e.ref, reason="#7"),
    lambda e, w: staffview.rated(e, 4, w),
    lambda e, w: staffview.commented(e, "see #7", w),
    lambda e, w: w.autoclosed.format(ref=e.ref, days=7),
    lambda e, w: w.merged_notice.format(merged=7, into=e.ref),
    lambda e, w: staffview.show(e, [], HOURS, w),
    lambda e, w: w.sent_to_user.format(ref=e.ref),
    lambda e, w: w.saved_reply_sent.format(key="deadline", ref=e.ref),
    lambda e, w: w.note_saved.format(ref=e.ref),
    lambda e, w: w.unsupported.format(ref=e.ref),
]


@pytest.mark.parametrize("words", STAFF_WORDS, ids=lambda w: w.language)
@pytest.mark.parametrize("render", STAFF_MESSAGES)
def test_every_staff_chat_message_about_an_enquiry_names_it(
    render: Callable[[Enquiry, StaffTexts], str], words: StaffTexts
) -> None:
    assert references.in_staff_message(plain(render(enquiry(1234), words))) == 1234


@pytest.mark.parametrize("words", STAFF_WORDS, ids=lambda w: w.language)
def test_staff_chat_messages_about_no_one_enquiry_name_none(words: StaffTexts) -> None:
    page, _ = staffview.queue_page([enquiry(3), enquiry(4)], 2, 0, 10, NOW, words)
    for text in (
        page,
        words.not_tied,
        words.no_such_enquiry.format(ref=8),
        words.merged.format(merged=3, into=4),  # the answer to /merge: about two
        "#12",
        "",
    ):
        assert references.in_staff_message(plain(text)) is None, text
    assert references.in_staff_message(None) is None


@pytest.mark.parametrize("words", texts.ALL, ids=lambda w: w.staff_reply[:10])
def test_every_message_to_a_user_about_an_enquiry_names_it(words: texts.Texts) -> None:
    for template in (words.escalated, words.followed_up, words.already_forwarded):
        text = template.format(ref=56, when="Mon 30 Nov 12:00 JST #2")
        assert references.in_user_message(plain(text)) == 56
    for text in (
        words.attachment_added.format(ref=56),
        words.rating_question.format(ref=56),
        words.autoclosed.format(ref=56, days=7),
        words.merged.format(merged=12, into=56),
    ):
        assert references.in_user_message(plain(text)) == 56
    language = "ja" if words is texts.JA else "en"
    answer = staffview.staff_reply_to_user(56, language, "see #7 in the guide")
    assert references.in_user_message(plain(answer)) == 56
    # A staff answer that quotes another enquiry's acknowledgement names its own first.
    quoting = staffview.staff_reply_to_user(56, language, words.followed_up.format(ref=7))
    assert references.in_user_message(plain(quoting)) == 56


def test_a_users_own_words_name_no_enquiry() -> None:
    for text in ("my reference is #12", "#12", "enquiry #12", texts.EN.welcome, ""):
        assert references.in_user_message(text) is None
