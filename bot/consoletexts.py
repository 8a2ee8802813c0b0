"""Every sentence of the staff console, in Japanese and English, in one place for review.

Plain text (the templates escape it). `get(language)` returns one language's `ConsoleTexts`;
the console speaks the staff member's /language choice, else `staff.language`. State names,
language names, attachment kinds and chart labels come from bot.stafftexts, as in the staff
chat. Placeholders are in braces, as `str.format` fills them (the figures' page fills them in
the browser the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.language import ENGLISH, JAPANESE

#: Printed in the terminal when the console runs beside the terminal chat.
TERMINAL_LINK = (
    "Staff console: {url}\n"
    "  (a one-time sign-in link, valid for 10 minutes; /console prints a new one)"
)
TERMINAL_NO_CONSOLE = "Staff console: not started ({reason})."


@dataclass(frozen=True)
class ConsoleTexts:
    """What the console says, in one language."""

    code: str
    console: str
    nav_queue: str
    nav_figures: str
    nav_knowledge: str
    sign_out: str
    sign_in: str
    how_to_sign_in: str
    mini_app_signing_in: str
    back_to_queue: str
    said: dict[str, str]  # refusals and confirmations, by key
    # the queue
    queue_title: str
    state: str
    state_filters: dict[str, str]  # "" (open), each state, "all"
    holder: str
    holder_anyone: str
    holder_mine: str
    holder_nobody: str
    search: str
    search_hint: str
    apply: str
    queue_count: str  # {total}
    open_oldest: str
    col_ref: str
    col_state: str
    col_holder: str
    col_age: str
    col_language: str
    col_question: str
    office_hours: str  # {n}
    older: str
    newer: str
    page_of: str  # {page}, {pages}
    queue_empty: str
    # an enquiry
    sender: str
    opened: str
    waited: str  # {age}
    nobody: str
    merged_into: str
    reason: str
    rating: str
    rating_asked: str
    rating_value: str  # {score}
    considered: str
    entry: str
    entry_id: str
    score: str
    thread: str
    resolved_hint: str
    reply_label: str
    send_reply: str
    saved_reply: str
    send_saved: str
    note_label: str
    add_note: str
    claim: str
    resolve: str
    reopen: str
    merge_label: str
    merge: str
    # the figures
    figures_title: str
    period: str
    last_days: str  # {days}
    fig_open: str  # {open}, {new}, {claimed}, {pending}
    fig_first_reply: str  # {days}, {median}, {p90}
    fig_no_replies: str  # {days}
    fig_bot_share: str  # {days}, {share}, {bot}, {total}
    fig_no_questions: str  # {days}
    fig_satisfaction: str  # {days}, {average}, {asked}
    fig_no_ratings: str  # {days}, {asked}
    chart_questions: str
    chart_first_reply: str
    chart_ratings: str
    chart_topics: str
    chart_count: str
    chart_score: str
    # the knowledge base
    knowledge_title: str
    knowledge_intro: str
    no_suggestions: str
    group_title: str  # {count}
    list_names: dict[str, str]  # en, ja: the alternate-question list a question joins
    add_to_entry: str
    preview: str
    add_questions: str
    new_entry_from_group: str
    new_entry_blank: str
    new_entry: str
    edit_saved: str  # {file}
    edit_has_errors: str
    edit_valid: str
    already_listed: str
    diff: str
    back_to_knowledge: str
    entry_id_label: str
    category: str
    source: str
    file: str
    file_of_category: str
    facets: str
    title_label: str
    questions_label: str
    answer_label: str
    save_entry: str


EN = ConsoleTexts(
    code=ENGLISH,
    console="CLAIR staff console",
    nav_queue="Queue",
    nav_figures="Figures",
    nav_knowledge="Knowledge base",
    sign_out="Sign out",
    sign_in="Sign in",
    how_to_sign_in=(
        "Send /console to the bot in a private chat for a sign-in link (it works once, for "
        "10 minutes), or open the console from the bot's button in Telegram."
    ),
    mini_app_signing_in="Signing in…",
    back_to_queue="← Queue",
    said={
        "sign_in_needed": "This page is for CLAIR staff who are signed in.",
        "link_refused": "This sign-in link has expired or was already used.",
        "mini_app_refused": "Telegram's sign-in could not be checked, or you are not staff.",
        "signed_out": "You are signed out.",
        "csrf_refused": "That form was not sent from this console, so nothing was done.",
        "bad_filter": "That filter does not exist.",
        "no_such_enquiry": "There is no such enquiry.",
        "no_such_page": "There is no such page.",
        "no_such_file": "There is no such attachment.",
        "file_unavailable": "Telegram did not hand over this attachment (too big, or gone).",
        "empty_note": "The note is empty, so nothing was kept.",
        "empty_reply": "The reply is empty, so nothing was sent to the user: type the answer.",
        "resolved_first": "This enquiry is resolved: reopen it first, then write.",
        "no_such_saved_reply": "There is no such saved reply.",
        "merge_number": "Give the number of the enquiry to fold into this one.",
        "merge_same": "An enquiry cannot be merged into itself.",
        "merge_other_user": "Only one person's enquiries can be merged.",
        "merge_merged_before": "One of them was already merged.",
        "refused": "That cannot be sent through Telegram.",
        "done_reply": "Reply queued for the user; it goes out through Telegram.",
        "done_note": "Note kept; the user does not see it.",
        "done_saved": "Saved reply queued for the user.",
        "done_claim": "You hold this enquiry now.",
        "done_resolve": "Resolved.",
        "done_reopen": "Open again.",
        "done_merge": "Merged into this enquiry.",
        "no_questions_chosen": "Choose at least one question.",
        "edit_refused": "Nothing was changed",
    },
    queue_title="Enquiries",
    state="State",
    state_filters={
        "": "Open",
        "new": "New",
        "claimed": "Claimed",
        "pending": "Pending on the user",
        "resolved": "Resolved",
        "all": "All",
    },
    holder="Held by",
    holder_anyone="Anyone",
    holder_mine="Me",
    holder_nobody="Nobody",
    search="Search",
    search_hint="words in the question or thread",
    apply="Show",
    queue_count="{total} enquiries, oldest first",
    open_oldest="Open the oldest",
    col_ref="#",
    col_state="State",
    col_holder="Held by",
    col_age="Waiting (office hours)",
    col_language="Language",
    col_question="Question",
    office_hours="{n:.1f} h",
    older="‹ Older",
    newer="Newer ›",
    page_of="Page {page} of {pages}",
    queue_empty="No enquiries match.",
    sender="From",
    opened="Opened",
    waited="{age} of office hours ago",
    nobody="nobody",
    merged_into="Merged into",
    reason="Why it was forwarded",
    rating="Rating",
    rating_asked="asked, no answer yet",
    rating_value="{score} of 5",
    considered="Entries the bot considered",
    entry="Entry",
    entry_id="Id",
    score="Score",
    thread="Thread",
    resolved_hint="This enquiry is resolved. Reopen it to reply or add a note.",
    reply_label="Reply to the user (sent as CLAIR staff, in Telegram)",
    send_reply="Send reply",
    saved_reply="Saved reply",
    send_saved="Send",
    note_label="Internal note (never sent to the user)",
    add_note="Add note",
    claim="Claim",
    resolve="Resolve",
    reopen="Reopen",
    merge_label="Fold enquiry # into this one:",
    merge="Merge",
    figures_title="Figures",
    period="Period",
    last_days="Last {days} days",
    fig_open="Open: {open} (new {new}, claimed {claimed}, pending {pending})",
    fig_first_reply=(
        "First staff reply, office hours, last {days} days: median {median} h, "
        "90th percentile {p90} h"
    ),
    fig_no_replies="First staff reply: no replies in the last {days} days",
    fig_bot_share="Answered by the bot itself, last {days} days: {share} ({bot} of {total})",
    fig_no_questions="Answered by the bot itself: no questions in the last {days} days",
    fig_satisfaction="Satisfaction, last {days} days: {average} of 5 ({asked} asked)",
    fig_no_ratings="Satisfaction: no ratings in the last {days} days ({asked} asked)",
    chart_questions="Questions a day: answered by the bot, escalated, resolved",
    chart_first_reply="Median time to a first staff reply (office hours)",
    chart_ratings="Satisfaction (ratings 1-5)",
    chart_topics="Most frequent unanswered topics (closest entry)",
    chart_count="Count",
    chart_score="Score",
    knowledge_title="Knowledge base: unanswered questions",
    knowledge_intro=(
        "Questions the bot could not answer, grouped by similarity, most frequent first. Add "
        "a group to an entry as alternate questions, or draft a new entry in both languages. "
        "Every change is checked like `clair-bot kb check`, written to the YAML file and "
        "reloaded; a change that fails the checks is not saved."
    ),
    no_suggestions="No unanswered questions to review.",
    group_title="{count} question(s)",
    list_names={ENGLISH: "English questions", JAPANESE: "Japanese questions"},
    add_to_entry="Add to entry",
    preview="Preview",
    add_questions="Add and reload",
    new_entry_from_group="Draft a new entry from these",
    new_entry_blank="Draft a new entry",
    new_entry="New entry",
    edit_saved="Saved to {file} and reloaded: the bot uses it now.",
    edit_has_errors="The checks found errors, so nothing was saved:",
    edit_valid="The checks pass; nothing is saved until you press the button.",
    already_listed="Already listed, left out:",
    diff="Change to the file",
    back_to_knowledge="← Knowledge base",
    entry_id_label="Id (lower-case letters, digits and hyphens)",
    category="Category",
    source="Source document",
    file="File",
    file_of_category="the file of its category",
    facets="Kinds of fact the answer gives",
    title_label="Title",
    questions_label="Alternate questions, one a line",
    answer_label="Answer",
    save_entry="Save and reload",
)

JA = ConsoleTexts(
    code=JAPANESE,
    console="クレア職員用コンソール",
    nav_queue="問い合わせ一覧",
    nav_figures="統計",
    nav_knowledge="ナレッジベース",
    sign_out="ログアウト",
    sign_in="ログイン",
    how_to_sign_in=(
        "ボットとの個別チャットで /console を送ると、ログイン用リンクが届きます（1回限り、"
        "10分間有効）。Telegram のボットのボタンからも開けます。"
    ),
    mini_app_signing_in="ログインしています…",
    back_to_queue="← 問い合わせ一覧",
    said={
        "sign_in_needed": "このページはログインしたクレア職員専用です。",
        "link_refused": "このログイン用リンクは期限切れか、すでに使われています。",
        "mini_app_refused": "Telegram のログイン情報を確認できないか、職員ではありません。",
        "signed_out": "ログアウトしました。",
        "csrf_refused": (
            "このフォームはこのコンソールから送られていないため、何も行いませんでした。"
        ),
        "bad_filter": "その絞り込み条件はありません。",
        "no_such_enquiry": "その問い合わせはありません。",
        "no_such_page": "そのページはありません。",
        "no_such_file": "その添付ファイルはありません。",
        "file_unavailable": (
            "Telegram からこの添付ファイルを取得できませんでした（大きすぎるか、削除済み）。"
        ),
        "empty_note": "メモが空のため、保存しませんでした。",
        "empty_reply": "回答が空のため、ユーザーには何も送っていません。回答を入力してください。",
        "resolved_first": "この問い合わせは解決済みです。再開してから書き込んでください。",
        "no_such_saved_reply": "その定型文はありません。",
        "merge_number": "この問い合わせに統合する問い合わせの番号を入力してください。",
        "merge_same": "同じ問い合わせ同士は統合できません。",
        "merge_other_user": "統合できるのは同じ人の問い合わせだけです。",
        "merge_merged_before": "どちらかはすでに統合されています。",
        "refused": "Telegram では送れない内容です。",
        "done_reply": "回答を送信待ちに入れました。Telegram でユーザーに届きます。",
        "done_note": "メモを保存しました。ユーザーには表示されません。",
        "done_saved": "定型文を送信待ちに入れました。",
        "done_claim": "この問い合わせを担当しました。",
        "done_resolve": "解決済みにしました。",
        "done_reopen": "再開しました。",
        "done_merge": "この問い合わせに統合しました。",
        "no_questions_chosen": "質問を1つ以上選んでください。",
        "edit_refused": "変更していません",
    },
    queue_title="問い合わせ",
    state="状態",
    state_filters={
        "": "未解決",
        "new": "新規",
        "claimed": "担当者あり",
        "pending": "ユーザーの返事待ち",
        "resolved": "解決済み",
        "all": "すべて",
    },
    holder="担当者",
    holder_anyone="全員",
    holder_mine="自分",
    holder_nobody="未担当",
    search="検索",
    search_hint="質問やスレッド内の語",
    apply="表示",
    queue_count="{total} 件（古い順）",
    open_oldest="最も古いものを開く",
    col_ref="番号",
    col_state="状態",
    col_holder="担当者",
    col_age="経過（執務時間）",
    col_language="言語",
    col_question="質問",
    office_hours="{n:.1f} 時間",
    older="‹ 古い",
    newer="新しい ›",
    page_of="{pages} ページ中 {page} ページ目",
    queue_empty="該当する問い合わせはありません。",
    sender="送信者",
    opened="受付",
    waited="執務時間で {age} 経過",
    nobody="なし",
    merged_into="統合先",
    reason="転送の理由",
    rating="評価",
    rating_asked="依頼済み、未回答",
    rating_value="5 段階中 {score}",
    considered="ボットが検討した項目",
    entry="項目",
    entry_id="ID",
    score="スコア",
    thread="スレッド",
    resolved_hint="この問い合わせは解決済みです。回答やメモを書くには再開してください。",
    reply_label="ユーザーへの回答（クレア職員として Telegram で送信）",
    send_reply="回答を送信",
    saved_reply="定型文",
    send_saved="送信",
    note_label="内部メモ（ユーザーには送られません）",
    add_note="メモを追加",
    claim="担当する",
    resolve="解決済みにする",
    reopen="再開する",
    merge_label="この問い合わせに統合する番号：",
    merge="統合",
    figures_title="統計",
    period="期間",
    last_days="過去 {days} 日",
    fig_open="未解決：{open} 件（新規 {new}、担当者あり {claimed}、返事待ち {pending}）",
    fig_first_reply=(
        "職員の初回回答までの時間（執務時間、過去 {days} 日）：中央値 {median} 時間、"
        "90パーセンタイル {p90} 時間"
    ),
    fig_no_replies="職員の初回回答：過去 {days} 日に回答はありません",
    fig_bot_share="ボット自身が回答した割合（過去 {days} 日）：{share}（{total} 件中 {bot} 件）",
    fig_no_questions="ボット自身の回答：過去 {days} 日に質問はありません",
    fig_satisfaction="満足度（過去 {days} 日）：5 段階中 {average}（依頼 {asked} 件）",
    fig_no_ratings="満足度：過去 {days} 日に評価はありません（依頼 {asked} 件）",
    chart_questions="1日あたりの質問：ボットが回答、職員に転送、解決",
    chart_first_reply="職員の初回回答までの時間の中央値（執務時間）",
    chart_ratings="満足度（1～5 の評価）",
    chart_topics="回答できなかった質問の多い話題（最も近い項目）",
    chart_count="件数",
    chart_score="評価",
    knowledge_title="ナレッジベース：回答できなかった質問",
    knowledge_intro=(
        "ボットが回答できなかった質問を、似たもの同士にまとめて多い順に並べています。"
        "まとまりを既存の項目の言い換え質問として追加するか、日英両方で新しい項目を作成できます。"
        "変更は `clair-bot kb check` と同じ検査を通ってから YAML ファイルに書き込まれ、"
        "再読み込みされます。検査に通らない変更は保存されません。"
    ),
    no_suggestions="確認が必要な未回答の質問はありません。",
    group_title="{count} 件の質問",
    list_names={ENGLISH: "英語の質問", JAPANESE: "日本語の質問"},
    add_to_entry="追加先の項目",
    preview="プレビュー",
    add_questions="追加して再読み込み",
    new_entry_from_group="これらから新しい項目を作成",
    new_entry_blank="新しい項目を作成",
    new_entry="新しい項目",
    edit_saved="{file} に保存し、再読み込みしました。ボットはすでにこれを使っています。",
    edit_has_errors="検査でエラーが見つかったため、何も保存していません：",
    edit_valid="検査に通りました。ボタンを押すまで保存されません。",
    already_listed="すでに登録済みのため除外：",
    diff="ファイルの変更",
    back_to_knowledge="← ナレッジベース",
    entry_id_label="ID（英小文字・数字・ハイフン）",
    category="カテゴリ",
    source="出典",
    file="ファイル",
    file_of_category="カテゴリのファイル",
    facets="回答が示す情報の種類",
    title_label="タイトル",
    questions_label="言い換え質問（1行に1つ）",
    answer_label="回答",
    save_entry="保存して再読み込み",
)


def get(language: str | None) -> ConsoleTexts:
    """The console's texts in a language (Japanese for "ja", else English)."""
    return JA if (language or "")[:2] == JAPANESE else EN
