"""Satisfaction: the user's 1-5 answer to "did this answer your question?", and a comment.

The question is asked once per enquiry, when it is first resolved (the store does that in the
same transaction). A score counts once; a second press, or a button for an enquiry that is not
the presser's, changes nothing. A comment is a reply to the prompt sent after the score. Each
answer goes into the staff thread through the outbox.
"""

from __future__ import annotations

from bot.core import StaffNotices
from bot.storage import Storage
from bot.storage.ratings import Rated
from bot.storage.records import Source


class Satisfaction:
    """Ratings of resolved enquiries."""

    def __init__(self, storage: Storage, notices: StaffNotices) -> None:
        self._ratings = storage.ratings
        self._notices = notices

    async def rate(self, ref: int, user_id: int, score: int) -> Rated:
        """A rating button: recorded once, and only from the enquiry's own user."""
        if not 1 <= score <= 5:
            return Rated.UNKNOWN
        return await self._ratings.rate(ref, user_id, score, self._notices.rated(score))

    async def prompt_sent(self, ref: int, prompt: Source) -> None:
        """The comment prompt went out: a reply to it is the comment."""
        await self._ratings.set_prompt(ref, prompt)

    async def comment_for(self, replied_to: Source) -> int | None:
        """The enquiry a reply comments on, if it replies to a comment prompt."""
        return await self._ratings.ref_for_prompt(replied_to)

    async def comment(self, ref: int, text: str) -> None:
        """Keep a comment on the answer and show it in the staff thread."""
        await self._ratings.add_comment(ref, text, self._notices.commented(text))
