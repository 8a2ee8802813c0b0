"""Every sentence staff see, in Japanese and English, in one place for review.

`get(language)` returns one language's `StaffTexts`. What goes to the staff chat for everyone
(announcements, notices, the chart) is in `staff.language` (default Japanese); what answers
one staff member (commands, buttons) is in the language they chose with /language, else in
`staff.language`. The texts are HTML: anything interpolated must already be escaped (the
views in bot.staffview do this).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.language import ENGLISH, JAPANESE
from bot.storage.records import State

#: The languages staff texts exist in.
STAFF_LANGUAGES = (JAPANESE, ENGLISH)


@dataclass(frozen=True)
class StaffTexts:
    """What the bot says to staff, in one language."""

    language: str  # its code, for dates and times
    # refusals and usage
    refused: str
    button_expired: str
    no_such_enquiry: str  # {ref}
    usage: dict[str, str]
    # confirmations
    sent_to_user: str  # {ref}
    empty_reply: str  # {ref}
    note_saved: str  # {ref}
    not_sent_resolved: str  # {ref}, {text}
    not_tied: str  # a reply to a message of the bot's that names no enquiry
    not_stored: str  # the database takes no writes (full or read-only disk)
    saved_reply_sent: str  # {key}, {ref}
    no_such_saved_reply: str  # {key}, {keys}
    saved_replies_header: str
    no_saved_replies: str
    merged: str  # {merged}, {into}
    merge_same: str
    merge_other_user: str  # {a}, {b}
    merge_done_before: str  # {ref}, {into}
    unsupported: str  # {ref}
    file_too_big: str  # {ref}, {limit}
    caption_too_long: str  # {ref}, {limit}
    export_too_big: str  # {limit}
    reloaded: str  # {entries}, {replies}
    console_link: str  # {url}
    console_button: str
    console_private_only: str
    console_off: str
    console_not_running: str
    not_reloaded: str
    resolve_first: str  # {ref}
    added_to_kb: str  # {ref}
    already_in_kb: str  # {ref}
    export_caption: str
    chart_caption: str  # {days}
    help: str
    button_answers: dict[str, str]  # claim / resolve / reopen: {ref}
    claimed_by_answer: str  # {ref}, {name}
    # buttons
    button_claim: str
    button_claimed_by: str  # {name}
    button_resolve: str
    button_reopen: str
    button_add_to_kb: str
    button_saved_replies: str
    button_back: str
    button_older: str
    button_newer: str
    # the staff chat
    new_enquiry: str  # {ref}
    still_waiting: str  # {ref}
    from_line: str  # {who}, {language}
    when_line: str  # {when}
    considered_line: str  # {considered}
    nothing_close: str
    why_line: str  # {why}
    reply_hint: str  # {ref}
    wrote_again: str  # {ref}, {who}
    wrote_again_after_reply: str  # {ref}, {who}
    edited: str  # {ref}, {who}
    sent_attachment: str  # {ref}, {who}, {what}
    delivery_failed: str  # {ref}, {reason}
    copy_failed: str  # {ref}, {reason}
    state_changed: str  # {ref}, {state}, {by}
    open_again: str  # {ref}, {by}
    rated: str  # {ref}, {score}
    commented: str  # {ref}
    autoclosed: str  # {ref}, {days}
    merged_notice: str  # {merged}, {into}
    no_name: str
    unknown_language: str
    language_names: dict[str, str]
    states: dict[State, str]
    media: dict[str, str]  # photo, document, ... -> "a photo"
    # /show and /queue
    show_header: str  # {ref}, {state}
    claimed_by: str  # {name}
    merged_into: str  # {ref}
    opened: str  # {when}
    rating_line: str  # {score}, {comment}
    rating_asked: str
    author_user: str
    author_user_after_reply: str
    author_staff: str  # {name}
    author_note: str  # {name}
    edited_mark: str
    queue_empty: str
    queue_header: str  # {title}, {total}, {page}, {pages}
    queue_titles: dict[str, str]  # "open", "mine", each state
    queue_line: str  # {ref}, {state}, {age}, {text}
    age_units: tuple[str, str, str]  # days, hours, minutes: "{n:.0f} d"
    # the command menu in the staff chat
    commands: tuple[tuple[str, str], ...]
    # /stats and the chart
    stats: dict[str, str]
    chart: dict[str, str]


EN = StaffTexts(
    language=ENGLISH,
    refused="Sorry, that is only for CLAIR staff.",
    button_expired="This button has expired.",
    no_such_enquiry="There is no enquiry #{ref}.",
    usage={
        "show": "Usage: /show N (an enquiry number).",
        "claim": "Usage: /claim N (an enquiry number).",
        "resolve": "Usage: /resolve N (an enquiry number).",
        "reopen": "Usage: /reopen N (an enquiry number).",
        "reply": (
            "Usage: /reply N your answer (sent to the user as CLAIR staff), or /reply N #key "
            "for a saved reply (/replies lists them)."
        ),
        "note": (
            "Usage: /note N text, or /note text as a reply in an enquiry's thread. A note is "
            "kept with the enquiry and never sent to the user."
        ),
        "merge": (
            "Usage: /merge A B folds enquiry B into enquiry A (two different numbers, both "
            "from the same person)."
        ),
        "queue": "Usage: /queue, /queue mine, or /queue new|claimed|pending|resolved.",
    },
    sent_to_user="Sent to the user (#{ref}).",
    empty_reply="The reply is empty, so nothing was sent to the user (#{ref}): type the answer.",
    note_saved="Note kept with #{ref}; it was not sent to the user.",
    not_sent_resolved=(
        "#{ref} is resolved, so nothing was sent or kept. /reopen {ref} first if the user "
        "needs this. Your text:\n<blockquote>{text}</blockquote>"
    ),
    not_tied=(
        "Not sent: I can't tell which enquiry the message you replied to belongs to. "
        "To answer a user, send /reply N your answer (N is the enquiry's number)."
    ),
    not_stored=(
        "Nothing was sent or kept: the database takes no writes just now (a full or read-only "
        "disk). Please try again in a few minutes."
    ),
    saved_reply_sent="Saved reply “{key}” sent to the user (#{ref}).",
    no_such_saved_reply="There is no saved reply “{key}”. Saved replies: {keys}.",
    saved_replies_header=(
        "<b>Saved replies</b> (/reply N #key sends one in the enquiry's language):"
    ),
    no_saved_replies="There are no saved replies.",
    merged="#{merged} was merged into #{into}.",
    merge_same="An enquiry cannot be merged into itself: give two different numbers.",
    merge_other_user=(
        "#{a} and #{b} come from different people; only one person's enquiries can be merged."
    ),
    merge_done_before="#{ref} was already merged into #{into}.",
    unsupported=(
        "Stickers and this kind of message are not relayed (#{ref}). Send text, a photo, a "
        "file, a voice note, a video or a location."
    ),
    file_too_big=(
        "This file is larger than {limit} MB, Telegram's limit for bots, so it was not sent "
        "(#{ref}). Send a smaller file or a link."
    ),
    caption_too_long=(
        "The caption is longer than {limit} characters, so nothing was sent (#{ref}). Send the "
        "file with a shorter caption and the text as a separate message."
    ),
    export_too_big=(
        "The export is larger than {limit} MB, Telegram's upload limit for bots; use "
        "`clair-bot queue export FILE.csv` on the server instead."
    ),
    reloaded="Knowledge base reloaded: {entries} entries; {replies} saved replies.",
    console_link=(
        "Your sign-in link to the staff console (it works once, for 10 minutes; do not "
        "forward it):\n{url}"
    ),
    console_button="Open the console here",
    console_private_only="Send /console to me in a private chat: a sign-in link is personal.",
    console_off="The staff console is turned off (console.enabled in config.yaml).",
    console_not_running="The staff console is not running: it could not start (see the log).",
    not_reloaded="<b>The knowledge base was not reloaded</b>; the old one stays in use. Problems:",
    resolve_first="Resolve #{ref} first: only resolved enquiries go to the knowledge base.",
    added_to_kb="#{ref} was added to the knowledge base suggestions for review.",
    already_in_kb="#{ref} was already added to the suggestions.",
    export_caption="Every enquiry with its thread, as CSV.",
    chart_caption="The last {days} days.",
    help=(
        "\n\n<b>For CLAIR staff</b> (here or in the staff group)\n"
        "Reply to an enquiry's message in the staff group to answer the user; photos, files, "
        "voice notes, videos and locations are relayed too, and editing your reply edits the "
        "user's copy.\n"
        "/queue - open enquiries, oldest first; /queue mine; /queue new|claimed|pending|resolved\n"
        "/show N - an enquiry with its thread, the closest entries and the reason code\n"
        "/claim N, /resolve N, /reopen N - change its state\n"
        "/reply N text - answer the user; /reply N #key - a saved reply; /replies - the list\n"
        "/note N text (or /note text in the thread) - an internal note, never sent\n"
        "/merge A B - fold enquiry B into A\n"
        "/stats - figures and a chart of the last 30 days; /export - every enquiry as CSV\n"
        "/language - 日本語 or English\n"
        "/reload - load the knowledge base and saved replies again after a check\n"
        "/console - a sign-in link to the staff console (queue, figures, knowledge base)"
    ),
    button_answers={
        "claim": "#{ref} is claimed by you.",
        "resolve": "#{ref} is resolved.",
        "reopen": "#{ref} is open again.",
    },
    claimed_by_answer="#{ref} is claimed by {name}; /claim {ref} takes it over.",
    button_claim="Claim",
    button_claimed_by="Claimed by {name}",
    button_resolve="Resolve",
    button_reopen="Reopen",
    button_add_to_kb="Add to knowledge base",
    button_saved_replies="Saved replies",
    button_back="« Back",
    button_older="‹ Older",
    button_newer="Newer ›",
    new_enquiry="<b>#{ref}</b> new enquiry",
    still_waiting="⏰ Still waiting: <b>#{ref}</b>",
    from_line="From: {who} · wrote in {language}",
    when_line="When: {when}",
    considered_line="Bot considered: {considered}",
    nothing_close="nothing close",
    why_line="Why it was forwarded: {why}",
    reply_hint="Reply to this message to answer the user, or use /reply {ref} text.",
    wrote_again="<b>#{ref}</b> {who} wrote again:",
    wrote_again_after_reply="<b>#{ref}</b> {who} wrote again after staff's reply:",
    edited="<b>#{ref}</b> {who} edited a message. Edited:",
    sent_attachment="<b>#{ref}</b> {who} sent {what}",
    delivery_failed="⚠️ <b>#{ref}</b>: the reply could not be delivered to the user ({reason}).",
    copy_failed=(
        "⚠️ <b>#{ref}</b>: the user's attachment could not be copied here ({reason}); /show "
        "{ref} lists it."
    ),
    state_changed="<b>#{ref}</b> is now {state} ({by}).",
    open_again="<b>#{ref}</b> is open again ({by}).",
    rated="⭐ <b>#{ref}</b>: the user rated the answer {score} of 5.",
    commented="💬 <b>#{ref}</b>: the user's comment on the answer:",
    autoclosed=(
        "<b>#{ref}</b> was resolved automatically: no word from the user for {days} days."
    ),
    merged_notice="<b>#{merged}</b> was merged into <b>#{into}</b>; its thread continues there.",
    no_name="(no name)",
    unknown_language="an unknown language",
    language_names={ENGLISH: "English", JAPANESE: "Japanese"},
    states={
        State.NEW: "new",
        State.CLAIMED: "claimed",
        State.PENDING: "pending",
        State.RESOLVED: "resolved",
    },
    media={
        "photo": "a photo",
        "document": "a file",
        "voice": "a voice note",
        "audio": "an audio file",
        "video": "a video",
        "video_note": "a video message",
        "animation": "an animation",
        "location": "a location",
    },
    show_header="<b>#{ref}</b> · {state}",
    claimed_by=" · claimed by {name}",
    merged_into=" · merged into #{ref}",
    opened="Opened: {when}",
    rating_line="Rating: {score} of 5{comment}",
    rating_asked="Rating: asked, no answer yet",
    author_user="user",
    author_user_after_reply="user, after staff's reply",
    author_staff="staff ({name})",
    author_note="📝 internal note ({name})",
    edited_mark="edited",
    queue_empty="The queue is empty: no {title}.",
    queue_header="<b>{title}</b> ({total}), page {page} of {pages}, oldest first:",
    queue_titles={
        "open": "Open enquiries",
        "mine": "Your open enquiries",
        "new": "New enquiries",
        "claimed": "Claimed enquiries",
        "pending": "Enquiries pending on the user",
        "resolved": "Resolved enquiries",
    },
    queue_line="<b>#{ref}</b> {state}, {age} old: {text}",
    age_units=("{n:.0f} d", "{n:.0f} h", "{n:.0f} min"),
    commands=(
        ("queue", "Open enquiries; mine; by state"),
        ("show", "An enquiry and its thread"),
        ("reply", "Answer the user; #key for a saved reply"),
        ("replies", "The saved replies"),
        ("note", "An internal note"),
        ("claim", "Take an enquiry on"),
        ("resolve", "Close an enquiry"),
        ("reopen", "Open an enquiry again"),
        ("merge", "Fold enquiry B into A"),
        ("stats", "Figures and a chart of 30 days"),
        ("export", "Every enquiry as CSV"),
        ("reload", "Knowledge base and saved replies"),
        ("console", "The staff console in a browser"),
        ("language", "日本語 or English"),
        ("help", "How it works"),
    ),
    stats={
        "title": "<b>Enquiry statistics</b>",
        "open": "Open: {open} (new {new}, claimed {claimed}, pending {pending})",
        "first_reply": (
            "First staff reply, office hours, last {days} days: median {median}, "
            "90th percentile {p90}"
        ),
        "no_replies": "First staff reply: no replies in the last {days} days",
        "answered": "Answered today: {today}; this week: {week}",
        "bot_share": (
            "Answered by the bot itself, last {days} days: {share} ({bot} of {total} questions)"
        ),
        "no_questions": "Answered by the bot itself: no questions in the last {days} days",
        "satisfaction": (
            "Satisfaction, last {days} days: {average} of 5 from {count} rating(s) "
            "({asked} asked) · {spread}"
        ),
        "no_ratings": "Satisfaction: no ratings in the last {days} days ({asked} asked)",
        "topics": "Most frequent unanswered topics, last {days} days (closest entry):",
        "no_entry": "(no close entry)",
        "hours": "{hours:.1f} h",
    },
    chart={
        "title": "Enquiries, last {days} days",
        "answered_by_bot": "Answered by the bot",
        "escalated": "Escalated to staff",
        "resolved": "Resolved",
        "questions": "Questions a day",
        "median": "Median first reply (office hours)",
        "hours": "Hours",
        "date": "Date",
    },
)

JA = StaffTexts(
    language=JAPANESE,
    refused="申し訳ありませんが、この操作はクレア職員専用です。",
    button_expired="このボタンは有効期限が切れました。",
    no_such_enquiry="問い合わせ #{ref} はありません。",
    usage={
        "show": "使い方: /show 番号（問い合わせ番号）",
        "claim": "使い方: /claim 番号（問い合わせ番号）",
        "resolve": "使い方: /resolve 番号（問い合わせ番号）",
        "reopen": "使い方: /reopen 番号（問い合わせ番号）",
        "reply": (
            "使い方: /reply 番号 回答文（クレア職員としてユーザーに送信）、または "
            "/reply 番号 #キー（定型文。一覧は /replies）"
        ),
        "note": (
            "使い方: /note 番号 メモ、または問い合わせのスレッド内で返信として /note メモ。"
            "メモは問い合わせとともに保存され、ユーザーには送信されません。"
        ),
        "merge": (
            "使い方: /merge A B で問い合わせ B を A に統合します（異なる2つの番号で、"
            "同じ人からの問い合わせに限ります）。"
        ),
        "queue": "使い方: /queue、/queue mine、/queue new|claimed|pending|resolved",
    },
    sent_to_user="ユーザーに送信しました（#{ref}）。",
    empty_reply=(
        "回答が空のため、ユーザーには何も送信していません（#{ref}）。回答を入力してください。"
    ),
    note_saved="メモを #{ref} に保存しました。ユーザーには送信していません。",
    not_sent_resolved=(
        "#{ref} は解決済みのため、送信も保存もしていません。必要な場合は先に /reopen {ref} "
        "を実行してください。入力した内容:\n<blockquote>{text}</blockquote>"
    ),
    not_tied=(
        "送信していません: 返信先のメッセージがどの問い合わせのものか判別できません。"
        "ユーザーに回答するには /reply 番号 回答文 を送ってください（番号は問い合わせ番号）。"
    ),
    not_stored=(
        "データベースに書き込めないため（ディスクの空き不足または読み取り専用）、送信も保存も"
        "していません。数分後にもう一度お試しください。"
    ),
    saved_reply_sent="定型文「{key}」をユーザーに送信しました（#{ref}）。",
    no_such_saved_reply="定型文「{key}」はありません。定型文: {keys}",
    saved_replies_header=("<b>定型文</b>（/reply 番号 #キー で、問い合わせの言語で送信します）:"),
    no_saved_replies="定型文はありません。",
    merged="#{merged} を #{into} に統合しました。",
    merge_same="同じ問い合わせ同士は統合できません。異なる2つの番号を指定してください。",
    merge_other_user=(
        "#{a} と #{b} は別の人からの問い合わせです。統合できるのは同じ人の問い合わせだけです。"
    ),
    merge_done_before="#{ref} はすでに #{into} に統合されています。",
    unsupported=(
        "スタンプやこの種類のメッセージは転送できません（#{ref}）。文字、写真、ファイル、"
        "音声メッセージ、動画、位置情報を送ってください。"
    ),
    file_too_big=(
        "このファイルは、Telegramのボットの上限である {limit} MB を超えているため、送信して"
        "いません（#{ref}）。小さいファイルかリンクを送ってください。"
    ),
    caption_too_long=(
        "キャプションが {limit} 文字を超えているため、送信していません（#{ref}）。"
        "キャプションを短くし、本文は別のメッセージで送ってください。"
    ),
    export_too_big=(
        "エクスポートがTelegramのボットのアップロード上限 {limit} MB を超えています。"
        "サーバーで `clair-bot queue export FILE.csv` を使ってください。"
    ),
    reloaded="ナレッジベースを再読み込みしました: {entries} 件、定型文 {replies} 件。",
    console_link=(
        "職員用コンソールへのログイン用リンクです（1回限り、10分間有効。転送しないでください）：\n{url}"
    ),
    console_button="ここでコンソールを開く",
    console_private_only=(
        "/console はボットとの個別チャットで送ってください。ログイン用リンクは個人用です。"
    ),
    console_off="職員用コンソールは無効になっています（config.yaml の console.enabled）。",
    console_not_running=(
        "職員用コンソールは起動できなかったため、動いていません（ログを確認してください）。"
    ),
    not_reloaded=(
        "<b>ナレッジベースは再読み込みしていません</b>。以前のものを引き続き使います。問題点:"
    ),
    resolve_first=(
        "先に #{ref} を解決してください。ナレッジベースに追加できるのは解決済みの問い合わせ"
        "だけです。"
    ),
    added_to_kb="#{ref} をナレッジベースの追加候補に加えました（要確認）。",
    already_in_kb="#{ref} はすでに追加候補に加えられています。",
    export_caption="すべての問い合わせとそのやり取り（CSV）",
    chart_caption="過去 {days} 日間",
    help=(
        "\n\n<b>クレア職員向け</b>（この画面または職員グループで）\n"
        "職員グループで問い合わせのメッセージに返信すると、ユーザーに回答できます。写真、"
        "ファイル、音声メッセージ、動画、位置情報も転送され、回答を編集するとユーザー側も"
        "編集されます。\n"
        "/queue - 未解決の問い合わせ（古い順）、/queue mine - 自分の担当、"
        "/queue new|claimed|pending|resolved - 状態で絞り込み\n"
        "/show 番号 - 問い合わせとそのやり取り、ボットが検討した項目と理由コード\n"
        "/claim 番号、/resolve 番号、/reopen 番号 - 状態の変更\n"
        "/reply 番号 回答文 - ユーザーに回答、/reply 番号 #キー - 定型文、/replies - 定型文一覧\n"
        "/note 番号 メモ（スレッド内では /note メモ）- 内部メモ（送信されません）\n"
        "/merge A B - 問い合わせ B を A に統合\n"
        "/stats - 統計と過去30日間のグラフ、/export - 全問い合わせのCSV\n"
        "/language - 日本語 / English\n"
        "/reload - 確認のうえ、ナレッジベースと定型文を再読み込み\n"
        "/console - 職員用コンソール（一覧・統計・ナレッジベース）へのログイン用リンク"
    ),
    button_answers={
        "claim": "#{ref} をあなたの担当にしました。",
        "resolve": "#{ref} を解決済みにしました。",
        "reopen": "#{ref} を再開しました。",
    },
    claimed_by_answer="#{ref} は {name} さんが担当しています。/claim {ref} で担当を引き継げます。",
    button_claim="担当する",
    button_claimed_by="担当: {name}",
    button_resolve="解決済みにする",
    button_reopen="再開する",
    button_add_to_kb="ナレッジベースに追加",
    button_saved_replies="定型文",
    button_back="« 戻る",
    button_older="‹ 古い順",
    button_newer="新しい順 ›",
    new_enquiry="<b>#{ref}</b> 新しい問い合わせ",
    still_waiting="⏰ 未回答: <b>#{ref}</b>",
    from_line="送信者: {who} · 言語: {language}",
    when_line="受信: {when}",
    considered_line="ボットが検討した項目: {considered}",
    nothing_close="該当なし",
    why_line="転送の理由: {why}",
    reply_hint="このメッセージに返信するとユーザーに回答できます（/reply {ref} 回答文 でも可）。",
    wrote_again="<b>#{ref}</b> {who} から追加のメッセージ:",
    wrote_again_after_reply="<b>#{ref}</b> {who} から職員の回答後に追加のメッセージ:",
    edited="<b>#{ref}</b> {who} がメッセージを編集しました。編集後:",
    sent_attachment="<b>#{ref}</b> {who} から{what}が届きました",
    delivery_failed="⚠️ <b>#{ref}</b>: 回答をユーザーに届けられませんでした（{reason}）。",
    copy_failed=(
        "⚠️ <b>#{ref}</b>: ユーザーの添付ファイルをここにコピーできませんでした（{reason}）。"
        "/show {ref} に記録があります。"
    ),
    state_changed="<b>#{ref}</b> は「{state}」になりました（{by}）。",
    open_again="<b>#{ref}</b> は再び未解決になりました（{by}）。",
    rated="⭐ <b>#{ref}</b>: ユーザーの評価は 5 段階中 {score} です。",
    commented="💬 <b>#{ref}</b>: 回答へのユーザーのコメント:",
    autoclosed=(
        "<b>#{ref}</b> は、ユーザーから {days} 日間返信がなかったため自動的に解決済みにしました。"
    ),
    merged_notice=(
        "<b>#{merged}</b> を <b>#{into}</b> に統合しました。以後のやり取りは #{into} で続きます。"
    ),
    no_name="（名前なし）",
    unknown_language="不明な言語",
    language_names={ENGLISH: "英語", JAPANESE: "日本語"},
    states={
        State.NEW: "新規",
        State.CLAIMED: "対応中",
        State.PENDING: "返信待ち",
        State.RESOLVED: "解決済み",
    },
    media={
        "photo": "写真",
        "document": "ファイル",
        "voice": "音声メッセージ",
        "audio": "音声ファイル",
        "video": "動画",
        "video_note": "ビデオメッセージ",
        "animation": "アニメーション",
        "location": "位置情報",
    },
    show_header="<b>#{ref}</b> · {state}",
    claimed_by=" · 担当: {name}",
    merged_into=" · #{ref} に統合済み",
    opened="受付: {when}",
    rating_line="評価: 5 段階中 {score}{comment}",
    rating_asked="評価: 依頼済み、未回答",
    author_user="ユーザー",
    author_user_after_reply="ユーザー（職員の回答後）",
    author_staff="職員（{name}）",
    author_note="📝 内部メモ（{name}）",
    edited_mark="編集",
    queue_empty="該当する問い合わせはありません（{title}）。",
    queue_header="<b>{title}</b>（{total} 件）、{page}/{pages} ページ、古い順:",
    queue_titles={
        "open": "未解決の問い合わせ",
        "mine": "あなたが担当する未解決の問い合わせ",
        "new": "新規の問い合わせ",
        "claimed": "対応中の問い合わせ",
        "pending": "ユーザーの返信待ちの問い合わせ",
        "resolved": "解決済みの問い合わせ",
    },
    queue_line="<b>#{ref}</b> {state}、経過 {age}: {text}",
    age_units=("{n:.0f} 日", "{n:.0f} 時間", "{n:.0f} 分"),
    commands=(
        ("queue", "未解決の問い合わせ・自分の担当・状態別"),
        ("show", "問い合わせとそのやり取り"),
        ("reply", "ユーザーに回答（#キーで定型文）"),
        ("replies", "定型文の一覧"),
        ("note", "内部メモ"),
        ("claim", "担当する"),
        ("resolve", "解決済みにする"),
        ("reopen", "再開する"),
        ("merge", "問い合わせ B を A に統合"),
        ("stats", "統計と30日間のグラフ"),
        ("export", "全問い合わせのCSV"),
        ("reload", "ナレッジベースと定型文の再読み込み"),
        ("console", "ブラウザで職員用コンソールを開く"),
        ("language", "日本語 / English"),
        ("help", "使い方"),
    ),
    stats={
        "title": "<b>問い合わせの統計</b>",
        "open": "未解決: {open} 件（新規 {new}、対応中 {claimed}、返信待ち {pending}）",
        "first_reply": (
            "職員の初回回答までの時間（執務時間、過去 {days} 日間）: 中央値 {median}、"
            "90パーセンタイル {p90}"
        ),
        "no_replies": "職員の初回回答までの時間: 過去 {days} 日間の回答なし",
        "answered": "回答済み: 今日 {today} 件、今週 {week} 件",
        "bot_share": (
            "ボットが自ら回答した割合（過去 {days} 日間）: {share}（{total} 件中 {bot} 件）"
        ),
        "no_questions": "ボットが自ら回答した割合: 過去 {days} 日間の質問なし",
        "satisfaction": (
            "満足度（過去 {days} 日間）: 5 段階中 {average}（評価 {count} 件、依頼 {asked} 件）"
            " · {spread}"
        ),
        "no_ratings": "満足度: 過去 {days} 日間の評価なし（依頼 {asked} 件）",
        "topics": "回答できなかった質問の多いトピック（過去 {days} 日間、最も近い項目）:",
        "no_entry": "（近い項目なし）",
        "hours": "{hours:.1f} 時間",
    },
    chart={
        "title": "問い合わせ（過去 {days} 日間）",
        "answered_by_bot": "ボットが回答",
        "escalated": "職員に転送",
        "resolved": "解決済み",
        "questions": "1日あたりの件数",
        "median": "初回回答までの時間の中央値（執務時間）",
        "hours": "時間",
        "date": "日付",
    },
)

_BY_LANGUAGE = {ENGLISH: EN, JAPANESE: JA}


def get(language: str | None) -> StaffTexts:
    """The staff texts for a language code; Japanese for "ja", English for anything else."""
    return _BY_LANGUAGE.get((language or ENGLISH)[:2].lower(), EN)
