import time

import jwt
import pytest

from bot import identity

SECRET = "a shop secret long enough to sign with HS256 and even HS512, sixty-four+ bytes"


def test_a_token_names_its_shopper_until_it_expires() -> None:
    now = time.time()
    token = identity.issue("u1001", SECRET, ttl=60, now=now)
    assert identity.verify(token, SECRET) == "u1001"
    assert identity.verify(identity.issue("u1001", SECRET, ttl=60, now=now - 61), SECRET) is None


@pytest.mark.parametrize("token", [
    None, "", 42, "not.a.jwt", "x" * 3000,
    identity.issue("u1001", "some other secret, just as long as ours"),
    jwt.encode({"sub": "u1001", "aud": "someone-else", "iat": int(time.time()), "exp": int(time.time()) + 60},
               SECRET, algorithm="HS256"),
    jwt.encode({"sub": "u1001", "aud": identity.AUDIENCE, "iat": int(time.time())}, SECRET, algorithm="HS256"),
    jwt.encode({"sub": "u1001", "aud": identity.AUDIENCE, "iat": int(time.time()), "exp": int(time.time()) + 60},
               SECRET, algorithm="HS512"),
    jwt.encode({"sub": "../u1001", "aud": identity.AUDIENCE, "iat": int(time.time()),
                "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"),
    jwt.encode({"sub": "visitor-1", "aud": identity.AUDIENCE, "iat": int(time.time()),
                "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"),
    identity.issue("u1001", SECRET, ttl=identity.MAX_TTL + 1),
])
def test_anything_else_is_anonymous(token: object) -> None:
    assert identity.verify(token, SECRET) is None


def test_no_token_for_what_is_not_a_shopper_id() -> None:
    for bad in ("", "visitor-abc", "a b", "x" * 49, "u1001;drop"):
        with pytest.raises(ValueError):
            identity.issue(bad, SECRET)
    assert identity.is_visitor("visitor-abc") and not identity.is_visitor("u1001")
