"""End to end, the staff side: the real Application, its outbox worker and the fake Bot API.

An escalation reaches the staff chat through the outbox; staff answer by replying to it (or
with /reply), act with commands and buttons, and everything survives a restart. Non-staff
get one refusal that reveals nothing.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
from pathlib import Path

import pytest
from conftest import (
    FIXTURE_KNOWLEDGE,
    STAFF_CHAT_ID,
    STAFF_USER_ID,
    USER_ID,
    Harness,
    answers,
    in_thread_of,
    is_escalated,
    recorded,
    running_bot,
    staff_command,
    staff_overrides,
)
from fakebotapi import FakeBotApi, SentMessage

from bot import stafftexts
from bot.markup import split_html

QUESTION = "what is the application deadline for lgotp"


async def escalate(bot: Harness, text: str = QUESTION) -> SentMessage:
    """The test user asks something unanswerable; return the announcement in the staff chat."""
    assert is_escalated((await bot.say(text)).text, 1)
    announcement = await bot.api.next_message(STAFF_CHAT_ID)
    await recorded(bot, 1)
    return announcement


def staff_says(
    bot: Harness, text: str, reply_to: SentMessage | int | None = None, user: int = STAFF_USER_ID
) -> None:
    bot.api.send_message(text, user=user, chat=STAFF_CHAT_ID, reply_to=reply_to)


async def test_escalation_reaches_the_staff_chat_once_with_who_and_buttons(
    staff_bot: Harness,
) -> None:
    announcement = await escalate(staff_bot)
    text = announcement.text
    assert text.startswith("#1 new enquiry")
    assert "Ana <Test>, @ana, id 42" in text
    assert QUESTION in text
    assert [label for label, _ in announcement.buttons()] == [
        "Claim",
        "Resolve",
        "Saved replies",
        "Add to knowledge base",
    ]
    assert announcement.button("Claim") == "st:c:1"
    assert len(staff_bot.api.messages(STAFF_CHAT_ID)) == 1


async def test_staff_reply_to_the_announcement_reaches_the_user(staff_bot: Harness) -> None:
    announcement = await escalate(staff_bot)
    staff_says(staff_bot, "The deadline is 30 June.", reply_to=announcement)
    relayed = await staff_bot.api.next_message(USER_ID)
    assert relayed.text == "CLAIR staff (about your enquiry #1):\nThe deadline is 30 June."
    confirmation = await staff_bot.api.next_message(STAFF_CHAT_ID)
    assert confirmation.text == "Sent to the user (#1)."
    # A reply to the staff member's own reply threads too.
    staff_says(staff_bot, "Also see the website.", reply_to=confirmation.reply_to_message_id)
    assert (await staff_bot.api.next_message(USER_ID)).text.endswith("Also see the website.")
    enquiry = await staff_bot.service.storage.enquiries.get(1)
    assert enquiry is not None and enquiry.state.value == "pending"


async def test_staff_chat_talk_is_ignored(staff_bot: Harness) -> None:
    await escalate(staff_bot)
    staff_says(staff_bot, "who is on duty today?")
    staff_says(staff_bot, "@clair_test_bot what is jiam")
    staff_says(staff_bot, "not even from a visitor", user=USER_ID)
    assert await staff_command(staff_bot, "/stats")  # the bot has read everything before
    assert len(staff_bot.api.messages(STAFF_CHAT_ID)) == 1
    assert len(await staff_bot.service.storage.enquiries.messages(1)) == 1


async def test_reply_command_and_follow_up_thread(staff_bot: Harness) -> None:
    announcement = await escalate(staff_bot)
    assert (await staff_command(staff_bot, "/reply 1 Try the LGOTP page.")).text == (
        "Sent to the user (#1)."
    )
    relayed = await staff_bot.api.next_message(USER_ID)
    assert relayed.text.endswith("Try the LGOTP page.")
    await in_thread_of(staff_bot, USER_ID, relayed.message_id)
    # A reply to staff's answer continues the enquiry, whatever it says.
    text = "and what about the <b>2027</b> deadline & fees?"
    staff_bot.api.send_message(text, user=USER_ID, reply_to=relayed)
    follow_up = await staff_bot.api.next_message(USER_ID)
    assert "#1" in follow_up.text  # the user is told it joined #1
    in_thread = await staff_bot.api.next_message(STAFF_CHAT_ID)
    assert in_thread.reply_to_message_id == announcement.message_id
    # Staff see that it came after their reply, in the notice and in /show.
    assert "#1 Ana <Test>, @ana, id 42 wrote again after staff's reply:" in in_thread.text
    assert "and what about the <b>2027</b> deadline & fees?" in in_thread.text
    shown = await staff_command(staff_bot, "/show 1")
    assert "- user, after staff's reply, " in shown.text
    usage = await staff_command(staff_bot, "/reply 1")
    assert usage.text.startswith("Usage: /reply N")
    assert (await staff_command(staff_bot, "/reply 99 hello")).text == "There is no enquiry #99."


@pytest.mark.parametrize(
    "command", ["/queue", "/show 1", "/show 99", "/claim 1", "/reply 1 hi", "/export", "/stats"]
)
async def test_non_staff_are_refused_without_revealing_anything(
    staff_bot: Harness, command: str
) -> None:
    await escalate(staff_bot)
    refusal = await staff_bot.say(command)
    assert refusal.text == stafftexts.EN.refused
    enquiry = await staff_bot.service.storage.enquiries.get(1)
    assert enquiry is not None and enquiry.state.value == "new"


async def test_staff_commands_only_in_the_staff_chat_or_private(
    staff_bot: Harness, staff_api: FakeBotApi
) -> None:
    staff_api.group(-100111, "Some other group")
    staff_api.send_message("/queue", user=STAFF_USER_ID, chat=-100111)
    assert (await staff_api.next_message(-100111)).text == stafftexts.EN.refused
    assert (await staff_command(staff_bot, "/queue", chat=STAFF_CHAT_ID)).text.startswith(
        "The queue is empty"
    )


async def test_queue_show_stats_and_export(staff_bot: Harness) -> None:
    await escalate(staff_bot)
    queue = await staff_command(staff_bot, "/queue")
    assert "Open enquiries (1), page 1 of 1" in queue.text
    assert f"#1 new, 0 min old: {QUESTION}" in queue.text
    shown = await staff_command(staff_bot, "/show 1")
    assert shown.text.startswith("#1 · new")
    assert QUESTION in shown.text
    assert "Open: 1" in (await staff_command(staff_bot, "/stats")).text
    chart = await staff_bot.api.next_message(STAFF_USER_ID)  # then the chart, a photo
    assert chart.photo is not None and chart.photo.content.startswith(b"\x89PNG")
    staff_bot.api.send_message("/export", user=STAFF_USER_ID, chat=STAFF_USER_ID)
    document = await staff_bot.api.next_message(STAFF_USER_ID)
    assert document.document is not None
    assert document.document.filename.startswith("enquiries-")
    assert document.document.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(document.document.content.decode("utf-8"))))
    assert [(r["ref"], r["question"]) for r in rows] == [("1", QUESTION)]


async def test_queue_pages(staff_bot: Harness, staff_api: FakeBotApi) -> None:
    for n in range(12):
        staff_api.user(1000 + n, f"User {n}")
        staff_api.send_message(f"/ask question number {n}", user=1000 + n)
    await staff_api.wait_for(lambda: len(staff_api.messages(STAFF_CHAT_ID)) == 12)
    queue = await staff_command(staff_bot, "/queue")
    assert "page 1 of 2" in queue.text and "question number 9" in queue.text
    staff_api.press(queue, queue.button("Newer"), user=STAFF_USER_ID)
    await staff_api.wait_for(lambda: "page 2 of 2" in queue.text)
    assert "question number 11" in queue.text and "question number 0" not in queue.text
    assert queue.button("Older") == "st:p:0"


async def test_claim_resolve_and_add_buttons(staff_bot: Harness) -> None:
    announcement = await escalate(staff_bot)
    api = staff_bot.api
    add = api.press(announcement, "st:k:1", user=STAFF_USER_ID)
    assert await answers(staff_bot, add) == stafftexts.EN.resolve_first.format(ref=1)

    claim = api.press(announcement, "st:c:1", user=STAFF_USER_ID)
    assert await answers(staff_bot, claim) == "#1 is claimed by you."
    await api.wait_for(lambda: announcement.edited)
    assert [label for label, _ in announcement.buttons()] == [
        "Claimed by Kenji",
        "Resolve",
        "Saved replies",
        "Add to knowledge base",
    ]
    notice = await api.next_message(STAFF_CHAT_ID)
    assert notice.text == "#1 is now claimed (Kenji)."
    assert notice.reply_to_message_id == announcement.message_id

    resolve = api.press(announcement, "st:r:1", user=STAFF_USER_ID)
    assert await answers(staff_bot, resolve) == "#1 is resolved."
    await api.wait_for(
        lambda: (
            [label for label, _ in announcement.buttons()] == ["Reopen", "Add to knowledge base"]
        )
    )
    enquiry = await staff_bot.service.storage.enquiries.get(1)
    assert enquiry is not None and enquiry.state.value == "resolved"

    reopen = api.press(announcement, "st:o:1", user=STAFF_USER_ID)
    assert await answers(staff_bot, reopen) == "#1 is open again."
    await api.wait_for(lambda: ("Resolve", "st:r:1") in announcement.buttons())
    enquiry = await staff_bot.service.storage.enquiries.get(1)
    assert enquiry is not None and enquiry.state.value == "claimed"  # still Kenji's
    resolve = api.press(announcement, "st:r:1", user=STAFF_USER_ID)
    assert await answers(staff_bot, resolve) == "#1 is resolved."

    outsider = api.press_raw("st:c:1", STAFF_CHAT_ID, announcement.message_id, user=USER_ID)
    assert await answers(staff_bot, outsider) == stafftexts.EN.refused
    enquiry = await staff_bot.service.storage.enquiries.get(1)
    assert enquiry is not None and enquiry.state.value == "resolved"


async def test_enquiry_and_thread_survive_a_restart(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    async with running_bot(staff_api, tmp_path, **staff_overrides()) as first:
        announcement = await escalate(first)
    async with running_bot(staff_api, tmp_path, **staff_overrides()) as second:
        shown = await staff_command(second, "/show 1")
        assert QUESTION in shown.text
        staff_says(second, "Answered after the restart.", reply_to=announcement)
        relayed = await staff_api.next_message(USER_ID)
        assert relayed.text.endswith("Answered after the restart.")


async def test_user_html_arrives_escaped_in_the_staff_chat(staff_bot: Harness) -> None:
    nasty = "<b>x</b> & y"
    staff_bot.api.send_message(f"/ask {nasty}", user=USER_ID)
    await staff_bot.api.next_message(USER_ID)
    announcement = await staff_bot.api.next_message(STAFF_CHAT_ID)
    assert nasty in announcement.text  # the fake parsed it: the tags were text, not bold
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in announcement.raw_text
    assert not [e for e in announcement.entities if e["type"] == "bold" and e["offset"] > 5]


async def test_a_burst_of_escalations_all_reach_the_staff_chat_once(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Telegram's 20-a-minute group limit would hold the last five for 3 s each; the limiter
    # itself is tested in test_handlers, so here the group limit is set well above 25.
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    overrides = staff_overrides() | {"CLAIRBOT_TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "600"}
    async with running_bot(staff_api, tmp_path, **overrides):
        await _burst(staff_api)


async def _burst(staff_api: FakeBotApi) -> None:
    users = range(2000, 2025)
    for user in users:
        staff_api.user(user, f"User {user}")
        staff_api.send_message(f"/ask burst question from {user}", user=user)
    await staff_api.wait_for(lambda: len(staff_api.messages(STAFF_CHAT_ID)) == 25, timeout=10)
    texts_sent = [m.text for m in staff_api.messages(STAFF_CHAT_ID)]
    for user in users:
        assert sum(f"burst question from {user}" in t for t in texts_sent) == 1
    for user in users:
        assert "#" in (await staff_api.next_message(user)).text


async def test_long_thread_is_shown_in_parts(staff_bot: Harness) -> None:
    question = "What is the application deadline? & <why>" + " More detail here." * 300
    assert is_escalated((await staff_bot.say(question)).text, 1)
    await recorded(staff_bot, 1)
    staff_bot.api.send_message("/show 1", user=STAFF_USER_ID, chat=STAFF_USER_ID)
    first = await staff_bot.api.next_message(STAFF_USER_ID)
    second = await staff_bot.api.next_message(STAFF_USER_ID)
    assert first.text.startswith("#1 · new")
    assert all(len(m.text) <= 4096 for m in (first, second))
    assert "& <why>" in first.text + second.text  # escaped, and the fake accepted the HTML


async def test_reload_keeps_the_old_knowledge_base_on_errors(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, knowledge)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    overrides = staff_overrides() | {"CLAIRBOT_KNOWLEDGE_PATH": str(knowledge)}
    async with running_bot(staff_api, tmp_path, **overrides) as bot:
        entries = len(bot.service.kb.entries)
        reloaded = await staff_command(bot, "/reload")
        assert reloaded.text == f"Knowledge base reloaded: {entries} entries; 4 saved replies."
        (knowledge / "broken.yaml").write_text("entries:\n  - id: <broken>\n    title: [\n")
        kept = bot.service.kb
        refused = await staff_command(bot, "/reload")
        assert refused.text.startswith("The knowledge base was not reloaded")
        assert "broken.yaml" in refused.text
        assert bot.service.kb is kept


async def test_jobs_are_scheduled(staff_bot: Harness) -> None:
    job_queue = staff_bot.application.job_queue
    assert job_queue is not None
    assert sorted(str(job.name) for job in job_queue.jobs()) == [
        "autoclose",
        "poll_leader",
        "purge",
        "send_reminders",
    ]
    leader = staff_bot.application.bot_data.leader
    assert leader is not None and leader.held  # on SQLite the one bot runs the jobs


async def test_forum_topics_thread_replies(
    bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_api.group(STAFF_CHAT_ID, "CLAIR staff", is_forum=True)
    bot_api.user(STAFF_USER_ID, "Kenji")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    async with running_bot(bot_api, tmp_path, **staff_overrides(forum=True)) as bot:
        announcement = await escalate(bot)
        topic = announcement.message_thread_id
        assert topic is not None
        # A message in the enquiry's topic, not a reply to any message in it.
        bot_api.send_message(
            "Answered in the topic.",
            user=STAFF_USER_ID,
            chat=STAFF_CHAT_ID,
            message_thread_id=topic,
        )
        assert (await bot_api.next_message(USER_ID)).text.endswith("Answered in the topic.")
        confirmation = await bot_api.next_message(STAFF_CHAT_ID)
        assert confirmation.message_thread_id == topic


def test_split_html_keeps_lines_and_entities_whole() -> None:
    text = "<b>#1</b> head\n" + "x &amp; y " * 30 + "\nlast line"
    parts = split_html(text, limit=50)
    assert parts[0].startswith("<b>#1</b> head\n")
    assert parts[-1].endswith("last line")
    assert all(p.count("&") == p.count("&amp;") for p in parts)  # no entity cut in two
    assert all(len(html.unescape(re.sub(r"<[^>]*>", "", p))) <= 50 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


async def test_state_commands_confirm_once(staff_bot: Harness) -> None:
    announcement = await escalate(staff_bot)
    # In the staff group the threaded notice is the confirmation; nothing else is said.
    notice = await staff_command(staff_bot, "/claim 1", chat=STAFF_CHAT_ID)
    assert notice.text.startswith("#1 is now claimed")
    assert notice.reply_to_message_id == announcement.message_id
    # In a private chat the staff member is told there, and the group still sees the notice.
    assert (await staff_command(staff_bot, "/resolve 1")).text.startswith("#1 is now resolved")
    assert (await staff_bot.api.next_message(STAFF_CHAT_ID)).text.startswith("#1 is now resolved")
    staff_chat_texts = [m.text for m in staff_bot.api.messages(STAFF_CHAT_ID)]
    assert sum(t.startswith("#1 is now claimed") for t in staff_chat_texts) == 1


async def test_help_lists_staff_commands_for_staff_only(staff_bot: Harness) -> None:
    assert "For CLAIR staff" in (await staff_command(staff_bot, "/help")).text
    assert "For CLAIR staff" not in (await staff_bot.say("/help")).text


async def test_show_has_what_the_bot_considered_and_blank_replies_are_refused(
    staff_bot: Harness,
) -> None:
    announcement = await escalate(staff_bot)
    shown = await staff_command(staff_bot, "/show 1")
    considered = next(
        line for line in shown.text.splitlines() if line.startswith("Bot considered")
    )
    assert re.search(r"\[lgotp-[a-z-]+\] \(\d+\)", considered)
    assert "Why it was forwarded: [guard-topic]" in shown.text
    # A "blank" reply (a filler character some clients send) reaches nobody.
    api = staff_bot.api
    api.send_message("\u3164", user=STAFF_USER_ID, chat=STAFF_CHAT_ID, reply_to=announcement)
    refused = await api.next_message(STAFF_CHAT_ID)
    assert refused.text == stafftexts.EN.empty_reply.format(ref=1)
    assert (await staff_command(staff_bot, "/reply 1 \u200b")).text == refused.text
    assert [m.author.value for m in await staff_bot.service.storage.enquiries.messages(1)] == [
        "user"
    ]
    assert (await staff_command(staff_bot, "/resolve 1")).text == "#1 is now resolved (Kenji)."
    assert (await staff_command(staff_bot, "/reopen 1")).text == "#1 is open again (Kenji)."


@pytest.mark.parametrize("command", ["/show ²", "/claim ¹²", "/resolve #１", "/reopen 1x"])
async def test_numbers_are_ascii_digits_only(staff_bot: Harness, command: str) -> None:
    reply = await staff_command(staff_bot, command)
    name = command.split()[0].lstrip("/")
    assert reply.text == stafftexts.EN.usage[name]


# ------------------------------------------------------- copies the bot never heard about
async def test_a_staff_reply_to_an_unrecorded_copy_reaches_the_user(staff_bot: Harness) -> None:
    announcement = await escalate(staff_bot)
    copy = staff_bot.api.stray_copy(announcement)  # the retry's twin, id never recorded
    assert (
        await staff_bot.service.storage.enquiries.ref_for_message(STAFF_CHAT_ID, copy.message_id)
        is None
    )
    staff_says(staff_bot, "The deadline is 30 June.", reply_to=copy)
    relayed = await staff_bot.api.next_message(USER_ID)
    assert relayed.text.endswith("The deadline is 30 June.") and "#1" in relayed.text
    assert (await staff_bot.api.next_message(STAFF_CHAT_ID)).text == "Sent to the user (#1)."
    # Tied once, the copy is part of the thread: the next reply to it goes straight through.
    staff_says(staff_bot, "And bring your passport.", reply_to=copy)
    assert (await staff_bot.api.next_message(USER_ID)).text.endswith("bring your passport.")


@pytest.mark.parametrize("kind", ["follow-up", "state change", "confirmation"])
async def test_copies_of_every_thread_message_are_tied_by_their_number(
    staff_bot: Harness, kind: str
) -> None:
    announcement = await escalate(staff_bot)
    if kind == "follow-up":  # a reply to the acknowledgement joins the enquiry, whatever it says
        [acknowledgement] = staff_bot.api.messages(USER_ID)
        staff_bot.api.send_message("and the fee?", user=USER_ID, reply_to=acknowledgement)
        await staff_bot.api.next_message(USER_ID)
    elif kind == "state change":
        staff_says(staff_bot, "/claim 1")
    else:
        staff_says(staff_bot, "first answer", reply_to=announcement)
        await staff_bot.api.next_message(USER_ID)
    original = await staff_bot.api.next_message(STAFF_CHAT_ID)
    staff_says(staff_bot, "Answer to the copy.", reply_to=staff_bot.api.stray_copy(original))
    assert (await staff_bot.api.next_message(USER_ID)).text.endswith("Answer to the copy.")


async def test_a_staff_reply_to_a_bot_message_of_no_enquiry_is_answered_not_sent(
    staff_bot: Harness,
) -> None:
    await escalate(staff_bot)
    staff_says(staff_bot, "/stats")
    stats = await staff_bot.api.next_message(STAFF_CHAT_ID)
    await staff_bot.api.next_message(STAFF_CHAT_ID)  # the chart
    staff_says(staff_bot, "The deadline is 30 June.", reply_to=stats)
    answer = await staff_bot.api.next_message(STAFF_CHAT_ID)
    assert answer.text == stafftexts.EN.not_tied and "/reply N" in answer.text
    assert answer.reply_to_message_id is not None  # it answers the staff member's message
    # Staff talking among themselves, replying to each other, stays silent.
    said = staff_bot.api.send_message("who is on duty?", user=STAFF_USER_ID, chat=STAFF_CHAT_ID)
    staff_says(staff_bot, "me", reply_to=said)
    assert await staff_command(staff_bot, "/stats")  # the bot has read everything before
    # The announcement, /stats's figures and chart, "not sent".
    assert len(staff_bot.api.messages(STAFF_CHAT_ID)) == 4
    assert staff_bot.api.messages(USER_ID)[-1].text.startswith("I don't have a reliable")


async def test_a_user_reply_to_unrecorded_copies_joins_the_enquiry(staff_bot: Harness) -> None:
    announcement = await escalate(staff_bot)
    [acknowledgement] = staff_bot.api.messages(USER_ID)
    staff_bot.api.send_message(
        "hi", user=USER_ID, reply_to=staff_bot.api.stray_copy(acknowledgement)
    )
    # "hi" alone would be small talk: as a reply to the copy it is a follow-up of #1.
    assert (await staff_bot.api.next_message(USER_ID)).text.startswith(
        "I've added this to your open question #1"
    )
    assert "hi" in (await staff_bot.api.next_message(STAFF_CHAT_ID)).text
    staff_says(staff_bot, "The deadline is 30 June.", reply_to=announcement)
    answer = await staff_bot.api.next_message(USER_ID)
    await staff_bot.api.next_message(STAFF_CHAT_ID)  # "Sent to the user"
    staff_bot.api.send_message("thanks", user=USER_ID, reply_to=staff_bot.api.stray_copy(answer))
    assert (await staff_bot.api.next_message(USER_ID)).text.startswith(
        "I've added this to your open question #1"
    )
    texts = [m.text for m in await staff_bot.service.storage.enquiries.messages(1)]
    assert texts[-1] == "thanks" and "hi" in texts


async def test_a_copy_naming_someone_elses_enquiry_ties_nothing(staff_bot: Harness) -> None:
    api = staff_bot.api
    group = api.group(-1001234, "LGOTP alumni")["id"]
    api.send_message(f"@clair_test_bot {QUESTION}", user=USER_ID, chat=group)
    acknowledgement = await api.next_message(group)
    assert is_escalated(acknowledgement.text, 1)
    other = 77
    api.user(other, "Other")
    # Another member replies to a copy of Ana's acknowledgement: it names #1, not theirs.
    api.send_message("hi", user=other, chat=group, reply_to=api.stray_copy(acknowledgement))
    reply = await api.next_message(group)
    assert not reply.text.startswith("I've added this")
    assert len(await staff_bot.service.storage.enquiries.messages(1)) == 1


async def test_follow_ups_within_the_window_reach_staff_as_one_message(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    overrides = staff_overrides() | {"CLAIRBOT_STAFF_FOLLOW_UP_WINDOW_SECONDS": "1.5"}
    async with running_bot(staff_api, tmp_path, **overrides) as bot:
        announcement = await escalate(bot)
        [acknowledgement] = bot.api.messages(USER_ID)
        for text in ("the fee?", "and the insurance?", "and the visa?"):  # each joins #1
            bot.api.send_message(text, user=USER_ID, reply_to=acknowledgement)
        for _ in range(3):
            reply = await bot.api.next_message(USER_ID)
            assert reply.text.startswith("I've added this to your open")
        follow_up = await bot.api.next_message(STAFF_CHAT_ID)
        assert follow_up.reply_to_message_id == announcement.message_id
        assert follow_up.text.startswith("#1 Ana <Test>, @ana, id 42 wrote again:")
        for text in ("the fee?", "and the insurance?", "and the visa?"):
            assert text in follow_up.text
        await bot.say("/help")  # everything before it is handled and delivered by now
        assert len(bot.api.messages(STAFF_CHAT_ID)) == 2
