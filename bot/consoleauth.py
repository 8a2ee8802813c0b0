"""Who may use the staff console: one-time sign-in links, sessions, CSRF tokens, and the
Telegram Mini App's signed `initData`.

Nothing here knows the web framework. A link from /console (or printed in the terminal)
holds a random token that works once, for ten minutes; redeeming it opens a session, which
carries its own CSRF token for every form. Inside Telegram the Mini App hands over `initData`,
checked with the HMAC the Bot API documents (the bot token is the key). Only staff
(`staff.user_ids`) get a session; in the terminal chat, the person at the terminal does.
Tokens are kept as hashes, in memory: a restart signs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

logger = logging.getLogger(__name__)

#: How long a sign-in link works (once).
LINK_LIFETIME = timedelta(minutes=10)
#: How long a session lasts without use.
SESSION_IDLE = timedelta(hours=8)
#: How old a Mini App's initData may be (Telegram signs it when the Mini App opens).
INIT_DATA_LIFETIME = timedelta(hours=1)


@dataclass
class Session:
    """A signed-in member of staff."""

    staff_id: int
    name: str
    csrf: str
    expires: datetime
    flash: list[str] = field(default_factory=list)  # said once on the next page


@dataclass(frozen=True)
class _Link:
    staff_id: int
    name: str
    expires: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_init_data(init_data: str, token: str, now: datetime) -> dict[str, object] | None:
    """The Mini App's user (Telegram's `user` object) if `init_data` carries a valid hash made
    with `token` and is recent; None otherwise.

    As the Bot API documents: the secret key is HMAC-SHA256 of the token with the key
    "WebAppData"; the hash is HMAC-SHA256 of every other field, sorted, as "key=value" lines.
    """
    fields = dict(parse_qsl(init_data, keep_blank_values=True))
    received = fields.pop("hash", "")
    if not received or not token:
        return None
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received):
        return None
    try:
        signed = datetime.fromtimestamp(int(fields.get("auth_date", "")), now.tzinfo)
        user = json.loads(fields.get("user", ""))
    except ValueError:
        return None
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        return None
    if not timedelta(minutes=-5) <= now - signed <= INIT_DATA_LIFETIME:
        return None
    return user


class ConsoleAccess:
    """Sign-in links, sessions and the Mini App check for the staff console."""

    def __init__(
        self,
        staff_ids: tuple[int, ...],
        clock: Callable[[], datetime],
        token: str | None = None,
    ) -> None:
        self._staff = frozenset(staff_ids)
        self._clock = clock
        self._token = token or ""
        self._links: dict[str, _Link] = {}
        self._sessions: dict[str, Session] = {}
        #: Who the terminal chat's own links sign in (set when the console runs without a
        #: token): the person at the terminal, who is not a Telegram user.
        self.local_staff: tuple[int, str] | None = None

    def may_sign_in(self, staff_id: int) -> bool:
        """Staff, or the person at the terminal when the console runs locally."""
        local = self.local_staff is not None and staff_id == self.local_staff[0]
        return staff_id in self._staff or local

    def issue_link(self, staff_id: int, name: str) -> str:
        """A token for a one-time sign-in link, valid for LINK_LIFETIME."""
        if not self.may_sign_in(staff_id):
            raise PermissionError(f"{staff_id} is not staff")
        self._forget_expired()
        token = secrets.token_urlsafe(32)
        self._links[_digest(token)] = _Link(staff_id, name, self._clock() + LINK_LIFETIME)
        return token

    def link_usable(self, token: str) -> bool:
        """Whether a link's token would sign in now (it is not used up by asking)."""
        link = self._links.get(_digest(token))
        return link is not None and link.expires >= self._clock()

    def redeem(self, token: str) -> tuple[str, Session] | None:
        """A new session (its id and itself) for a link's token, used up now; None when the
        token is unknown, used before or expired."""
        link = self._links.pop(_digest(token), None)
        if link is None or link.expires < self._clock() or not self.may_sign_in(link.staff_id):
            logger.warning("console: a sign-in link was refused (unknown, used or expired)")
            return None
        logger.info("console: staff %d signed in with a one-time link", link.staff_id)
        return self._open(link.staff_id, link.name)

    def sign_in_mini_app(self, init_data: str) -> tuple[str, Session] | None:
        """A session for a Mini App's `initData`, when it is genuine and its user is staff."""
        user = check_init_data(init_data, self._token, self._clock())
        if user is None:
            logger.warning("console: Mini App sign-in refused (initData not valid)")
            return None
        staff_id = int(str(user["id"]))
        if staff_id not in self._staff:
            logger.warning("console: Mini App sign-in refused for %d (not staff)", staff_id)
            return None
        name = " ".join(str(user.get(k) or "") for k in ("first_name", "last_name")).strip()
        logger.info("console: staff %d signed in through the Mini App", staff_id)
        return self._open(staff_id, name or str(staff_id))

    def session(self, session_id: str) -> Session | None:
        """The session behind a cookie, still valid (and kept alive), or None."""
        session = self._sessions.get(_digest(session_id)) if session_id else None
        now = self._clock()
        if session is None or session.expires < now or not self.may_sign_in(session.staff_id):
            return None
        session.expires = now + SESSION_IDLE
        return session

    def sign_out(self, session_id: str) -> None:
        """End a session."""
        session = self._sessions.pop(_digest(session_id), None)
        if session is not None:
            logger.info("console: staff %d signed out", session.staff_id)

    @staticmethod
    def csrf_ok(session: Session, sent: str | None) -> bool:
        """Whether a form carried the session's CSRF token."""
        return bool(sent) and hmac.compare_digest(session.csrf, sent or "")

    def _open(self, staff_id: int, name: str) -> tuple[str, Session]:
        self._forget_expired()
        session_id = secrets.token_urlsafe(32)
        session = Session(staff_id, name, secrets.token_urlsafe(24), self._clock() + SESSION_IDLE)
        self._sessions[_digest(session_id)] = session
        return session_id, session

    def _forget_expired(self) -> None:
        now = self._clock()
        self._links = {k: v for k, v in self._links.items() if v.expires >= now}
        self._sessions = {k: v for k, v in self._sessions.items() if v.expires >= now}
