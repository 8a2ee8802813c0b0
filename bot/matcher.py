"""The matcher: decides whether to answer a message, ask "did you mean", or escalate.

It is a pipeline of named stages, each a module of its own:

1. read the message (`bot.reading`): clean it, drop greetings, introductions and politeness,
   find the question sentence(s), split a message that asks two things;
2. find candidates (`bot.retrieval`): BM25 over the entries' texts, then three signals per
   entry (words explained, alternate contained, similarity) make a score from 0 to 100;
3. check answerability (`bot.answerability`): guard topics, gaps, the kind of fact asked for,
   every country, place, year and programme named, figures for counts, and every topic word
   explained by the entry (or by two entries together, for "X and Y" questions);
4. decide: a clear winner that passes the checks is answered; a close call gets "did you
   mean"; everything else goes to staff, with a stable reason code.

A message with several parts gets each part decided: the answers it can give, and the rest
forwarded to staff, in one reply. Nothing here knows about Telegram.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from bot import texts
from bot.answerability import Checker, Verdict
from bot.decision import Action, Candidate, Decision, MatcherSettings, Reason
from bot.english import is_real_word
from bot.entities import find_years, standalone
from bot.knowledge import Entry, KnowledgeBase
from bot.language import ENGLISH, JAPANESE, detect_language, has_japanese
from bot.normalize import basic_normalize
from bot.phrases import PhraseFinder
from bot.query import PLACEHOLDERS, Analyser, Query
from bot.reading import Reader, Reading, clean
from bot.retrieval import EntryView, Retriever, Scored, build_views, merged
from bot.wordlists import Cues

# How many of the best-scoring entries the answerability checks look at.
CHECKED = 8
# A second entry may join the first to explain an "X and Y" question when it scores this well.
COVER_SHARE = 0.5


@dataclass(frozen=True)
class _Choice:
    """A candidate that passed every check, with the text to send (one or two entries)."""

    scored: Scored
    answer: str
    entries: tuple[Entry, ...]
    score: float


class Matcher:
    """Answers questions from one knowledge base. Build once; `decide` is cheap."""

    def __init__(self, kb: KnowledgeBase, settings: MatcherSettings | None = None) -> None:
        self.kb = kb
        self.settings = settings or MatcherSettings()
        self.analyser = Analyser(kb)
        self.analyser.set_vocabulary(_english_vocabulary(kb, self.analyser.countries.names))
        self._named = PhraseFinder(
            {
                **{name: f"place:{place}" for name, place in kb.places.items()},
                **{
                    n: f"country:{c}"
                    for n, c in self.analyser.countries.names.items()
                    if n != "us"
                },
            },
            lambda text, start, name: name in kb.places or standalone(text, start, name),
        )
        region = {
            language: kb.language.for_language(language).cues["region"]
            for language in (ENGLISH, JAPANESE)
        }
        views = {
            language: build_views(kb, self.analyser, language) for language in (ENGLISH, JAPANESE)
        }
        self.checker = Checker(kb, {}, self.analyser.countries)
        for language in (ENGLISH, JAPANESE):
            for view in views[language]:
                self._facts(view, region)
        self.retriever = Retriever(kb, self.analyser, views)
        self.checker.vocabulary = self.retriever.vocabulary
        self.checker.set_column_names(self._column_names())
        self._topics = {
            language: frozenset(
                w
                for w in self.retriever.vocabulary[language]
                if w not in PLACEHOLDERS and self.analyser.topic_of([w], language)
            )
            for language in (ENGLISH, JAPANESE)
        }
        self.reader = Reader(kb.language, self._is_topic)
        self._smalltalk = {
            basic_normalize(phrase): intent
            for intent in kb.smalltalk
            for phrase in (*intent.phrases, *intent.phrases_ja)
        }
        self._smalltalk_ja = sorted(
            (p for p in self._smalltalk if has_japanese(p)), key=len, reverse=True
        )
        self._smalltalk_words = max((len(p.split()) for p in self._smalltalk), default=0)
        self._smalltalk_cues = Cues(self._smalltalk)

    # -- building --------------------------------------------------------------------------
    def _facts(self, view: EntryView, region: dict[str, Cues]) -> None:
        """What an entry's texts name (countries, places, years), read before folding, so
        "J.CLAIR Singapore" counts as naming Singapore."""
        entry = view.entry
        countries: set[str] = set()
        places: set[str] = set()
        years: set[int] = set(entry.years)
        for text in (
            *entry.questions, entry.title, entry.answer, *entry.questions_ja, entry.title_ja,
            entry.answer_ja,
        ):  # fmt: skip
            basic = basic_normalize(text)
            for found in self._named.find(basic):
                kind, _, name = found.partition(":")
                (countries if kind == "country" else places).add(name)
            if any(basic in cues for cues in region.values()):
                countries.update(self.kb.language.region_countries)
            if not entry.years:  # declared years are the entry's; "Travel Fair 2025" is a name
                years.update(find_years(text))
        table_countries: set[str] = set()
        if entry.table is not None:
            table = self.kb.tables[entry.table]
            years |= table.years
            for column in table.columns:
                years.update(y for y in (column.year, column.from_year, column.to_year) if y)
            for names in self.checker.row_countries[table.id].values():
                table_countries.update(names)
        view.countries = frozenset(countries)
        view.places = frozenset(places)
        view.years = frozenset(years)
        view.table_countries = frozenset(table_countries)

    def _column_names(self) -> dict[tuple[str, str], PhraseFinder]:
        return {
            (table.id, column.key): PhraseFinder(
                dict.fromkeys(
                    {self.analyser.fold(a, ENGLISH, correct=False) for a in column.aliases}
                    | {basic_normalize(a) for a in column.aliases_ja}
                    | ({column.key.casefold()} if column.key.isalpha() else set()),
                    column.key,
                )
            )
            for table in self.kb.tables.values()
            for column in table.columns
            if not column.total
        }

    def _is_topic(self, text: str, language: str) -> bool:
        return self.analyser.names_topic(text, language, self._topics[language])

    # -- deciding ----------------------------------------------------------------------------
    def decide(
        self, question: str, hint: str | None = None, reply_language: str | None = None
    ) -> Decision:
        """Answer, clarify, escalate or reply to small talk, for one message.

        `hint` is the user's language code (Telegram's, or the one they chose), used when
        the text alone does not tell; the answer comes in `reply_language` if given, else
        in the language of the message.
        """
        text = clean(question)[: self.settings.max_question_chars]
        language = detect_language(text, hint)
        reply = reply_language or language
        basic = basic_normalize(text)
        if not any(ch.isalnum() for ch in basic):
            return Decision(
                question, Action.SMALLTALK, answer=texts.get(reply).empty_question,
                reason="no words", code=Reason.EMPTY, language=reply,
            )  # fmt: skip
        smalltalk = self._smalltalk_reply(basic, language, reply)
        if smalltalk is not None:
            return Decision(
                question, Action.SMALLTALK, answer=smalltalk, reason="smalltalk",
                code=Reason.SMALLTALK, language=reply,
            )  # fmt: skip
        reading = self.reader.read(text, hint)
        if not reading.parts or self._chatting(reading, language):
            # Nothing is asked ("Thank you for your prompt reply. Have a great day ahead!"):
            # small talk, never a question for staff.
            return Decision(
                question, Action.SMALLTALK, answer=self._chat_reply(basic, reply),
                reason="no question found", code=Reason.SMALLTALK, language=reply,
            )  # fmt: skip
        decisions: list[Decision] = []
        previous: Query | None = None
        if reading.context:
            # "We would like to write to the International Cooperation Division. Could you tell
            # me their e-mail address?": the question's "their" is in the sentence before.
            first = self.analyser.query(reading.parts[0], language)
            if first.refers and not (first.named or first.places or first.countries):
                previous = self.analyser.query(" ".join(reading.context), language)
        origin = self._origin(reading, language)
        for part in reading.parts:
            query = self.analyser.query(part, language)
            if origin and query.mine and not query.countries:
                # "I am from Sri Lanka ... how many of our officers joined?"
                query = replace(query, countries=origin)
            if previous is not None:
                query = query.inherit(previous)
            decisions.append(self._decide_part(query, reply))
            previous = query
        return self._combine(question, decisions, reading.parts, reply)

    def _origin(self, reading: Reading, language: str) -> tuple[str, ...]:
        """The countries the writer's dropped self-introduction names."""
        if not reading.dropped:
            return ()
        folded = self.analyser.fold(" ".join(reading.dropped), language, correct=True)
        return self.analyser.countries.find(folded)

    def _decide_part(self, query: Query, reply: str) -> Decision:
        text = query.text
        ranked = self.retriever.search(query)
        considered = tuple(self._candidate(s, reply) for s in ranked[:5])
        best = ranked[0].score if ranked else 0.0
        settings = self.settings
        if not ranked or best < settings.clarify_threshold:
            if query.guards:
                refusal = self.checker.guard(
                    query, ranked[0].entry.covers if ranked else frozenset()
                )
                if refusal is not None:
                    return self._escalate(text, refusal, best, considered, reply)
            return Decision(
                text, Action.ESCALATE, score=best, considered=considered,
                reason="no entry matches well enough", code=Reason.NO_MATCH, language=reply,
            )  # fmt: skip
        checked = [s for s in ranked[:CHECKED] if s.score >= settings.clarify_threshold]
        verdicts = {s.entry.id: self.checker.check(query, s, reply) for s in checked}
        choices: list[_Choice] = []
        first_refusal: Verdict | None = None
        refusals: dict[str, Verdict] = {}
        for scored in checked:
            verdict = verdicts[scored.entry.id]
            if verdict.ok:
                choice, refusal = self._explain(query, scored, verdict, checked, verdicts, reply)
                if choice is not None:
                    choices.append(choice)
                    continue
                verdict = refusal
            refusals[scored.entry.id] = verdict
            if first_refusal is None:
                first_refusal = verdict
        choices.sort(key=lambda c: (-c.score, c.scored.entry.id))
        top = ranked[0]
        # What the best entry's own gaps or a guard topic refuse, no other entry may answer:
        # the question is about that topic, asking what the sources leave out.
        sticky = verdicts.get(top.entry.id)
        if sticky is not None and sticky.code in (Reason.ENTRY_GAP, Reason.GUARD_TOPIC):
            return self._escalate(text, sticky, best, considered, reply)
        # The same when the best entry is about what the question names ("Where is JIAM?" of
        # the entry about JIAM) but lacks the kind of fact asked: another entry that mentions
        # JIAM in passing must not answer in its place.
        lacks = refusals.get(top.entry.id)
        if (
            lacks is not None
            and lacks.code is Reason.FACT_KIND
            and top.view.subjects & query.named
        ):
            return self._escalate(text, lacks, best, considered, reply)
        if (
            not choices
            or choices[0].score < top.score - settings.fallback_band
            or choices[0].scored.explained < top.explained - 0.05
        ):
            refusal = first_refusal or Verdict(code=Reason.NO_MATCH, detail="no entry can answer")
            return self._escalate(text, refusal, best, considered, reply)
        chosen = choices[0]
        runner_up = max(
            (
                c.score
                for c in choices[1:]
                if c.scored.entry.id not in {e.id for e in chosen.entries}
            ),
            default=0.0,
        )
        # One word ("fax", "seminar") that several entries speak of equally: ask which.
        broad = (
            len(set(query.match)) <= 1
            and not query.kinds
            and any(
                c.scored.explained >= chosen.scored.explained - 0.01
                and c.score >= chosen.score - settings.clarify_band
                and c.scored.entry.id not in {e.id for e in chosen.entries}
                for c in choices[1:]
            )
        )
        if (
            chosen.score >= settings.answer_threshold
            and chosen.score - runner_up >= settings.margin
            and not broad
        ):
            entry = chosen.entries[0]
            return Decision(
                text, Action.ANSWER, answer=chosen.answer, entry_id=entry.id,
                title=entry.title_in(reply), score=chosen.score, related=entry.related,
                considered=considered, reason="clear match", code=Reason.ANSWERED,
                language=reply, entry_ids=tuple(e.id for e in chosen.entries),
            )  # fmt: skip
        band = chosen.score - settings.clarify_band
        suggestions = tuple(self._candidate(c.scored, reply) for c in choices if c.score >= band)
        confident = chosen.score >= settings.answer_threshold
        return Decision(
            text, Action.CLARIFY, answer=texts.get(reply).did_you_mean, score=chosen.score,
            suggestions=suggestions[: settings.max_suggestions], considered=considered,
            reason="several entries match" if confident else "match is not confident",
            code=Reason.CLARIFY_CLOSE if confident else Reason.CLARIFY_WEAK,
            language=reply,
        )  # fmt: skip

    def _explain(
        self,
        query: Query,
        scored: Scored,
        verdict: Verdict,
        checked: list[Scored],
        verdicts: dict[str, Verdict],
        reply: str,
    ) -> tuple[_Choice | None, Verdict]:
        """The entry alone, or with a second entry, must give what is asked and explain
        every topic word; otherwise the refusal that says what is missing."""
        elsewhere, foreign = self.checker.unexplained(query, scored)
        if foreign:
            return None, Verdict(
                code=Reason.UNEXPLAINED,
                detail=f"the knowledge base never mentions: {', '.join(foreign)}",
            )
        kinds = self.checker.kinds(query, scored.entry.facets, scored.entry.id)
        unnamed = self.checker.unnamed(query, scored.view.knows, scored.entry.id)
        if not elsewhere and kinds is None and unnamed is None:
            return _Choice(scored, verdict.answer, (scored.entry,), scored.score), verdict
        # "When was CLAIR set up and where is its head office": two entries, one answer, if
        # together they give what is asked and explain more than either alone.
        best: _Choice | None = None
        for other in checked:
            if other is scored or not verdicts[other.entry.id].ok:
                continue
            if other.score < scored.score * COVER_SHARE or other.score > scored.score:
                continue
            together = merged(scored.view, other.view)
            missing_name = [t for t in query.named if t not in scored.view.knows]
            if not any(w in other.view.knows for w in [*elsewhere, *missing_name]):
                continue
            facets = scored.entry.facets | other.entry.facets
            if self.checker.kinds(query, facets, scored.entry.id) is not None:
                continue
            if self.checker.unnamed(query, together.knows, scored.entry.id) is not None:
                continue
            pair = self.retriever.score(query, together)
            alone = max(scored.explained, other.explained)
            if pair.unexplained or (pair.explained <= alone and not missing_name):
                continue
            if best is None or pair.score > best.score:
                answer = f"{verdict.answer}\n\n{verdicts[other.entry.id].answer}"
                best = _Choice(scored, answer, (scored.entry, other.entry), pair.score)
        if best is not None:
            return best, verdict
        if unnamed is not None:
            return None, unnamed
        if kinds is not None:
            return None, kinds
        # Words another entry uses lower the score (less is explained), but do not refuse.
        return _Choice(scored, verdict.answer, (scored.entry,), scored.score), verdict

    def _combine(
        self, question: str, decisions: list[Decision], parts: tuple[str, ...], reply: str
    ) -> Decision:
        """One decision for a message from the decisions on its parts."""
        if len(decisions) == 1:
            return replace(decisions[0], question=question)
        answered = [d for d in decisions if d.action is Action.ANSWER]
        rest = [
            (p, d) for p, d in zip(parts, decisions, strict=True) if d.action is not Action.ANSWER
        ]
        if not answered:
            first = next((d for d in decisions if d.action is Action.ESCALATE), decisions[0])
            if any(d.action is Action.ESCALATE for d in decisions):
                first = replace(first, action=Action.ESCALATE, suggestions=())
            return replace(first, question=question)
        seen: set[str] = set()
        answers: list[str] = []
        entry_ids: list[str] = []
        for decision in answered:
            ids = decision.entry_ids or ((decision.entry_id,) if decision.entry_id else ())
            entry_ids += [i for i in ids if i not in entry_ids]
            if decision.answer not in seen:  # a table answers each part differently
                seen.add(decision.answer)
                answers.append(decision.answer)
        first = answered[0]
        forwarded = tuple(p for p, _ in rest)
        return replace(
            first,
            question=question,
            answer="\n\n".join(answers),
            score=min(d.score for d in answered),
            entry_ids=tuple(entry_ids),
            forwarded=forwarded,
            code=Reason.ANSWERED_PART if forwarded else Reason.ANSWERED,
            reason=(
                f"answered {len(answered)} of {len(decisions)} parts"
                if forwarded
                else "clear match"
            ),
        )

    def _escalate(
        self,
        text: str,
        refusal: Verdict,
        score: float,
        considered: tuple[Candidate, ...],
        reply: str,
    ) -> Decision:
        return Decision(
            text, Action.ESCALATE, score=score, considered=considered, reason=refusal.detail,
            code=refusal.code or Reason.NO_MATCH, language=reply,
        )  # fmt: skip

    @staticmethod
    def _candidate(scored: Scored, reply: str) -> Candidate:
        return Candidate(scored.entry.id, scored.entry.title_in(reply), scored.score)

    # -- small talk ---------------------------------------------------------------------------
    def _smalltalk_reply(self, basic: str, language: str, reply: str) -> str | None:
        """The reply when a message is only small talk ("many thanks, that helped a lot")."""
        if basic in self._smalltalk:
            return self._smalltalk[basic].reply_in(reply)
        found: str | None = None
        rest = basic
        for at_start in (True, False):
            while rest and (peeled := self._peel(rest, at_start)) is not None:
                phrase, rest = peeled
                found = found or phrase
        if found is None:
            spans = self._smalltalk_cues.spans(basic)
            if not spans:
                return None
            found = spans[0][2]
            rest = basic
        if rest and not self._only_chat(rest, language):
            return None
        return self._smalltalk[found].reply_in(reply)

    def _chatting(self, reading: Reading, language: str) -> bool:
        """Whether a message asks nothing at all: no sentence phrased as a question, and no
        word of a topic, guard topic, kind of fact, country, place or year in it."""
        if reading.asks:
            return False
        for part in reading.parts:
            query = self.analyser.query(part, language)
            if any(w in self._topics[language] for w in query.topic):
                return False
            if query.guards or query.kinds or query.countries or query.years or query.places:
                return False
            if not self._real_words(query):
                return False  # "asdfgh qwerty": not small talk, not a question either
        return True

    @staticmethod
    def _real_words(query: Query) -> bool:
        if query.language == JAPANESE:
            return True
        words = [w for w in query.basic.split() if w.isalpha()]
        return bool(words) and sum(is_real_word(w) for w in words) * 2 >= len(words)

    def _chat_reply(self, basic: str, reply: str) -> str:
        """The reply of the small talk a message contains, else the greeting's."""
        spans = self._smalltalk_cues.spans(basic)
        if spans:
            return self._smalltalk[spans[0][2]].reply_in(reply)
        greeting = next((i for i in self.kb.smalltalk if i.name == "greeting"), None)
        intent = greeting or (self.kb.smalltalk[0] if self.kb.smalltalk else None)
        return intent.reply_in(reply) if intent else texts.get(reply).empty_question

    def _only_chat(self, rest: str, language: str) -> bool:
        """Whether what is left around small talk asks nothing: no topic, no guard, no kind."""
        if self._is_topic(rest, language):
            return False
        query = self.analyser.query(rest, language)
        return not (query.guards or query.kinds - {"opinion"} or query.countries or query.years)

    def _peel(self, text: str, at_start: bool) -> tuple[str, str] | None:
        """(small-talk phrase, the rest) if `text` starts (or ends) with one."""
        words = text.split()
        for count in range(min(len(words), self._smalltalk_words), 0, -1):
            part = words[:count] if at_start else words[-count:]
            phrase = " ".join(part)
            if phrase in self._smalltalk:
                remaining = words[count:] if at_start else words[:-count]
                return phrase, " ".join(remaining)
        for phrase in self._smalltalk_ja:
            if text.startswith(phrase) if at_start else text.endswith(phrase):
                rest = text[len(phrase) :] if at_start else text[: -len(phrase)]
                return phrase, rest.strip()
        return None

    # -- for buttons and tools -----------------------------------------------------------------
    def answer_for(self, entry_id: str, question: str = "", language: str = ENGLISH) -> str:
        """The answer text of an entry, for a question that chose it (e.g. from a button)."""
        entry = self.kb.entries[entry_id]
        if not question:
            return entry.answer_in(language)
        asked = detect_language(question, language)
        query = self.analyser.query(clean(question), asked)
        view = self.retriever.view(entry_id, asked)
        verdict = self.checker.check(query, self.retriever.score(query, view), language)
        return verdict.answer if verdict.ok else entry.answer_in(language)

    def rank(self, question: str, hint: str | None = None) -> list[Candidate]:
        """The entries in the running for a question, best first (for tools and tests)."""
        language = detect_language(question, hint)
        query = self.analyser.query(clean(question), language)
        return [self._candidate(s, language) for s in self.retriever.search(query)]

    def countries_in(self, text: str) -> tuple[str, ...]:
        """The countries a text names (for tools)."""
        folded = self.analyser.fold(text, detect_language(text), correct=True)
        return self.analyser.countries.find(folded)


def _english_vocabulary(kb: KnowledgeBase, countries: Mapping[str, str]) -> set[str]:
    """Every English word the knowledge base uses: typos are corrected towards these."""
    words: set[str] = set()
    for entry in kb.entries.values():
        for text in (*entry.questions, entry.title, entry.answer):
            words.update(basic_normalize(text).split())
    for terms in kb.guards.values():
        for term in terms:
            words.update(term.split())
    for intent in kb.smalltalk:
        for phrase in intent.phrases:
            words.update(basic_normalize(phrase).split())
    for name in countries:
        words.update(name.split())
    return {w for w in words if w.isalpha()}


__all__ = ["Matcher"]
