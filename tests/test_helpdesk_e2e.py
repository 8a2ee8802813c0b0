"""End to end, the helpdesk side of issue 13: the real Application, its outbox worker and the
fake Bot API over HTTP.

Attachments and edits both ways, internal notes, saved replies (in Japanese too), pending and
the automatic close, /merge, "claimed by" and /queue's views, the rating, /stats and its chart,
and every kind of bad input the issue lists.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import (
    STAFF_CHAT_ID,
    STAFF_USER_ID,
    USER_ID,
    Clock,
    Harness,
    answers,
    in_thread_of,
    is_escalated,
    recorded,
    running_bot,
    running_bot_at,
    staff_command,
    staff_overrides,
)
from fakebotapi import FakeBotApi, SentMessage

from bot import stafftexts, texts
from bot.markup import strip_tags
from bot.storage.records import MessageKind, State

QUESTION = "what is the application deadline for lgotp"
YUKI = 43
JA_QUESTION = "LGOTPの応募締め切りはいつですか"
EN = stafftexts.EN
JA = stafftexts.JA


@pytest.fixture
async def desk(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> AsyncIterator[Harness]:
    """The bot with a staff chat, speaking English to staff."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    async with running_bot_at(staff_api, tmp_path, clock, staff_overrides()) as harness:
        yield harness


@pytest.fixture
async def desk_ja(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """The bot as shipped for the division: staff texts in Japanese (staff.language: ja)."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    staff_api.user(YUKI, "Yuki", language_code="ja")
    overrides = staff_overrides()
    del overrides["CLAIRBOT_STAFF_LANGUAGE"]  # the default
    async with running_bot(staff_api, tmp_path, **overrides) as harness:
        yield harness


# ------------------------------------------------------------------------------- helpers
def copies(messages: list[SentMessage]) -> list[tuple[int, int]]:
    """Where each copied message was copied from."""
    return [m.copied_from for m in messages if m.copied_from is not None]


async def escalate(bot: Harness, text: str = QUESTION, ref: int = 1) -> SentMessage:
    """The test user asks something unanswerable; return the announcement."""
    assert is_escalated((await bot.say(text)).text, ref)
    announcement = await bot.api.next_message(STAFF_CHAT_ID)
    await recorded(bot, ref)
    return announcement


async def state_of(bot: Harness, ref: int) -> State:
    enquiry = await bot.service.storage.enquiries.get(ref)
    assert enquiry is not None
    return enquiry.state


async def outbox_drained(bot: Harness) -> None:
    """Wait until the worker has delivered everything in the outbox."""

    async def poll() -> None:
        # A poll with a deadline: the store has no event for deliveries.
        while any(  # noqa: ASYNC110
            item.state.value in ("pending", "sending")
            for item in await bot.service.storage.outbox.items()
        ):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout=5)


# --------------------------------------------------------------- attachments, both ways
async def test_a_photo_and_a_pdf_from_the_user_reach_the_staff_thread(desk: Harness) -> None:
    api = desk.api
    photo_id = api.send_photo(caption="My <visa> letter", user=USER_ID)
    assert is_escalated((await api.next_message(USER_ID)).text, 1)  # it opened #1
    announcement = await api.next_message(STAFF_CHAT_ID)
    assert "My <visa> letter" in announcement.text
    photo = await api.next_message(STAFF_CHAT_ID)
    assert photo.copied_from == (USER_ID, photo_id) and "photo" in photo.payload
    assert photo.reply_to_message_id == announcement.message_id
    assert photo.text == "#1 Ana <Test>, @ana, id 42 sent a photo\nMy <visa> letter"

    pdf_id = api.send_document("form.pdf", b"%PDF-1.7 form", caption="The form", user=USER_ID)
    ack = await api.next_message(USER_ID)
    assert ack.text == texts.EN.attachment_added.format(ref=1)
    pdf = await api.next_message(STAFF_CHAT_ID)
    assert pdf.copied_from == (USER_ID, pdf_id)
    assert pdf.payload["document"]["file_name"] == "form.pdf"
    assert pdf.text.endswith("sent a file\nThe form")
    messages = await desk.service.storage.enquiries.messages(1)
    assert [(m.kind, m.media.type if m.media else None, m.text) for m in messages] == [
        (MessageKind.ATTACHMENT, "photo", "My <visa> letter"),
        (MessageKind.ATTACHMENT, "document", "The form"),
    ]
    assert messages[1].media is not None and messages[1].media.file_name == "form.pdf"


async def test_an_album_is_forwarded_whole_and_acknowledged_once(desk: Harness) -> None:
    api = desk.api
    sent = [
        api.send_photo(caption="page 1" if n == 0 else None, media_group_id="A1", user=USER_ID)
        for n in range(3)
    ]
    assert is_escalated((await api.next_message(USER_ID)).text, 1)
    await api.wait_for(lambda: len(copies(api.messages(STAFF_CHAT_ID))) == 3)
    assert copies(api.messages(STAFF_CHAT_ID)) == [(USER_ID, n) for n in sent]
    assert len(await desk.service.storage.enquiries.messages(1)) == 3
    assert len(api.messages(USER_ID)) == 1  # one acknowledgement for the album


async def test_a_location_goes_with_a_line_saying_who_sent_it(desk: Harness) -> None:
    await escalate(desk)
    location_id = desk.api.send_location(user=USER_ID)
    await desk.api.next_message(USER_ID)
    said = await desk.api.next_message(STAFF_CHAT_ID)
    assert said.text == "#1 Ana <Test>, @ana, id 42 sent a location"
    copy = await desk.api.next_message(STAFF_CHAT_ID)
    assert copy.copied_from == (USER_ID, location_id) and "location" in copy.payload


async def test_a_photo_and_a_pdf_from_staff_reach_the_user(desk: Harness) -> None:
    api = desk.api
    announcement = await escalate(desk)
    photo_id = api.send_photo(
        caption="The office map", user=STAFF_USER_ID, chat=STAFF_CHAT_ID, reply_to=announcement
    )
    photo = await api.next_message(USER_ID)
    assert photo.copied_from == (STAFF_CHAT_ID, photo_id) and "photo" in photo.payload
    assert photo.text == "CLAIR staff (about your enquiry #1):\nThe office map"
    assert (await api.next_message(STAFF_CHAT_ID)).text == "Sent to the user (#1)."
    pdf_id = api.send_document(
        "guide.pdf", b"%PDF-1.7", user=STAFF_USER_ID, chat=STAFF_CHAT_ID, reply_to=announcement
    )
    pdf = await api.next_message(USER_ID)
    assert pdf.copied_from == (STAFF_CHAT_ID, pdf_id)
    assert pdf.payload["document"]["file_name"] == "guide.pdf"
    assert pdf.text == "CLAIR staff (about your enquiry #1):"
    assert await state_of(desk, 1) is State.PENDING


async def test_stickers_are_not_relayed_on_either_side(desk: Harness) -> None:
    announcement = await escalate(desk)
    desk.api.send_sticker(user=STAFF_USER_ID, chat=STAFF_CHAT_ID, reply_to=announcement)
    said = await desk.api.next_message(STAFF_CHAT_ID)
    assert said.text.startswith("Stickers and this kind of message are not relayed (#1)")
    desk.api.send_sticker(user=USER_ID)
    assert (await desk.api.next_message(USER_ID)).text == texts.EN.not_text
    assert desk.api.messages(USER_ID)[-1].copied_from is None
    assert len(await desk.service.storage.enquiries.messages(1)) == 1


async def test_files_over_telegrams_limit_are_refused_clearly(desk: Harness) -> None:
    api = desk.api
    big = 25 * 1024 * 1024
    api.send_document("huge.zip", b"PK", caption="all my files", file_size=big, user=USER_ID)
    refused = await api.next_message(USER_ID)
    assert refused.text == texts.EN.file_too_big.format(limit=20)
    # No size in the update: getFile says the file is too big for a bot.
    api.send_document("unsized.zip", b"PK", file_size=big, size_in_update=False, user=USER_ID)
    assert (await api.next_message(USER_ID)).text == texts.EN.file_too_big.format(limit=20)
    assert await desk.service.storage.enquiries.get(1) is None  # nothing was opened
    assert api.calls_to("getFile")[-1].status == 400
    desk.expected_failures.add("getFile")

    announcement = await escalate(desk)
    api.send_document(
        "huge.zip", b"PK", file_size=big, user=STAFF_USER_ID, chat=STAFF_CHAT_ID,
        reply_to=announcement,
    )  # fmt: skip
    said = await api.next_message(STAFF_CHAT_ID)
    assert said.text == EN.file_too_big.format(ref=1, limit=20)
    long_caption = "x" * 1010  # fits Telegram, not under "CLAIR staff (about your enquiry #1):"
    api.send_photo(
        caption=long_caption, user=STAFF_USER_ID, chat=STAFF_CHAT_ID, reply_to=announcement
    )
    said = await api.next_message(STAFF_CHAT_ID)
    assert said.text == EN.caption_too_long.format(ref=1, limit=1024)
    assert len(api.messages(USER_ID)) == 3  # two refusals and the acknowledgement
    assert await state_of(desk, 1) is State.NEW


# --------------------------------------------------------------------- edits, both ways
async def test_a_users_edit_goes_into_the_staff_thread(desk: Harness) -> None:
    api = desk.api
    announcement = await escalate(desk)
    [question] = [m for m in api._all_messages.values() if m.get("text") == QUESTION]
    api.edit_message(USER_ID, question["message_id"], text="what is the LGOTP deadline for 2027?")
    edited = await api.next_message(STAFF_CHAT_ID)
    assert edited.text == (
        "#1 Ana <Test>, @ana, id 42 edited a message. Edited:\n"
        "what is the LGOTP deadline for 2027?"
    )
    assert edited.reply_to_message_id == announcement.message_id
    # A message the bot answered itself is not with staff: its edit goes nowhere.
    answered = api.send_message("What is CLAIR?", user=USER_ID)
    await api.next_message(USER_ID)
    api.edit_message(USER_ID, answered, text="What is JET?")
    shown = await staff_command(desk, "/show 1")
    assert "user, edited" in shown.text and "2027" in shown.text
    assert len(api.messages(STAFF_CHAT_ID)) == 2


async def test_a_staff_edit_edits_the_users_copy(desk: Harness) -> None:
    api = desk.api
    announcement = await escalate(desk)
    reply_id = api.send_message(
        "The deadline is 30 June.", user=STAFF_USER_ID, chat=STAFF_CHAT_ID, reply_to=announcement
    )
    relayed = await api.next_message(USER_ID)
    await api.next_message(STAFF_CHAT_ID)
    await outbox_drained(desk)
    api.edit_message(STAFF_CHAT_ID, reply_id, text="The deadline is 31 July.")
    await api.wait_for(lambda: relayed.edited)
    assert relayed.text == "CLAIR staff (about your enquiry #1):\nThe deadline is 31 July."
    photo_id = api.send_photo(
        caption="Old map", user=STAFF_USER_ID, chat=STAFF_CHAT_ID, reply_to=announcement
    )
    photo = await api.next_message(USER_ID)
    await outbox_drained(desk)
    api.edit_message(STAFF_CHAT_ID, photo_id, caption="New map")
    await api.wait_for(lambda: photo.edited)
    assert photo.text == "CLAIR staff (about your enquiry #1):\nNew map"
    assert [c.method for c in api.calls if c.method.startswith("editMessage")].count(
        "editMessageCaption"
    ) == 1
    # /reply in a private chat: editing the command edits what the user got.
    command = api.send_message("/reply 1 See page 3.", user=STAFF_USER_ID, chat=STAFF_USER_ID)
    relayed = await api.next_message(USER_ID)
    await api.next_message(STAFF_USER_ID)
    await outbox_drained(desk)
    api.edit_message(STAFF_USER_ID, command, text="/reply 1 See page 4.")
    await api.wait_for(lambda: relayed.edited)
    assert relayed.text == "CLAIR staff (about your enquiry #1):\nSee page 4."
    assert len(api.messages(USER_ID)) == 4  # acknowledgement and three replies, edited in place


# -------------------------------------------------------------------------------- notes
async def test_a_note_stays_internal(desk: Harness) -> None:
    api = desk.api
    announcement = await escalate(desk)
    api.send_message(
        "/note Checking with the Tokyo office", user=STAFF_USER_ID, chat=STAFF_CHAT_ID,
        reply_to=announcement,
    )  # fmt: skip
    said = await api.next_message(STAFF_CHAT_ID)
    assert said.text == EN.note_saved.format(ref=1)
    assert (await staff_command(desk, "/note 1 Second note")).text == EN.note_saved.format(ref=1)
    api.send_message(
        "/note 2027 is the year they mean", user=STAFF_USER_ID, chat=STAFF_CHAT_ID,
        reply_to=announcement,
    )  # fmt: skip
    assert (await api.next_message(STAFF_CHAT_ID)).text == EN.note_saved.format(ref=1)
    shown = await staff_command(desk, "/show 1")
    assert "internal note (Kenji)" in shown.text and "Checking with the Tokyo office" in shown.text
    await outbox_drained(desk)
    assert [m.text for m in api.messages(USER_ID)][1:] == []  # only the acknowledgement
    assert await state_of(desk, 1) is State.NEW
    rows = list(csv.DictReader(io.StringIO(await desk.service.staff.export_csv())))
    assert rows[0]["notes"] == (
        "Kenji: Checking with the Tokyo office\nKenji: Second note\n"
        "Kenji: 2027 is the year they mean"
    )
    assert "Checking" not in rows[0]["messages"]
    usage = await staff_command(desk, "/note")
    assert usage.text == EN.usage["note"]


async def test_a_note_or_reply_on_a_resolved_enquiry_is_refused_and_kept_visible(
    desk: Harness,
) -> None:
    await escalate(desk)
    await staff_command(desk, "/resolve 1")
    refused = await staff_command(desk, "/note 1 too late")
    assert refused.text.startswith("#1 is resolved, so nothing was sent or kept.")
    assert "too late" in refused.text
    refused = await staff_command(desk, "/reply 1 hello again")
    assert "hello again" in refused.text and "/reopen 1" in refused.text
    refused = await staff_command(desk, "/reply 1 #deadline")
    assert refused.text.startswith("#1 is resolved")
    messages = await desk.service.storage.enquiries.messages(1)
    assert [m.text for m in messages] == [QUESTION]
    assert await state_of(desk, 1) is State.RESOLVED


# ------------------------------------------------------------------------- saved replies
async def test_saved_replies_listed_and_sent_in_japanese(desk_ja: Harness) -> None:
    api = desk_ja.api
    api.send_message(JA_QUESTION, user=YUKI)
    assert is_escalated((await api.next_message(YUKI)).text, 1, "ja")
    announcement = await api.next_message(STAFF_CHAT_ID)
    assert announcement.text.startswith("#1 新しい問い合わせ")
    await recorded(desk_ja, 1)
    listed = await staff_command(desk_ja, "/replies")
    assert listed.text.startswith("定型文")
    assert "#deadline - 締切 (0)" in listed.text
    sent = await staff_command(desk_ja, "/reply 1 #deadline")
    assert sent.text == JA.saved_reply_sent.format(key="deadline", ref=1)
    relayed = await api.next_message(YUKI)
    assert relayed.text == (
        "クレア職員より（お問い合わせ #1 について）:\n"
        "Yuki 様　#1 について：締切は事業ごとに定められています。"
        "執務時間：月～金 09:00～17:45（日本時間）"
    )
    unknown = await staff_command(desk_ja, "/reply 1 #nope")
    assert unknown.text.startswith("定型文「nope」はありません。")
    assert "#deadline" in unknown.text

    # The announcement's button offers the three most used, "deadline" first.
    api.press(announcement, "st:m:1", user=STAFF_USER_ID)
    await api.wait_for(lambda: "st:s:1:deadline" in [d for _, d in announcement.buttons()])
    assert [label for label, _ in announcement.buttons()] == ["締切", "詳細", "お礼", "« 戻る"]
    api.press(announcement, "st:s:1:details", user=STAFF_USER_ID)
    relayed = await api.next_message(YUKI)
    assert relayed.text.endswith("Yuki 様　#1 について詳しくお知らせください。")
    await api.wait_for(lambda: ("定型文", "st:m:1") in announcement.buttons())
    uses = await desk_ja.service.staff.saved_replies("ja")
    assert [(key, n) for key, _, n in uses][:2] == [("deadline", 1), ("details", 1)]


async def test_staff_see_japanese_by_default_and_may_choose_english(desk_ja: Harness) -> None:
    api = desk_ja.api
    api.send_message(JA_QUESTION, user=YUKI)
    await api.next_message(YUKI)
    announcement = await api.next_message(STAFF_CHAT_ID)
    assert "送信者: Yuki, id 43 · 言語: 日本語" in announcement.text
    assert [label for label, _ in announcement.buttons()] == [
        "担当する",
        "解決済みにする",
        "定型文",
        "ナレッジベースに追加",
    ]
    assert "クレア職員向け" in (await staff_command(desk_ja, "/help")).text
    scope = json.dumps({"chat_id": STAFF_CHAT_ID, "type": "chat"}, sort_keys=True)
    menu = {c["command"]: c["description"] for c in api.commands[(scope, "")]}
    assert menu["note"] == "内部メモ" and menu["merge"] == "問い合わせ B を A に統合"
    queue = await staff_command(desk_ja, "/queue")
    assert queue.text.startswith("未解決の問い合わせ（1 件）") and "経過 0 分" in queue.text
    assert (await staff_command(desk_ja, "/queue mine")).text.startswith("該当する問い合わせ")
    # /language: the staff member's own choice, for what the bot says to them.
    chooser = await staff_command(desk_ja, "/language")
    api.press(chooser, "l:en", user=STAFF_USER_ID)
    await api.wait_for(lambda: chooser.edited)
    assert "For CLAIR staff" in (await staff_command(desk_ja, "/help")).text
    assert (await staff_command(desk_ja, "/show 99")).text == "There is no enquiry #99."
    # The staff chat as a whole keeps staff.language.
    await recorded(desk_ja, 1)
    await staff_command(desk_ja, "/claim 1", chat=STAFF_CHAT_ID)
    await api.wait_for(lambda: announcement.edited)
    assert announcement.buttons()[0] == ("担当: Kenji", "st:w:1")


async def test_what_the_conversation_tells_staff_is_in_japanese_too(desk_ja: Harness) -> None:
    api = desk_ja.api
    api.send_message(JA_QUESTION, user=YUKI)
    await api.next_message(YUKI)
    await api.next_message(STAFF_CHAT_ID)
    await recorded(desk_ja, 1)
    shown = await staff_command(desk_ja, "/show 1")
    considered = next(
        line for line in shown.text.splitlines() if line.startswith("ボットが検討した項目: ")
    )
    assert re.search(r"\[[a-z0-9-]+\] \(\d+\)", considered)  # entry ids with scores
    assert "転送の理由: [" in shown.text  # the reason code
    blank = await staff_command(desk_ja, "/reply 1 \u200b")
    assert blank.text == JA.empty_reply.format(ref=1)
    await staff_command(desk_ja, "/reply 1 3月です。")
    relayed = await api.next_message(YUKI)
    await in_thread_of(desk_ja, YUKI, relayed.message_id)
    api.send_message("2027年も同じですか", user=YUKI, reply_to=relayed)
    await api.next_message(YUKI)
    late = strip_tags(JA.wrote_again_after_reply.format(ref=1, who="Yuki, id 43"))
    await api.wait_for(lambda: [m for m in api.messages(STAFF_CHAT_ID) if late in m.text])
    shown = await staff_command(desk_ja, "/show 1")
    assert "- ユーザー（職員の回答後）, " in shown.text
    await staff_command(desk_ja, "/resolve 1")
    reopened = await staff_command(desk_ja, "/reopen 1")
    assert reopened.text == strip_tags(JA.open_again.format(ref=1, by="Kenji"))


# -------------------------------------------------------------- pending and auto-close
async def test_pending_after_a_reply_then_closed_automatically(
    desk: Harness, clock: Clock
) -> None:
    api = desk.api
    await escalate(desk)
    await staff_command(desk, "/reply 1 Which year do you mean?")
    first = await api.next_message(USER_ID)
    assert await state_of(desk, 1) is State.PENDING
    # A reply to staff's answer joins the enquiry once the worker has recorded where it went
    # (a message after staff's answer that is not a reply to the thread is a new question).
    await in_thread_of(desk, USER_ID, first.message_id)
    api.send_message("2027", user=USER_ID, reply_to=first)
    await api.next_message(USER_ID)
    assert await state_of(desk, 1) is State.CLAIMED  # back with Kenji, who answered
    await staff_command(desk, "/reply 1 It is 30 June 2027.")
    await api.next_message(USER_ID)
    assert await state_of(desk, 1) is State.PENDING
    maintenance = desk.service.maintenance
    assert await maintenance.autoclose(clock() + timedelta(days=6)) == []
    assert await maintenance.autoclose(clock() + timedelta(days=7, minutes=1)) == [1]
    closed = await api.next_message(USER_ID)
    assert closed.text.startswith(texts.EN.autoclosed.format(ref=1, days=7))
    assert [d for _, d in closed.buttons()] == [f"r:1:{n}" for n in range(1, 6)]
    assert await state_of(desk, 1) is State.RESOLVED
    await outbox_drained(desk)
    notice = api.messages(STAFF_CHAT_ID)[-1]
    assert notice.text == "#1 was resolved automatically: no word from the user for 7 days."
    # Replying to it opens the enquiry again.
    await outbox_drained(desk)
    api.send_message("Sorry, one more thing", user=USER_ID, reply_to=closed)
    assert (await api.next_message(USER_ID)).text == texts.EN.followed_up.format(ref=1)
    assert await state_of(desk, 1) is State.CLAIMED


# -------------------------------------------------------------------------------- merge
async def test_merge_folds_b_into_a(desk: Harness) -> None:
    api = desk.api
    api.send_message("/ask first question", user=USER_ID)
    ack_one = await api.next_message(USER_ID)
    api.send_message("/ask the same question again", user=USER_ID)
    ack_two = await api.next_message(USER_ID)
    announcements = [await api.next_message(STAFF_CHAT_ID) for _ in range(2)]
    await recorded(desk, 2)
    assert (await staff_command(desk, "/merge 1 2")).text == "#2 was merged into #1."
    told = await api.next_message(USER_ID)
    assert told.text == texts.EN.merged.format(merged=2, into=1)
    await api.wait_for(lambda: announcements[1].edited)
    assert announcements[1].buttons() == []  # #2's buttons go; #1's stay
    assert ("Claim", "st:c:1") in announcements[0].buttons()
    # Staff answering in #2's thread answer #1; the user's reply to #2's message joins #1.
    api.send_message(
        "Answered in the old thread", user=STAFF_USER_ID, chat=STAFF_CHAT_ID,
        reply_to=announcements[1],
    )  # fmt: skip
    relayed = await api.next_message(USER_ID)
    assert relayed.text == "CLAIR staff (about your enquiry #1):\nAnswered in the old thread"
    api.send_message("thanks, and one more", user=USER_ID, reply_to=ack_two)
    assert (await api.next_message(USER_ID)).text == texts.EN.followed_up.format(ref=1)
    messages = await desk.service.storage.enquiries.messages(1)
    assert [m.text for m in messages] == [
        "first question",
        "the same question again",
        "Answered in the old thread",
        "thanks, and one more",
    ]
    merged = await desk.service.storage.enquiries.get(2)
    assert merged is not None and merged.merged_into == 1 and merged.state is State.RESOLVED
    queue = await staff_command(desk, "/queue")
    assert "#1 " in queue.text and "#2 " not in queue.text
    assert ack_one.text != ack_two.text


async def test_merge_refuses_bad_input_clearly(desk: Harness) -> None:
    api = desk.api
    api.send_message("/ask one", user=USER_ID)
    api.user(77, "Other")
    api.send_message("/ask two", user=77)
    api.send_message("/ask three", user=USER_ID)
    await api.wait_for(lambda: len(api.messages(STAFF_CHAT_ID)) == 3)
    assert (await staff_command(desk, "/merge 1 1")).text == EN.merge_same
    assert (await staff_command(desk, "/merge 1")).text == EN.usage["merge"]
    assert (await staff_command(desk, "/merge one two")).text == EN.usage["merge"]
    assert (await staff_command(desk, "/merge 1 99")).text == "There is no enquiry #99."
    assert (await staff_command(desk, "/merge 1 2")).text == EN.merge_other_user.format(a=1, b=2)
    assert (await staff_command(desk, "/merge 1 3")).text == "#3 was merged into #1."
    again = await staff_command(desk, "/merge 1 3")
    assert again.text == EN.merge_done_before.format(ref=3, into=1)
    for ref in (1, 2):
        assert len(await desk.service.storage.enquiries.messages(ref)) == (2 if ref == 1 else 1)


# ------------------------------------------------------------------- who holds what
async def test_claimed_by_shows_on_the_announcement_and_queue_views(desk: Harness) -> None:
    api = desk.api
    announcement = await escalate(desk)
    api.send_message("/ask another question", user=USER_ID)
    await api.next_message(USER_ID)
    await api.next_message(STAFF_CHAT_ID)
    await staff_command(desk, "/claim 1")  # by command: the buttons follow through the outbox
    await api.wait_for(lambda: announcement.buttons()[0] == ("Claimed by Kenji", "st:w:1"))
    who = api.press(announcement, "st:w:1", user=STAFF_USER_ID)
    assert await answers(desk, who) == EN.claimed_by_answer.format(ref=1, name="Kenji")
    mine = await staff_command(desk, "/queue mine")
    assert mine.text.startswith("Your open enquiries (1)") and "#1 claimed" in mine.text
    new = await staff_command(desk, "/queue new")
    assert new.text.startswith("New enquiries (1)") and "#2 new" in new.text
    assert (await staff_command(desk, "/queue pending")).text == (
        "The queue is empty: no Enquiries pending on the user."
    )
    assert (await staff_command(desk, "/queue everything")).text == EN.usage["queue"]


# ------------------------------------------------------------------------------ ratings
async def test_rating_once_with_an_optional_comment(desk: Harness) -> None:
    api = desk.api
    await escalate(desk)
    await staff_command(desk, "/reply 1 It is 30 June.")
    await api.next_message(USER_ID)
    await staff_command(desk, "/resolve 1")
    question = await api.next_message(USER_ID)
    assert question.text == texts.EN.rating_question.format(ref=1)
    assert [label for label, _ in question.buttons()] == ["1", "2", "3", "4", "5"]

    forged = api.press_raw("r:1:5", USER_ID, question.message_id, user=77)
    assert await answers(desk, forged) == texts.EN.button_expired
    nonsense = api.press_raw("r:1:9", USER_ID, question.message_id, user=USER_ID)
    assert await answers(desk, nonsense) == texts.EN.button_expired
    other = api.press_raw("r:99:3", USER_ID, question.message_id, user=USER_ID)
    assert await answers(desk, other) == texts.EN.button_expired

    pressed = api.press(question, "r:1:4", user=USER_ID)
    assert await answers(desk, pressed) == texts.EN.rating_thanks.format(score=4)
    prompt = await api.next_message(USER_ID)
    assert prompt.text == texts.EN.comment_prompt.format(ref=1)
    assert prompt.reply_markup == {"force_reply": True, "selective": True}
    assert question.buttons() == []  # the buttons went
    twice = api.press_raw("r:1:1", USER_ID, question.message_id, user=USER_ID)
    assert await answers(desk, twice) == texts.EN.rating_already

    api.send_message("Quick and clear, thanks", user=USER_ID, reply_to=prompt)
    assert (await api.next_message(USER_ID)).text == texts.EN.comment_thanks
    rating = await desk.service.storage.ratings.get(1)
    assert rating is not None and (rating.score, rating.comment) == (4, "Quick and clear, thanks")
    await outbox_drained(desk)
    staff_texts = [m.text for m in api.messages(STAFF_CHAT_ID)]
    assert "⭐ #1: the user rated the answer 4 of 5." in staff_texts
    assert "💬 #1: the user's comment on the answer:\nQuick and clear, thanks" in staff_texts
    assert await state_of(desk, 1) is State.RESOLVED  # a comment does not reopen it
    shown = await staff_command(desk, "/show 1")
    assert "Rating: 4 of 5: Quick and clear, thanks" in shown.text

    # Reopened and resolved again: not asked a second time.
    await staff_command(desk, "/reopen 1")
    await staff_command(desk, "/resolve 1")
    await outbox_drained(desk)
    asked = [m for m in api.messages(USER_ID) if m.text.startswith("Your enquiry #1 is resolved")]
    assert len(asked) == 1
    rows = list(csv.DictReader(io.StringIO(await desk.service.staff.export_csv())))
    assert (rows[0]["rating"], rows[0]["rating_comment"]) == ("4", "Quick and clear, thanks")


# ----------------------------------------------------------------------- stats and chart
def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


async def test_stats_with_satisfaction_bot_share_and_a_chart(desk: Harness) -> None:
    api = desk.api
    assert not is_escalated((await desk.say("What is CLAIR?")).text, 1)  # answered by the bot
    await escalate(desk)
    await staff_command(desk, "/reply 1 It is 30 June.")
    await api.next_message(USER_ID)
    await staff_command(desk, "/resolve 1")
    question = await api.next_message(USER_ID)
    api.press(question, "r:1:5", user=USER_ID)
    await api.next_message(USER_ID)
    report = await staff_command(desk, "/stats")
    assert "Open: 0 (new 0, claimed 0, pending 0)" in report.text
    assert "Answered by the bot itself, last 30 days: 50% (1 of 2 questions)" in report.text
    assert "Satisfaction, last 30 days: 5.0 of 5 from 1 rating(s) (1 asked)" in report.text
    assert "median " in report.text and "90th percentile" in report.text
    assert "Most frequent unanswered topics, last 30 days" in report.text
    chart = await api.next_message(STAFF_USER_ID, timeout=15)  # matplotlib loads first
    assert chart.photo is not None
    assert png_size(chart.photo.content) == (1200, 800)
    assert chart.text == "The last 30 days."
