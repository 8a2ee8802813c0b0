"""Stage 1 of the decision: read the message, find the question(s) in it.

People write "Good afternoon. I work in the international affairs section of Cebu City and my
director asked me to check how long the training in Japan lasts. Is it the full year?" or
「お世話になっております。○○市国際交流課の△△です。…について教えていただけますか。」. The
greeting, the self-introduction, the context and the politeness say nothing about what is
asked, and the places they name are not what the question is about. This stage:

1. cleans the text: Unicode NFKC (full-width letters and digits), no control or zero-width
   characters or lone surrogates, Japanese era years as Western years (令和6年度 -> 2024年度),
   regional and chat phrasings in plain English ("can or not", "pwede po ba", "govt trng");
2. cuts it into sentences and sorts them: small talk, introductions and politeness are
   dropped; a frame around an embedded question ("my director asked me to check ...") is
   peeled off; sentences that ask something are kept, context only when nothing else asks;
3. splits a sentence that asks two things ("..., and how many ...", 「また」) into parts, each
   of which must name something of its own, or it stays with its neighbour.

The word lists come from knowledge/language.yaml; nothing here knows the entries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot.language import JAPANESE, detect_language
from bot.normalize import basic_normalize
from bot.wordlists import LanguageLists, Wording

_CONTROL = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    "\u200b-\u200f\u2028\u2029\u2060-\u2064\ufeff]"
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_EN_SENTENCE = re.compile(r"(?<=[?!])\s*|(?<=[.;])\s+(?=\S)|\s*\n+\s*")
_JA_SENTENCE = re.compile(r"(?<=[。？！?!])\s*|\s*\n+\s*")
_QUESTION_MARK = re.compile(r"[?？]\s*$")
_JA_TRAILING = re.compile(r"[\s。、!！?？…〜～ー]+$")
# A clause giving the writer's reason, not the question: "..., as we need to plan staffing".
_EN_ASIDE = re.compile(
    r",?\s*\b(?:as (?:we|i) (?:need|have|want|are|am|will)|because|since (?:we|i)|"
    r"so that|so (?:we|i) can|in order to)\b[^,.;?!]*"
)


@dataclass(frozen=True)
class Reading:
    """A message, read: its language and the question parts to decide on."""

    text: str  # the cleaned message
    language: str
    parts: tuple[str, ...]  # what is asked; more than one when the message asks several things
    dropped: tuple[str, ...] = ()  # sentences dropped: greetings, introductions, politeness
    asks: bool = False  # some sentence is phrased as a question
    context: tuple[str, ...] = ()  # sentences that ask nothing but say what the question is about


# Whether a piece of text names something the knowledge base knows: (text, language) -> bool.
TopicTest = Callable[[str, str], bool]


def clean(text: str, eras: dict[str, int] | None = None) -> str:
    """NFKC, without control characters or lone surrogates, era years as Western years."""
    text = _SURROGATE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    if eras:
        text = western_years(text, eras)
    return re.sub(r"[ \t\u3000]+", " ", text).strip()


def western_years(text: str, eras: dict[str, int]) -> str:
    """令和6年度 -> 2024年度, 平成元年 -> 1989年, R6年度 -> 2024年度 (after NFKC)."""
    if not eras:
        return text
    names = "|".join(re.escape(e) for e in sorted(eras, key=len, reverse=True))

    def western(match: re.Match[str]) -> str:
        number = 1 if match.group(2) == "元" else int(match.group(2))
        return f"{eras[match.group(1)] + number}年"

    text = re.sub(rf"({names})\s*(元|\d{{1,2}})\s*年", western, text)
    # The usual abbreviations in business Japanese: R6年度 (令和), H30年度 (平成).
    initials = {"R": "令和", "H": "平成"}

    def abbreviated(match: re.Match[str]) -> str:
        era = initials[match.group(1).upper()]
        return f"{eras.get(era, 0) + int(match.group(2))}年度" if era in eras else match.group(0)

    return re.sub(r"(?<![A-Za-z])([RrHh])\s*(\d{1,2})\s*年度", abbreviated, text)


class Reader:
    """Reads messages with the word lists of one knowledge base."""

    def __init__(self, lists: LanguageLists, is_topic: TopicTest | None = None) -> None:
        self.lists = lists
        self._is_topic = is_topic or (lambda text, language: bool(text.strip()))

    def read(self, text: str, hint: str | None = None) -> Reading:
        """The question parts of a message, in order."""
        cleaned = clean(text, dict(self.lists.eras))
        language = detect_language(cleaned, hint)
        words = self.lists.for_language(language)
        if language == JAPANESE:
            sentences = [s for s in _JA_SENTENCE.split(cleaned) if s and s.strip()]
        else:
            cleaned = self.plain_english(cleaned)
            sentences = [s for s in _EN_SENTENCE.split(cleaned) if s and s.strip()]
        kept: list[tuple[str, bool]] = []  # (sentence, asks)
        dropped: list[str] = []
        for sentence in sentences:
            sorted_out = self._sort(sentence.strip(), language, words)
            if sorted_out is None:
                dropped.append(sentence.strip())
            else:
                kept.append(sorted_out)
        asking = [s for s, asks in kept if asks]
        context: list[str] = []
        if asking and any(self._is_topic(s, language) for s in asking):
            chosen = asking
            context = [s for s, asks in kept if not asks]
            dropped += context
        else:
            chosen = [s for s, _ in kept]
        parts = self._parts(chosen, language, words)
        if not parts:
            parts = [cleaned] if not dropped else []
        return Reading(
            cleaned, language, tuple(parts), tuple(dropped), bool(asking), tuple(context)
        )

    def plain_english(self, text: str) -> str:
        """Regional and chat phrasings rewritten, particles dropped; punctuation kept."""
        words = self.lists.english
        out: list[str] = []
        for piece in re.split(r"(\s+|[?!.,;:])", text):
            if not piece or piece.isspace() or re.fullmatch(r"[?!.,;:]", piece):
                out.append(piece)
                continue
            key = basic_normalize(piece)
            out.append("" if key in words.fillers else piece)
        text = "".join(out)
        lowered = text.casefold()
        spans = words.replacer.spans(basic_normalize(lowered)) if words.replacements else []
        if not spans:
            return re.sub(r"\s{2,}", " ", text).strip()
        # Rewrite on the normalised text of each sentence piece, keeping its punctuation.
        pieces = re.split(r"([?!.;\n]+)", text)
        rewritten = []
        for piece in pieces:
            if re.fullmatch(r"[?!.;\n]+", piece or ""):
                rewritten.append(piece)
                continue
            normal = basic_normalize(piece)
            found = words.replacer.spans(normal)
            if not found:
                rewritten.append(piece)
                continue
            result, last = [], 0
            for start, end, value in found:
                result += [normal[last:start], value]
                last = end
            result.append(normal[last:])
            rewritten.append(" " + " ".join("".join(result).split()))
        return re.sub(r"\s{2,}", " ", "".join(rewritten)).strip()

    # -- sorting sentences ------------------------------------------------------------------
    def _sort(self, sentence: str, language: str, words: Wording) -> tuple[str, bool] | None:
        """(what is left of the sentence, whether it asks), or None to drop it."""
        basic = basic_normalize(sentence)
        if not basic:
            return None
        cues = words.cues
        if language == JAPANESE:
            return self._sort_japanese(sentence, basic, words)
        frame = self._after_frame(basic, words)
        if frame is not None:
            return (_EN_ASIDE.sub("", frame).strip() or frame), True
        if basic in cues["closings"].phrases:
            return None
        asks = bool(_QUESTION_MARK.search(sentence)) or basic.split()[0] in words.asking
        asks = asks or any(basic in c for c in words.kind_cues.values())
        if not asks and cues["intro"].starts(basic) is not None:
            return None
        return (_EN_ASIDE.sub("", basic).strip() or basic), asks

    @staticmethod
    def _after_frame(basic: str, words: Wording) -> str | None:
        """The embedded question after a frame ("... asked me to check X" -> "X"), if any."""
        spans = words.cues["frames"].spans(basic)
        if not spans:
            return None
        start, end, _ = spans[-1]
        rest = basic[end:].strip()
        if not rest:
            return basic[:start].strip() or None
        return rest

    def _sort_japanese(self, sentence: str, basic: str, words: Wording) -> tuple[str, bool] | None:
        cues = words.cues
        text = _JA_TRAILING.sub("", sentence)
        # Politeness at either end goes: 「お世話になっております」「よろしくお願いいたします」.
        polite = sorted(cues["closings"].phrases + cues["intro"].phrases, key=len, reverse=True)
        for phrase in polite:
            if text.startswith(phrase) and len(text) > len(phrase):
                text = text[len(phrase) :].lstrip("、, ")
        trimmed = basic_normalize(text)
        if not trimmed or trimmed in cues["closings"].phrases or trimmed in cues["intro"].phrases:
            return None
        asks = bool(_QUESTION_MARK.search(sentence)) or text.endswith(words.asking)
        asks = asks or any(trimmed in c for c in words.kind_cues.values())
        if not asks and (trimmed in cues["intro"] or trimmed in cues["context"]):
            return None
        return text, asks

    # -- parts ------------------------------------------------------------------------------
    def _parts(self, sentences: list[str], language: str, words: Wording) -> list[str]:
        """Sentences split where they ask a second thing; parts without a topic merged."""
        pieces: list[str] = []
        for sentence in sentences:
            pieces += self._split(sentence, language, words)
        parts: list[str] = []
        pending = ""
        for piece in pieces:
            # "Is it the full year?" says "it" of what the part before names: one question.
            refers = (
                parts
                and len(piece.split()) <= SHORT_REFERENCE
                and (basic_normalize(piece) in words.cues["pronouns"])
            )
            if self._is_topic(piece, language) and not refers:
                if pending:
                    piece = f"{pending} {piece}"
                    pending = ""
                parts.append(piece)
            elif parts:
                parts[-1] = f"{parts[-1]} {piece}"  # "Is it the full year?" joins the last part
            else:
                pending = f"{pending} {piece}".strip()
        if pending:
            if parts:
                parts[-1] = f"{parts[-1]} {pending}"
            else:
                parts.append(pending)
        return parts

    def _split(self, sentence: str, language: str, words: Wording) -> list[str]:
        """One sentence cut where a split cue starts a second question with its own topic."""
        if language == JAPANESE:
            cues = "|".join(re.escape(c) for c in sorted(words.split, key=len, reverse=True))
            if not cues:
                return [sentence]
            # 「…と、…」 joins two questions; 「また」「あと」 at the start of a clause starts one.
            pieces = re.split(rf"(?:^|[、,]\s*)(?:{cues})[、,]?|(?<=.)と[、,]\s*", sentence)
        else:
            source = basic_normalize(sentence)
            cuts = [0]
            for start, _end, _phrase in words.cues["split"].spans(source):
                cuts.append(start)
            # "..., and how much ...", "... also when ...": a conjunction, then a question word.
            tokens = list(re.finditer(r"\S+", source))
            for index, here in enumerate(tokens):
                following = [t.group() for t in tokens[index + 1 : index + 3]]
                if here.group() in _JOINERS and any(w in words.asking for w in following):
                    cuts.append(here.start())
            cuts = sorted(set(cuts))
            pieces = [source[a:b] for a, b in zip(cuts, [*cuts[1:], len(source)], strict=True)]
            pieces = [_CONJUNCTION.sub("", p) for p in pieces]
        if language == JAPANESE and len(pieces) == 1:
            # 「タイはLGOTPに何人、JETに何人」: a clause that asks, a comma, another that asks.
            clauses = re.split(r"(?<=[、,])", sentence)
            pieces, current = [], ""
            for clause in clauses:
                current += clause
                asks = any(basic_normalize(current) in c for c in words.kind_cues.values())
                if clause.endswith(("、", ",")) and asks:
                    pieces.append(current.rstrip("、, "))
                    current = ""
            pieces.append(current)
        pieces = [p.strip() for p in pieces if p and p.strip()]
        if len(pieces) < 2:
            return [sentence]
        # Cut only where both sides name something; otherwise keep the sentence whole.
        merged: list[str] = [pieces[0]]
        for piece in pieces[1:]:
            if self._is_topic(piece, language) and self._is_topic(merged[-1], language):
                merged.append(piece)
            else:
                merged[-1] = f"{merged[-1]} {piece}"
        return merged


# A part this short (in words) that says "it" or "there" belongs to the part before it.
SHORT_REFERENCE = 6
_JOINERS = frozenset({"and", "also", "plus", "then"})
_CONJUNCTION = re.compile(r"^\s*(?:and also|and|also|plus|as well as)\s+")

__all__ = ["Reader", "Reading", "TopicTest", "clean", "western_years"]
