"""Who a widget speaks for: shopper tokens signed by the shop's own site.

The shop's backend, which knows who is logged in, signs a short-lived HS256
JWT with `SHOPPER_TOKEN_SECRET`: `{"sub": shopper id, "aud": "shop-assist",
"iat", "exp"}`. The gateway never takes a shopper id from the client: no
token, or one that is forged, expired, for another audience or signed another
way, makes the client an anonymous visitor.
"""

from __future__ import annotations

import re
import time
from typing import Optional

import jwt

AUDIENCE = "shop-assist"
ALGORITHM = "HS256"
TOKEN_TTL = 15 * 60  # seconds; the widget asks the shop for a fresh one on each (re)connect
MAX_TTL = 24 * 3600  # a token that claims a longer life was not made by a careful shop
SHOPPER_ID = re.compile(r"^[A-Za-z0-9_\-]{1,48}$")
VISITOR_PREFIX = "visitor-"  # anonymous conversations; never a shopper id


def issue(shopper_id: str, secret: str, ttl: int = TOKEN_TTL, now: Optional[float] = None) -> str:
    """What the shop's site does for a logged-in shopper (the demo endpoint and tests use it too)."""
    if not SHOPPER_ID.match(shopper_id) or shopper_id.startswith(VISITOR_PREFIX):
        raise ValueError("not a shopper id")
    issued = int(now if now is not None else time.time())
    return jwt.encode({"sub": shopper_id, "aud": AUDIENCE, "iat": issued, "exp": issued + ttl}, secret,
                      algorithm=ALGORITHM)


def verify(token: object, secret: str) -> Optional[str]:
    """The shopper id a valid token names, else None (anonymous)."""
    if not isinstance(token, str) or not token or len(token) > 2048:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                            options={"require": ["sub", "exp", "iat"]})
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not SHOPPER_ID.match(subject) or subject.startswith(VISITOR_PREFIX):
        return None
    if int(claims["exp"]) - int(claims["iat"]) > MAX_TTL:
        return None
    return subject


def is_visitor(conversation_id: str) -> bool:
    return conversation_id.startswith(VISITOR_PREFIX)
