"""Who a widget connection speaks for, decided by the gateway, never by the client.

A valid shopper token (bot.identity) makes the connection that shopper's
conversation. Anything else is an anonymous visitor: a `visitor-…` conversation
whose id the gateway signs and hands back in `session_confirm`, so a widget that
keeps its session id (as Rasa's widgets do) resumes it after a reload, and no
one can name another visitor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional
from uuid import uuid4

from itsdangerous import BadSignature, TimestampSigner

from bot import identity

VISITOR_AGE = 30 * 24 * 3600  # a visitor's signed id is honoured this long


@dataclass(frozen=True)
class Identity:
    conversation_id: str
    shopper: bool
    # What the client is told to keep: the shopper id, or the signed visitor id.
    session_id: str


class Identities:
    def __init__(self, gateway_secret: str, shopper_secret: str) -> None:
        self.visitors = TimestampSigner(gateway_secret, salt="visitor")
        self.shopper_secret = shopper_secret

    def from_token(self, token: Any) -> Optional[Identity]:
        shopper_id = identity.verify(token, self.shopper_secret)
        return Identity(shopper_id, True, shopper_id) if shopper_id else None

    def from_visitor(self, signed: Any) -> Optional[Identity]:
        if not isinstance(signed, str) or len(signed) > 200:
            return None
        try:
            conversation_id = self.visitors.unsign(signed, max_age=VISITOR_AGE).decode()
        except BadSignature:
            return None
        return Identity(conversation_id, False, signed) if identity.is_visitor(conversation_id) else None

    def new_visitor(self) -> Identity:
        conversation_id = identity.VISITOR_PREFIX + uuid4().hex
        return Identity(conversation_id, False, self.visitors.sign(conversation_id).decode())
