"""Every sentence the bot says that is not knowledge-base content, in one place for review.

Users get English or Japanese: `get(language)` returns that language's `Texts`. The Telegram
texts are sent with HTML parse mode: they may use <b>/<i>, and anything interpolated into
them must already be escaped by the caller (the views do this). Staff-facing texts live in
`bot.staffview`; the terminal's own texts are at the end of this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.language import ENGLISH, JAPANESE
from bot.storage.records import State
from bot.workhours import OfficeHours

LANGUAGE_NAMES = {ENGLISH: "English", JAPANESE: "日本語"}


@dataclass(frozen=True)
class Texts:
    """What the bot says to users, in one language."""

    empty_question: str
    did_you_mean: str
    none_of_these: str
    escalated: str  # {ref}, {when}
    followed_up: str  # {ref}
    already_forwarded: str  # {ref}
    welcome: str
    help: str
    topics: str
    contact_header: str
    ask_usage: str
    ask_type_question: str
    no_enquiries: str
    enquiries_header: str
    not_text: str
    unknown_command: str
    button_expired: str
    feedback_thanks: str
    something_wrong: str
    cannot_forward: str  # the database takes no writes (full or read-only disk)
    forget_confirm: str
    forget_cancelled: str
    forgotten: str  # {enquiries}, {messages}, {feedback}
    privacy: str  # {days}
    daily_limit: str
    too_fast: str
    language_prompt: str
    language_set: str
    button_ask_staff: str
    button_back: str
    button_forget_yes: str
    button_forget_no: str
    states: dict[State, str]
    commands: tuple[tuple[str, str], ...]
    staff_reply: str  # {ref}: the first line of what staff send
    attachment_added: str  # {ref}
    file_too_big: str  # {limit}
    caption_too_long: str  # {limit}
    rating_question: str  # {ref}
    rating_thanks: str  # {score}
    rating_already: str
    comment_prompt: str  # {ref}
    comment_thanks: str
    autoclosed: str  # {ref}, {days}
    merged: str  # {merged}, {into}
    source: str  # {title}: the last line of every answer
    contact_phone: str  # {title}, {phone}
    rephrase: str
    broad_topics: str
    which_enquiry: str  # {ref}
    button_new_question: str
    button_same_enquiry: str  # {ref}
    not_your_enquiry: str
    chat_help: str  # the terminal chat's /help
    chat_unknown_command: str  # {commands}
    chat_choose: str  # {count}
    button_helpful: str = "👍"
    button_not_helpful: str = "👎"


EN = Texts(
    empty_question=(
        'Please type your question in words, for example: "When do LGOTP trainees arrive in '
        'Japan?" or "What does a CIR do?"'
    ),
    did_you_mean="I'm not sure which of these you mean. Did you mean:",
    none_of_these="None of these - ask staff",
    escalated=(
        "I don't have a reliable answer to that, so I've forwarded your question to CLAIR "
        "staff (the International Cooperation and Economic Relations Division). Your "
        "reference is #{ref}. A member of staff will reply to you here, usually by {when}; "
        "you don't need to ask again."
    ),
    followed_up=(
        "I've added this to your open question #{ref}, so the member of staff handling it "
        "will see it. You don't need to ask again."
    ),
    already_forwarded="You already sent this question to staff: your reference is #{ref}.",
    welcome=(
        "Hello! I'm the CLAIR Singapore assistant. I answer questions about CLAIR's "
        "programmes: LGOTP training, the JET Programme, exchanges, seminars, sister cities "
        "and more.\n\nType your question in your own words, or pick a topic below. /help "
        "lists what else I can do. 日本語でもご質問いただけます（/language）。"
    ),
    help=(
        "<b>How to use this bot</b>\n"
        "Type a question, e.g. <i>When do LGOTP trainees arrive in Japan?</i> If I'm not "
        "sure, I'll show a few choices; if I can't answer, I'll forward your question to "
        "CLAIR staff.\n\n"
        "/topics - browse the topics\n"
        "/contact - how to reach CLAIR\n"
        "/ask &lt;question&gt; - send a question straight to staff\n"
        "/status - your questions to staff\n"
        "/language - English or 日本語\n"
        "/privacy - what is stored about you\n"
        "/forget - delete what is stored about you\n\n"
        "In a group, mention me or reply to one of my messages."
    ),
    topics="<b>Topics</b>\nPick a topic to see its questions:",
    contact_header="<b>How to reach CLAIR</b>",
    ask_usage=(
        "Type /ask followed by your question, e.g. <i>/ask Can my city host a trainee next "
        "year?</i> It goes straight to CLAIR staff, who will reply here."
    ),
    ask_type_question=(
        "I no longer have that question. Please type it again after /ask, e.g. "
        "<i>/ask When is the application deadline?</i>"
    ),
    no_enquiries="You have no questions with CLAIR staff.",
    enquiries_header="<b>Your questions to staff</b> (newest first):",
    not_text=(
        "Sorry, I can't read or forward stickers and messages of this kind. Please type your "
        "question in words; photos, files, voice notes, videos and locations go to CLAIR staff."
    ),
    unknown_command="I don't know that command. /help lists the commands I understand.",
    button_expired="This button has expired - please type your question again.",
    feedback_thanks="Thank you for your feedback!",
    something_wrong=(
        "Sorry, something went wrong on my side. Please try again in a moment, or type /ask "
        "followed by your question to reach CLAIR staff."
    ),
    forget_confirm=(
        "This deletes your questions to staff, their replies, your answer feedback and your "
        "language choice. Staff will no longer be able to reply to open questions. Delete "
        "everything?"
    ),
    forget_cancelled="Nothing was deleted.",
    forgotten=(
        "Done. I deleted {enquiries} question(s) to staff, {messages} message(s) and "
        "{feedback} answer rating(s)."
    ),
    privacy=(
        "<b>Privacy</b>\n"
        "When a question goes to CLAIR staff, I store it with your name, username, Telegram "
        "user id and the language you wrote in, so staff can reply to you; photos, files and "
        "other attachments you send them stay with Telegram, and I keep a reference to them. "
        "When you rate an answer with 👍 or 👎, or rate how a question to staff was answered "
        "(1-5, with an optional comment), I store the rating. If you choose a language with "
        "/language, I store that choice.\n"
        "Questions answered from the knowledge base are not stored.\n"
        "Stored questions are kept until they are resolved, then for {days} more days. "
        "/forget deletes everything stored about you now."
    ),
    daily_limit=(
        "I've already forwarded as many new questions to staff as I can in a day, so this one "
        "was not sent. Staff will reply to the ones you sent. You can send a new question to "
        "staff again from {when}; until then I still answer questions, and /topics, /status "
        "and the other commands work as usual."
    ),
    too_fast="You're sending messages faster than I can read them. Please wait a minute.",
    cannot_forward="I couldn't forward this just now; please try again in a few minutes.",
    language_prompt="Which language would you like me to use?",
    language_set="From now on I'll answer in English. /topics shows the topics.",
    button_ask_staff="Ask staff",
    button_back="« Back",
    button_forget_yes="Yes, delete",
    button_forget_no="No, keep it",
    states={
        State.NEW: "new",
        State.CLAIMED: "being handled",
        State.PENDING: "answered, waiting for you",
        State.RESOLVED: "resolved",
    },
    commands=(
        ("start", "Welcome and topics"),
        ("topics", "Browse the topics"),
        ("contact", "How to reach CLAIR"),
        ("ask", "Send a question straight to staff"),
        ("status", "Your questions to staff"),
        ("language", "English or 日本語"),
        ("privacy", "What is stored about you"),
        ("forget", "Delete what is stored about you"),
        ("help", "How to use this bot"),
    ),
    staff_reply="<b>CLAIR staff</b> (about your enquiry #{ref}):",
    attachment_added=(
        "I've forwarded this to CLAIR staff with your question #{ref}. You don't need to send "
        "it again."
    ),
    file_too_big=(
        "Sorry, this file is larger than {limit} MB, the most Telegram lets me pass on, so it "
        "was not forwarded. Please send a smaller file or a link."
    ),
    caption_too_long=(
        "Sorry, the caption is longer than {limit} characters, so nothing was forwarded. "
        "Please send the file with a shorter caption and the text as a separate message."
    ),
    rating_question=(
        "Your enquiry #{ref} is resolved. Did this answer your question? "
        "Please rate it from 1 (not at all) to 5 (completely)."
    ),
    rating_thanks="Thank you! You rated the answer {score} of 5.",
    rating_already="You have already rated this answer. Thank you!",
    comment_prompt=(
        "If you like, reply to this message with a comment on the answer to #{ref} (optional)."
    ),
    comment_thanks="Thank you for your comment; CLAIR staff will read it.",
    autoclosed=(
        "Your enquiry #{ref} was closed because we have not heard from you for {days} days. "
        "If you still need help, reply to this message and it will be opened again."
    ),
    merged=(
        "Your enquiries #{merged} and #{into} are about the same thing, so staff joined them: "
        "#{into} is the one to refer to from now on."
    ),
    source="Source: {title}",
    contact_phone="{title}: {phone}",
    rephrase=(
        "Sorry, I couldn't find any words I know in that. Could you rephrase your question? "
        "You can also pick a topic below."
    ),
    broad_topics="That covers several topics. Which one would you like?",
    which_enquiry=(
        "I can't answer this myself. Is it a new question for staff, or part of your open "
        "question #{ref}?"
    ),
    button_new_question="New question",
    button_same_enquiry="Part of #{ref}",
    not_your_enquiry="That question is no longer open. Please type your message again.",
    chat_help=(
        "Type a question and press Enter (English or 日本語). Where I offer choices, type the "
        "number of one: a topic, a related question, Ask staff, or 👍/👎 for the answer. "
        "Replies from CLAIR staff appear here as they arrive.\n"
        "/topics - browse the topics\n"
        "/contact - how to reach CLAIR\n"
        "/ask <question> - send a question straight to staff\n"
        "/status - your questions to staff, with their replies\n"
        "/language - English or 日本語\n"
        "/privacy - what is stored about you\n"
        "/forget - delete what is stored about you\n"
        "/quit - leave (Ctrl-C and Ctrl-D work too)"
    ),
    chat_unknown_command="I don't know that command. The commands are: {commands}.",
    chat_choose="Please type a number from 1 to {count}, or a new question.",
)

JA = Texts(
    empty_question=(
        "ご質問を文章で入力してください。例：「研修員はいつ来日しますか」「国際交流員（CIR）の"
        "仕事は何ですか」"
    ),
    did_you_mean="どの内容についてのご質問でしょうか。次の中からお選びください。",
    none_of_these="どれでもない - 職員に問い合わせる",
    escalated=(
        "このご質問には確かな回答をお示しできないため、クレア職員（国際協力・経済交流課）に"
        "お送りしました。受付番号は #{ref} です。通常 {when} までに、職員からこちらに"
        "ご返信します。改めてお問い合わせいただく必要はありません。"
    ),
    followed_up=(
        "このメッセージを、対応中のお問い合わせ #{ref} に追加しました。担当の職員が確認します。"
        "改めてお問い合わせいただく必要はありません。"
    ),
    already_forwarded="このご質問は職員に送信済みです。受付番号は #{ref} です。",
    welcome=(
        "こんにちは。自治体国際化協会（クレア）シンガポール事務所のご案内ボットです。"
        "自治体職員協力交流事業（LGOTP）、JETプログラム、交流事業、セミナー、姉妹都市などに"
        "ついてお答えします。\n\nご質問を入力するか、下のトピックからお選びください。"
        "そのほかの使い方は /help をご覧ください。For English, use /language."
    ),
    help=(
        "<b>このボットの使い方</b>\n"
        "ご質問を入力してください。例：<i>研修員はいつ来日しますか</i>\n"
        "候補が複数ある場合は選択肢を表示します。お答えできない場合は、クレア職員に"
        "お送りします。\n\n"
        "/topics - トピック一覧\n"
        "/contact - 問い合わせ先\n"
        "/ask &lt;質問&gt; - 職員に直接質問する\n"
        "/status - 職員へのお問い合わせ状況\n"
        "/language - 日本語 / English\n"
        "/privacy - 保存される情報\n"
        "/forget - 保存された情報の削除\n\n"
        "グループでは、メンションするか、ボットのメッセージに返信してください。"
    ),
    topics="<b>トピック</b>\nトピックを選ぶと、その内容を表示します。",
    contact_header="<b>問い合わせ先</b>",
    ask_usage=(
        "/ask に続けてご質問を入力してください。例：<i>/ask 来年度、本市で研修員を受け入れる"
        "ことはできますか</i> クレア職員に直接送られ、こちらに返信があります。"
    ),
    ask_type_question=(
        "そのご質問は保存されていません。/ask に続けてもう一度入力してください。例："
        "<i>/ask 応募の締切はいつですか</i>"
    ),
    no_enquiries="職員へのお問い合わせはありません。",
    enquiries_header="<b>職員へのお問い合わせ</b>（新しい順）:",
    not_text=(
        "申し訳ありませんが、スタンプやこの種類のメッセージは読み取り・転送ができません。"
        "ご質問を文章で入力してください。写真、ファイル、音声メッセージ、動画、位置情報は"
        "クレア職員にお送りします。"
    ),
    unknown_command="そのコマンドはありません。使えるコマンドは /help でご確認ください。",
    button_expired="このボタンは有効期限が切れました。もう一度ご質問を入力してください。",
    feedback_thanks="ご評価ありがとうございます。",
    something_wrong=(
        "申し訳ありません。エラーが発生しました。しばらくしてからもう一度お試しいただくか、"
        "/ask に続けてご質問を入力し、クレア職員にお問い合わせください。"
    ),
    forget_confirm=(
        "職員へのお問い合わせ、その返信、回答への評価、言語の設定を削除します。対応中の"
        "お問い合わせにも職員から返信できなくなります。すべて削除しますか。"
    ),
    forget_cancelled="削除しませんでした。",
    forgotten=(
        "削除しました。職員へのお問い合わせ {enquiries} 件、メッセージ {messages} 件、"
        "回答への評価 {feedback} 件です。"
    ),
    privacy=(
        "<b>プライバシー</b>\n"
        "ご質問をクレア職員にお送りする場合、職員が返信できるよう、ご質問とともにお名前、"
        "ユーザー名、TelegramのユーザーID、ご質問の言語を保存します。職員に送られた写真や"
        "ファイルなどはTelegramに保管され、ボットはその参照を保存します。回答を👍/👎で評価"
        "された場合や、職員の回答を1～5で評価された場合（任意のコメントを含む）は、その評価を"
        "保存します。/language で言語を選んだ場合は、その設定を保存します。\n"
        "ナレッジベースからお答えしたご質問は保存しません。\n"
        "保存したお問い合わせは、解決するまで、その後さらに {days} 日間保存します。"
        "/forget で、保存された情報をすぐに削除できます。"
    ),
    daily_limit=(
        "1日にお送りできる新しいお問い合わせの上限に達したため、このご質問はお送りしていません。"
        "お送り済みのお問い合わせには職員が返信します。{when} から、また新しいご質問を職員に"
        "お送りできます。それまでも、ご質問への回答や /topics、/status などのコマンドは"
        "これまでどおりご利用いただけます。"
    ),
    too_fast="メッセージの送信が速すぎます。1分ほどお待ちください。",
    cannot_forward="ただいまこのメッセージを職員に転送できませんでした。数分後にもう一度お送りください。",
    language_prompt="使用する言語をお選びください。",
    language_set="これから日本語でお答えします。/topics でトピック一覧を表示します。",
    button_ask_staff="職員に問い合わせる",
    button_back="« 戻る",
    button_forget_yes="削除する",
    button_forget_no="削除しない",
    states={
        State.NEW: "受付済み",
        State.CLAIMED: "対応中",
        State.PENDING: "回答済み（ご返信待ち）",
        State.RESOLVED: "解決済み",
    },
    commands=(
        ("start", "ようこそ・トピック一覧"),
        ("topics", "トピック一覧"),
        ("contact", "問い合わせ先"),
        ("ask", "職員に直接質問する"),
        ("status", "職員へのお問い合わせ状況"),
        ("language", "日本語 / English"),
        ("privacy", "保存される情報"),
        ("forget", "保存された情報の削除"),
        ("help", "このボットの使い方"),
    ),
    staff_reply="<b>クレア職員より</b>（お問い合わせ #{ref} について）:",
    attachment_added=(
        "お問い合わせ #{ref} とともにクレア職員にお送りしました。改めて送っていただく必要は"
        "ありません。"
    ),
    file_too_big=(
        "申し訳ありませんが、このファイルはTelegramでボットが扱える上限の {limit} MB を"
        "超えているため、お送りしていません。小さいファイルかリンクをお送りください。"
    ),
    caption_too_long=(
        "申し訳ありませんが、キャプションが {limit} 文字を超えているため、お送りしていません。"
        "キャプションを短くし、本文は別のメッセージでお送りください。"
    ),
    rating_question=(
        "お問い合わせ #{ref} は解決済みになりました。ご質問への回答になりましたか。"
        "1（まったくならなかった）から 5（十分になった）でお答えください。"
    ),
    rating_thanks="ありがとうございます。評価は 5 段階中 {score} です。",
    rating_already="この回答はすでに評価いただいています。ありがとうございます。",
    comment_prompt=(
        "よろしければ、#{ref} の回答へのコメントをこのメッセージへの返信でお送りください（任意）。"
    ),
    comment_thanks="コメントをありがとうございます。クレア職員が確認します。",
    autoclosed=(
        "{days} 日間ご返信がなかったため、お問い合わせ #{ref} を終了しました。まだお困りの"
        "場合は、このメッセージに返信していただければ再開します。"
    ),
    merged=(
        "お問い合わせ #{merged} と #{into} は同じ内容のため、職員が1つにまとめました。"
        "今後は #{into} をご参照ください。"
    ),
    source="出典：{title}",
    contact_phone="{title}：{phone}",
    rephrase=(
        "申し訳ありません。知っている言葉が見つかりませんでした。ご質問を言い換えていただけますか。"
        "下のトピックからお選びいただくこともできます。"
    ),
    broad_topics="いくつかのトピックに関係します。どれについてお知りになりたいですか。",
    which_enquiry=(
        "このご質問にはお答えできません。職員への新しいご質問ですか、それとも対応中の"
        "お問い合わせ #{ref} の続きですか。"
    ),
    button_new_question="新しい質問",
    button_same_enquiry="#{ref} の続き",
    not_your_enquiry="そのお問い合わせは対応中ではありません。もう一度メッセージを入力してください。",
    chat_help=(
        "ご質問を入力して Enter を押してください（日本語・English）。選択肢を表示したときは、"
        "トピック、関連する質問、「職員に問い合わせる」、回答への👍/👎のいずれかの番号を入力して"
        "ください。クレア職員からの返信は、届きしだいここに表示します。\n"
        "/topics - トピック一覧\n"
        "/contact - 問い合わせ先\n"
        "/ask <質問> - 職員に直接質問する\n"
        "/status - 職員へのお問い合わせ状況と返信\n"
        "/language - 日本語 / English\n"
        "/privacy - 保存される情報\n"
        "/forget - 保存された情報の削除\n"
        "/quit - 終了（Ctrl-C、Ctrl-D でも終了します）"
    ),
    chat_unknown_command="そのコマンドはありません。使えるコマンド：{commands}",
    chat_choose="1 から {count} までの番号か、新しいご質問を入力してください。",
)

_BY_LANGUAGE = {ENGLISH: EN, JAPANESE: JA}


#: Every language's texts.
ALL = (EN, JA)


def get(language: str | None) -> Texts:
    """The texts for a language code ("en", "ja"); English for anything else."""
    return _BY_LANGUAGE.get((language or ENGLISH)[:2].lower(), EN)


_WEEKDAYS_JA = "月火水木金土日"


def format_time(moment: datetime, hours: OfficeHours, language: str) -> str:
    """A moment in the office's time zone, as a user reads it: "Mon 23 Nov 16:15 JST" or
    "11月23日（月）16:15 JST"."""
    local = moment.astimezone(hours.timezone)
    zone = local.tzname() or ""
    if get(language) is JA:
        weekday = _WEEKDAYS_JA[local.weekday()]
        return f"{local.month}月{local.day}日（{weekday}）{local:%H:%M} {zone}".strip()
    return f"{local:%a %d %b %H:%M} {zone}".strip()


# --------------------------------------------------------------------------- the terminal
NO_TOKEN = """\
TELEGRAM_BOT_TOKEN is not set, so the Telegram bot cannot start.
To run it on Telegram: talk to @BotFather in Telegram, send /newbot, follow the prompts,
then run:  TELEGRAM_BOT_TOKEN=<the token> make run
Meanwhile, here is the same bot in your terminal (same knowledge base, same database)."""

GOODBYE = "Goodbye."
