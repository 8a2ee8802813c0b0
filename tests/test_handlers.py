"""Unit tests of the Telegram layer's decisions: no network, no running Application."""

from __future__ import annotations

import asyncio
import html
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FIXTURE_KNOWLEDGE
from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import MessageHandler

from bot import callback_data as cd
from bot import screens, texts
from bot.config import Settings, load_settings
from bot.decision import Action, Candidate, Decision
from bot.knowledge import Entry, KnowledgeBase, load_knowledge
from bot.markup import MAX_MESSAGE, shorten, split_html, strip_tags
from bot.matcher import Matcher
from bot.storage.records import Enquiry, State
from bot.users import Reply
from handlers import user
from handlers.app import PerChatUpdates, build_application, rate_limiter, run_telegram
from handlers.callbacks import is_current
from handlers.groups import is_addressed, mentions, strip_mention
from handlers.state import REMEMBERED_QUESTIONS, UserData
from handlers.views import (
    View,
    answer_keyboard,
    category_view,
    contact_view,
    entry_view,
    escaped_parts,
    reply_views,
    resolve_deep_link,
    status_view,
    topics_view,
    without_feedback,
)

BIG_NUMBER = 999_999_999  # the largest question number callback data can carry


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(environ={"CLAIRBOT_KNOWLEDGE_PATH": str(FIXTURE_KNOWLEDGE)})


@pytest.fixture(scope="module")
def kb(settings: Settings) -> KnowledgeBase:
    return load_knowledge(settings.knowledge.path)


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase, settings: Settings) -> Matcher:
    return Matcher(kb, settings.matcher)


def all_buttons(view: View) -> list[InlineKeyboardButton]:
    keyboard = view.keyboard
    return [b for row in keyboard.inline_keyboard for b in row] if keyboard else []


def datas(view: View) -> list[str]:
    return [str(b.callback_data) for b in all_buttons(view)]


def enquiry(ref: int, text: str) -> Enquiry:
    now = datetime.now(UTC)
    return Enquiry(ref, 42, 42, "Ana", "ana", "en", text, (), "", State.NEW, None, now, None, None)


# ---------------------------------------------------------------------------- callback data
@pytest.mark.parametrize(
    "action",
    [
        cd.OpenEntry("jet-overview"),
        cd.Choose(7, "contact-tokyo-division"),
        cd.OpenCategory(0),
        cd.OpenCategory(10),
        cd.ShowTopics(),
        cd.AskStaff(3),
        cd.AskStaff(BIG_NUMBER, none_of_these=True),
        cd.Feedback(True, "lgotp-arrival"),
        cd.Feedback(False, "lgotp-arrival"),
        cd.Forget(True),
        cd.Forget(False),
        cd.SetLanguage("ja"),
        cd.JoinEnquiry(BIG_NUMBER, 999_999_999_999),
        cd.NewEnquiry(BIG_NUMBER),
        cd.StaffButton(cd.StaffAction.CLAIM, 1),
        cd.StaffButton(cd.StaffAction.QUEUE_PAGE, 0),
        cd.StaffButton(cd.StaffAction.ADD_TO_KB, 999_999_999_999),
    ],
)
def test_callback_data_round_trips(action: cd.ButtonAction) -> None:
    assert len(action.data.encode()) <= 64
    assert cd.parse(action.data) == action


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "zzz",
        "e:",
        "e:Jet-Overview",
        "e:jet overview",
        "e:jet--overview",
        "e:-jet",
        "d:0:jet-overview",
        "d:01:jet-overview",
        "d:1",
        "c:-1",
        "c:01",
        "c:x",
        "c:99999",
        "s:",
        "s:0",
        "s:1234567890",
        "f:2:jet-overview",
        "f:1:",
        "fg:maybe",
        "t:",
        "e:jet-overview\n",
        "e:" + "a" * 63,
        "e:jét",
        "st:x:1",
        "st:c:",
        "st:c:01",
        "st:c:1234567890123",
        "st:p:-1",
        "j:1",
        "j:1:0",
        "j:0:1",
        "j:1:1234567890123",
        "q:",
        "q:0",
    ],
)
def test_callback_data_rejects_anything_else(data: str | None) -> None:
    assert cd.parse(data) is None


def test_callback_data_too_long_is_refused_when_building() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        _ = cd.OpenEntry("a" * 63).data


def test_is_current_checks_the_knowledge_base(kb: KnowledgeBase) -> None:
    assert is_current(kb, cd.OpenEntry("jet-overview"))
    assert not is_current(kb, cd.OpenEntry("no-such-entry"))
    assert not is_current(kb, cd.Choose(1, "no-such-entry"))
    assert not is_current(kb, cd.Feedback(True, "no-such-entry"))
    assert is_current(kb, cd.OpenCategory(len(kb.categories) - 1))
    assert not is_current(kb, cd.OpenCategory(len(kb.categories)))
    assert is_current(kb, cd.AskStaff(1)) and is_current(kb, cd.Forget(True))


# ---------------------------------------------------------------------------- keyboards
def test_every_keyboard_fits_telegram_for_the_real_knowledge_base() -> None:
    # On the shipped content on purpose: every title and id must fit Telegram's buttons.
    kb = load_knowledge(load_settings(environ={}).knowledge.path)
    views = []
    for language in ("en", "ja"):
        views.append(topics_view(kb, language))
        views += [category_view(kb, i, language) for i in range(len(kb.categories))]
        for entry in kb.entries.values():
            views.append(entry_view(kb, entry, language, question_number=BIG_NUMBER))
            title = entry.title_in(language)
            candidates = tuple(Candidate(entry.id, title, 50.0) for _ in range(3))
            clarify = Decision(
                "q", Action.CLARIFY, texts.get(language).did_you_mean, suggestions=candidates,
                language=language,
            )  # fmt: skip
            views += reply_views(kb, Reply(clarify), BIG_NUMBER)
    for view in views:
        for button in all_buttons(view):
            data = str(button.callback_data)
            assert 1 <= len(data.encode()) <= 64, data
            assert cd.parse(data) is not None, data
            assert 1 <= len(button.text) <= 64
        assert all(len(p) <= MAX_MESSAGE for p in view.parts)


def test_topics_and_category_views(kb: KnowledgeBase) -> None:
    topics = topics_view(kb, "en")
    assert [b.text for b in all_buttons(topics)] == kb.categories
    assert datas(topics)[0] == "c:0"
    jet = kb.categories.index("JET Programme")
    category = category_view(kb, jet, "en")
    assert category.parts == ("<b>JET Programme</b>",)
    assert datas(category) == [f"e:{e.id}" for e in kb.in_category("JET Programme")] + ["t"]
    japanese = topics_view(kb, "ja")
    assert all_buttons(japanese)[kb.categories.index("Sister cities")].text == "姉妹都市"
    assert datas(japanese) == datas(topics)
    assert category_view(kb, jet, "ja").parts == ("<b>JETプログラム</b>",)


def test_answer_keyboard_order(kb: KnowledgeBase) -> None:
    keyboard = answer_keyboard(kb, "lgotp-arrival", "en", ("lgotp-schedule", "gone-entry"), 5)
    assert keyboard is not None
    rows = [[str(b.callback_data) for b in row] for row in keyboard.inline_keyboard]
    assert rows == [["e:lgotp-schedule"], ["s:5"], ["f:1:lgotp-arrival", "f:0:lgotp-arrival"]]
    assert answer_keyboard(kb, None, "en") is None


def test_without_feedback_drops_only_the_rating_row(kb: KnowledgeBase) -> None:
    keyboard = answer_keyboard(kb, "lgotp-arrival", "en", ("lgotp-schedule",), 5)
    remaining = without_feedback(keyboard)
    assert remaining is not None
    assert [str(b.callback_data) for row in remaining.inline_keyboard for b in row] == [
        "e:lgotp-schedule",
        "s:5",
    ]
    only_feedback = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="f:1:x")]])
    assert without_feedback(only_feedback) is None
    assert without_feedback(None) is None


# ---------------------------------------------------------------------------- replies
def test_answer_reply(kb: KnowledgeBase, matcher: Matcher) -> None:
    decision = matcher.decide("How many JET participants came from the Philippines?")
    assert decision.action is Action.ANSWER
    [view] = reply_views(kb, Reply(decision), 3)
    assert "339" in view.parts[0] and "334" in view.parts[0]
    assert "s:3" in datas(view) and f"f:1:{decision.entry_id}" in datas(view)


def test_answer_text_is_escaped(kb: KnowledgeBase) -> None:
    decision = Decision("q", Action.ANSWER, "Tom & Jerry <3", entry_id="jet-overview")
    [view] = reply_views(kb, Reply(decision, answer="Tom & Jerry <3\n\nSource: A & B"), 1)
    assert view.parts == ("Tom &amp; Jerry &lt;3\n\nSource: A &amp; B",)
    smalltalk = Decision("q", Action.SMALLTALK, "Hi <you>")
    assert reply_views(kb, Reply(smalltalk), 1) == [View(("Hi &lt;you&gt;",))]


def test_clarify_reply(kb: KnowledgeBase, matcher: Matcher) -> None:
    decision = matcher.decide("fax")
    assert decision.action is Action.CLARIFY
    [view] = reply_views(kb, Reply(decision), 9)
    assert view.parts == (html.escape(texts.EN.did_you_mean),)
    expected = [f"d:9:{s.entry_id}" for s in decision.suggestions] + ["n:9"]
    assert datas(view) == expected
    assert all_buttons(view)[-1].text == texts.EN.none_of_these


def test_escalated_reply(kb: KnowledgeBase) -> None:
    decision = Decision("q", Action.ESCALATE)
    reply = Reply(decision, enquiry(12, "q"), acknowledgement="Sent to staff: #12 <soon>")
    [view] = reply_views(kb, reply, 1)
    assert view.parts == ("Sent to staff: #12 &lt;soon&gt;",) and view.keyboard is None


def test_limited_replies(kb: KnowledgeBase) -> None:
    decision = Decision("q", Action.ESCALATE)
    notice = texts.EN.daily_limit.format(when="Mon 23 Nov <10:00>")
    [limited] = reply_views(kb, Reply(decision, limited=True, acknowledgement=notice), 1)
    assert limited.parts == (html.escape(notice),)
    answered = Decision("q", Action.ANSWER, "Mid-May.", entry_id="lgotp-arrival", language="ja")
    reply = Reply(answered, limited=True, acknowledgement=texts.JA.daily_limit, answer="5月中旬")
    [view] = reply_views(kb, reply, 1)
    assert view.parts == ("5月中旬", texts.JA.daily_limit)  # the answer, then why not the rest
    assert view.keyboard is not None


def test_a_message_that_may_belong_to_an_open_enquiry_asks_which(kb: KnowledgeBase) -> None:
    decision = Decision("q", Action.ESCALATE)
    [question] = reply_views(kb, Reply(decision, belongs=enquiry(4, "earlier")), 7)
    assert question.parts == (html.escape(texts.EN.which_enquiry.format(ref=4)),)
    assert datas(question) == ["q:7", "j:7:4"]
    assert [b.text for b in all_buttons(question)] == ["New question", "Part of #4"]
    answered = Decision("q", Action.ANSWER, "Mid-May.", entry_id="lgotp-arrival")
    reply = Reply(answered, belongs=enquiry(4, "earlier"), answer="Mid-May.")
    answer, question = reply_views(kb, reply, 8)  # the answer keeps its own buttons
    assert answer.parts == ("Mid-May.",) and "f:1:lgotp-arrival" in datas(answer)
    assert datas(question) == ["q:8", "j:8:4"]


def test_status_view_escapes_and_shortens() -> None:
    assert status_view([], "en").parts == (texts.EN.no_enquiries,)
    view = status_view([enquiry(2, "<b>x</b> & y\n" + "long " * 40), enquiry(1, "short")], "en")
    text = view.parts[0]
    assert "#2 (new): &lt;b&gt;x&lt;/b&gt; &amp; y long" in text and "…" in text
    assert text.endswith("#1 (new): short")


def test_contact_view(kb: KnowledgeBase) -> None:
    view = contact_view(kb, (*screens.CONTACT_ENTRIES, "missing"), "en")
    text = "\n".join(view.parts)
    for entry_id in screens.CONTACT_ENTRIES:
        assert html.escape(kb.entries[entry_id].answer) in text


# ---------------------------------------------------------------------------- splitting
def test_short_text_is_one_part() -> None:
    assert split_html("hello\nworld") == ["hello\nworld"]


def test_split_at_line_boundaries() -> None:
    lines = [f"line {i:03d} " + "x" * 40 for i in range(300)]
    text = "\n".join(lines)
    parts = split_html(text)
    assert len(parts) > 1
    assert all(len(p) <= MAX_MESSAGE for p in parts)
    assert "\n".join(parts) == text  # nothing lost, every cut at a line break


def test_split_a_single_long_line_at_spaces() -> None:
    text = "word " * 2000
    parts = split_html(text, 100)
    assert all(len(p) <= 100 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_split_without_spaces_cuts_hard() -> None:
    parts = split_html("x" * 250, 100)
    assert [len(p) for p in parts] == [100, 100, 50]


@pytest.mark.parametrize("seed", range(20))
def test_split_keeps_every_word_within_the_limit(seed: int) -> None:
    rng = random.Random(seed)
    words = ["a", "bb", "ccc " * 3, "\n", "\n\n", "x" * 150, "dddd"]
    text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 400)))
    limit = rng.randint(20, 300)
    parts = split_html(text, limit)
    assert all(0 < len(p) <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_escaped_parts_reserve_room_for_the_header() -> None:
    parts = escaped_parts("a & b\n" * 1500, header="<b>Title</b>")
    assert parts[0].startswith("<b>Title</b>\na &amp; b")
    visible = [html.unescape(p.replace("<b>", "").replace("</b>", "")) for p in parts]
    assert len(parts) > 1 and all(len(v) <= MAX_MESSAGE for v in visible)


# ---------------------------------------------------------------------------- groups
def test_mentions_and_strip() -> None:
    assert mentions("@clair_bot when?", "clair_bot")
    assert mentions("hey @CLAIR_BOT, when?", "clair_bot")
    assert not mentions("@clair_bot2 when?", "clair_bot")
    assert not mentions("mail me@clair_bot", "clair_bot")
    assert not mentions("when?", None)
    assert strip_mention("@clair_bot  when do trainees arrive?", "clair_bot") == (
        "when do trainees arrive?"
    )
    assert strip_mention("when, @Clair_Bot?", "clair_bot") == "when, ?"
    assert strip_mention(" plain ", None) == "plain"


@pytest.mark.parametrize(
    ("chat_type", "text", "reply_to", "expected"),
    [
        ("private", "anything", None, True),
        ("group", "when do trainees arrive", None, False),
        ("supergroup", "@clair_bot when do trainees arrive", None, True),
        ("group", "and jiam?", 1, True),
        ("group", "and jiam?", 7, False),
        ("channel", "@clair_bot hi", None, True),
    ],
)
def test_group_filter_logic(
    chat_type: str, text: str, reply_to: int | None, expected: bool
) -> None:
    assert is_addressed(chat_type, text, reply_to, 1, "clair_bot") is expected


# ---------------------------------------------------------------------------- deep links
def test_deep_link_payloads(kb: KnowledgeBase) -> None:
    jet = kb.categories.index("JET Programme")
    assert resolve_deep_link(kb, "jet") == jet
    assert resolve_deep_link(kb, "jet-programme") == jet
    assert resolve_deep_link(kb, "JET_Programme") == jet
    assert resolve_deep_link(kb, "lgotp") == kb.categories.index("LGOTP")
    assert resolve_deep_link(kb, "contacts") == kb.categories.index("Contacts")
    overview = resolve_deep_link(kb, "jet-overview")
    assert isinstance(overview, Entry) and overview.id == "jet-overview"
    assert resolve_deep_link(kb, "repp") == kb.entries["repp-overview"]
    for bad in ("nothing-here", "", "jet overview", "a" * 65, "<b>"):
        assert resolve_deep_link(kb, bad) is None


# ---------------------------------------------------------------------------- state
def test_user_data_remembers_recent_questions() -> None:
    state = UserData()
    numbers = [state.remember(f"q{i}") for i in range(REMEMBERED_QUESTIONS + 5)]
    assert numbers == list(range(1, REMEMBERED_QUESTIONS + 6))
    assert state.question(1) is None and state.question(numbers[-1]) == f"q{len(numbers) - 1}"
    assert len(state.questions) == REMEMBERED_QUESTIONS
    state.forwarded[numbers[-1]] = 4
    state.clear()
    assert state.questions == {} and state.forwarded == {}


def test_user_data_goes_to_json_and_back_as_replicas_share_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = UserData(last_album="album-1")
    state.forwarded[state.remember("fax")] = 12
    state.remember("住所は？ <b>")
    copy = UserData()
    copy.restore(state.dump())
    assert copy == state and copy.question(2) == "住所は？ <b>" and copy.forwarded == {1: 12}
    assert copy.remember("next") == 3  # numbering goes on where the other replica's stopped
    for kept in (None, ""):  # nothing kept: the empty state, whatever was in memory
        copy.restore(kept)
        assert copy == UserData()
    for damaged in ("not json", "[1, 2]", '{"questions": {"x": "q"}}'):
        copy.restore(damaged)
        assert copy == UserData()
    assert "could not be read" in caplog.text


# ---------------------------------------------------------------------------- application
def test_catch_all_text_handler_is_registered_last(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:ABC")
    application = build_application(settings)
    handlers = application.handlers[0]
    last = handlers[-1]
    assert isinstance(last, MessageHandler) and last.callback is user.question
    assert application.error_handlers


def test_build_application_needs_a_token(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        build_application(settings)


def test_run_webhook_without_url_names_the_setting(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert settings.webhook.url == ""
    assert run_telegram(settings, webhook=True) == 2
    out = capsys.readouterr()
    assert "webhook.url" in out.err and len((out.out + out.err).strip().splitlines()) == 1


def test_run_with_broken_knowledge_base_prints_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:ABC")
    broken = load_settings(environ={"CLAIRBOT_KNOWLEDGE_PATH": str(tmp_path)})
    assert run_telegram(broken, webhook=False) == 1
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err and "123:ABC" not in err


# ---------------------------------------------------------------------------- concurrency
async def test_updates_of_one_chat_run_in_order_and_chats_in_parallel() -> None:
    processor = PerChatUpdates(8)
    log: list[str] = []
    first_may_finish = asyncio.Event()

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        log.append(f"{name} start")
        if wait is not None:
            await wait.wait()
        log.append(f"{name} end")

    def update(update_id: int, chat_id: int) -> Update:
        chat = Chat(chat_id, "private")
        message = Message(update_id, datetime.now(UTC), chat, text="hi")
        return Update(update_id, message=message)

    first = asyncio.create_task(
        processor.process_update(update(1, 7), handle("a1", first_may_finish))
    )
    second = asyncio.create_task(processor.process_update(update(2, 7), handle("a2")))
    other = asyncio.create_task(processor.process_update(update(3, 8), handle("b1")))
    await other  # another chat is not held up by chat 7's slow update
    assert log == ["a1 start", "b1 start", "b1 end"]
    first_may_finish.set()
    await asyncio.gather(first, second)
    assert log[3:] == ["a1 end", "a2 start", "a2 end"]  # chat 7's second waited its turn


def test_one_shortener_and_one_tag_stripper() -> None:
    assert shorten("  a\n b  ", 10) == "a b"
    assert shorten("one two three", 8) == "one two…"
    assert len(shorten("x" * 500, 128)) == 128
    assert strip_tags("<b>#1</b> Tom &amp; <i>Jerry</i> &lt;3") == "#1 Tom & Jerry <3"


def test_split_never_cuts_an_entity_and_keeps_the_header_on_part_one() -> None:
    text = "<b>Title</b>\n" + "&amp;" * 150
    parts = split_html(text, 100)
    assert parts[0].startswith("<b>Title</b>")
    assert all(len(strip_tags(p)) <= 100 for p in parts)
    assert all(p.count("&") == p.count("&amp;") for p in parts)
    assert "".join(strip_tags(p) for p in parts) == "Title" + "&" * 150


@pytest.mark.parametrize(
    ("per_second", "per_minute", "private", "least_s", "most_s"),
    [
        (40, 0, True, 0.2, 5.0),  # 40 at once, then 40 a second: 50 sends take 0.25 s
        (0, 0, True, 0.0, 0.2),  # off: no waiting
        (0, 240, False, 0.2, 5.0),  # groups: 240 at once, then four a second
    ],
)
async def test_rate_limiter_follows_the_telegram_settings(
    per_second: float, per_minute: float, private: bool, least_s: float, most_s: float
) -> None:
    settings = load_settings(
        environ={
            "CLAIRBOT_TELEGRAM_MAX_MESSAGES_PER_SECOND": str(per_second),
            "CLAIRBOT_TELEGRAM_GROUP_MESSAGES_PER_MINUTE": str(per_minute),
        }
    )
    limiter = rate_limiter(settings.telegram)
    sent: list[float] = []

    async def send(*args: object, **kwargs: object) -> bool:
        sent.append(time.perf_counter())
        return True

    chat = 7 if private else -1001
    count = 50 if private else 241
    started = time.perf_counter()
    for _ in range(count):
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": chat}, None)
    elapsed = time.perf_counter() - started
    assert len(sent) == count
    assert least_s <= elapsed <= most_s


async def test_a_chat_waiting_for_its_turn_holds_no_slot() -> None:
    processor = PerChatUpdates(2)
    assert processor.max_concurrent_updates == 2
    release = asyncio.Event()
    ran: list[str] = []

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        ran.append(name)
        if wait is not None:
            await wait.wait()

    def update(update_id: int, chat_id: int) -> Update:
        message = Message(update_id, datetime.now(UTC), Chat(chat_id, "private"), text="hi")
        return Update(update_id, message=message)

    burst = [
        asyncio.create_task(
            processor.process_update(update(n, 7), handle(f"a{n}", release if n == 1 else None))
        )
        for n in range(1, 6)
    ]
    other = asyncio.create_task(processor.process_update(update(9, 8), handle("b")))
    await asyncio.wait_for(other, timeout=1)  # four of chat 7's wait, but hold no slot
    assert ran == ["a1", "b"]
    release.set()
    await asyncio.gather(*burst)
    assert ran[2:] == ["a2", "a3", "a4", "a5"]
