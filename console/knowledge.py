"""The knowledge base page: the learning loop's suggestions, and changes made from them.

A group of similar unanswered questions can join an entry as alternate questions, or start
a new entry drafted in both languages. Each change is shown as a diff with what `kb check`
finds; "Save" writes it and reloads the knowledge base only when there is no error
(bot.kbedit).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.consoleauth import Session
from bot.kbedit import Edit, EditRefused, NewEntry, Question
from bot.wordlists import FACT_KINDS
from console.web import console_of, language_of, logger, render, staff_page


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


async def suggestions(request: Request, session: Session) -> Response:
    """The suggestions, most frequent first, each with the entry the bot found closest."""
    console = console_of(request)
    editor = console.services.kbedit
    language = await language_of(console, session)
    entries = sorted(editor.kb.entries.values(), key=lambda e: e.title_in(language).lower())
    return await render(
        request,
        session,
        "knowledge.html",
        groups=await editor.suggestions(),
        entries=entries,
        entry_titles={e.id: e.title_in(language) for e in entries},
    )


async def add_questions(request: Request, session: Session) -> Response:
    """Add the chosen questions of a group to an entry: preview, or save when valid."""
    console = console_of(request)
    editor = console.services.kbedit
    form = await request.form()
    chosen = {str(ref) for ref in form.getlist("ref")}
    entry_id = str(form.get("entry") or "")
    save = form.get("save") is not None
    questions: list[Question] = [
        q for group in await editor.suggestions() for q in group.questions if str(q.ref) in chosen
    ]
    if not questions:
        return await _result(request, session, None, "no_questions_chosen")
    try:
        edit = editor.add_questions(entry_id, questions, save)
    except EditRefused as refused:
        return await _result(request, session, None, "edit_refused", str(refused))
    logger.info(
        "console: staff %d %s %d question(s) for entry %s (%d error(s))",
        session.staff_id,
        "saved" if edit.saved else "previewed",
        len(questions),
        entry_id,
        len(edit.errors),
    )
    return await _result(request, session, edit, "", entry=entry_id, refs=sorted(chosen))


async def new_entry_form(request: Request, session: Session) -> Response:
    """A new entry drafted from a group's questions (English and Japanese apart)."""
    console = console_of(request)
    editor = console.services.kbedit
    wanted = set(request.query_params.getlist("ref"))
    questions = [
        q for group in await editor.suggestions() for q in group.questions if str(q.ref) in wanted
    ]
    draft = {
        "questions": "\n".join(q.text for q in questions if q.language == "en"),
        "questions_ja": "\n".join(q.text for q in questions if q.language == "ja"),
    }
    return await _draft_page(request, session, draft, None)


async def new_entry(request: Request, session: Session) -> Response:
    """Check a drafted entry; save it (and reload) when it passes."""
    console = console_of(request)
    editor = console.services.kbedit
    form = await request.form()
    values = {key: str(form.get(key) or "") for key in _DRAFT_FIELDS}
    facets = tuple(str(f) for f in form.getlist("facets") if str(f) in FACT_KINDS)
    save = form.get("save") is not None
    file = values["file"] or editor.file_of_category(values["category"]) or ""
    draft = NewEntry(
        id=values["id"].strip(),
        category=values["category"].strip(),
        source=values["source"].strip(),
        title=values["title"].strip(),
        title_ja=values["title_ja"].strip(),
        questions=_lines(values["questions"]),
        questions_ja=_lines(values["questions_ja"]),
        answer=values["answer"],
        answer_ja=values["answer_ja"],
        facets=facets,
    )
    try:
        edit = editor.add_entry(draft, file, save)
    except EditRefused as refused:
        return await _draft_page(request, session, values, None, str(refused), facets)
    logger.info(
        "console: staff %d %s new entry %s in %s (%d error(s))",
        session.staff_id,
        "saved" if edit.saved else "previewed",
        draft.id,
        file,
        len(edit.errors),
    )
    if edit.saved:
        return await _result(request, session, edit, "", entry=draft.id)
    return await _draft_page(request, session, values, edit, "", facets)


_DRAFT_FIELDS = (
    "id", "category", "source", "file", "title", "title_ja", "questions", "questions_ja",
    "answer", "answer_ja",
)  # fmt: skip


async def _draft_page(
    request: Request,
    session: Session,
    values: dict[str, str],
    edit: Edit | None,
    refused: str = "",
    facets: tuple[str, ...] = (),
) -> Response:
    console = console_of(request)
    editor = console.services.kbedit
    kb = editor.kb
    language = await language_of(console, session)
    draft = dict.fromkeys(_DRAFT_FIELDS, "") | values
    return await render(
        request,
        session,
        "new_entry.html",
        draft=draft,
        chosen_facets=facets,
        facet_kinds=FACT_KINDS,
        categories=[(c, kb.category_in(c, language)) for c in kb.categories],
        sources=[(key, kb.source_in(key, language)) for key in kb.sources],
        files=editor.content_files(),
        edit=edit,
        refused=refused,
    )


async def _result(
    request: Request,
    session: Session,
    edit: Edit | None,
    key: str,
    detail: str = "",
    entry: str = "",
    refs: list[str] | None = None,
) -> Response:
    return await render(
        request,
        session,
        "knowledge_result.html",
        edit=edit,
        key=key,
        detail=detail,
        entry=entry,
        refs=refs or [],
    )


ROUTES = [
    Route("/knowledge", staff_page(suggestions)),
    Route("/knowledge/questions", staff_page(add_questions), methods=["POST"]),
    Route("/knowledge/new", staff_page(new_entry_form)),
    Route("/knowledge/new", staff_page(new_entry), methods=["POST"]),
]
