"""The product's secrets: from the environment, else generated once under var/keys/.

    GATEWAY_SECRET        signs agent sessions, console socket tokens, visitor ids, photo links
    SHOPPER_TOKEN_SECRET  shared with the shop's own site, which signs shopper tokens (HS256 JWT)
    INTERNAL_TOKEN        what the gateway shows Rasa, and Rasa shows the action server
    SHOP_API_SECRET       shared with the shop's backend, which signs its calls to /shop-api (HMAC)

    python -m bot.keys exec CMD ...   run CMD with all of them in its environment
"""

from __future__ import annotations

import hmac
import os
import secrets
import sys
from typing import Optional

from bot.settings import ROOT

NAMES = ("GATEWAY_SECRET", "SHOPPER_TOKEN_SECRET", "INTERNAL_TOKEN", "SHOP_API_SECRET")
KEY_DIR = ROOT / "var" / "keys"
MIN_LENGTH = 32  # a shorter secret set by hand is refused rather than used


def bearer_ok(header: Optional[str], token: str) -> bool:
    """Constant-time check of an `Authorization: Bearer …` header."""
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].encode(), token.encode())


def _generated(name: str) -> str:
    path = KEY_DIR / name.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting together, one writes and both read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    for _ in range(50):
        value = path.read_text().strip()
        if value:
            return value
    raise RuntimeError(f"{path} is empty")


def get(name: str) -> str:
    if name not in NAMES:
        raise KeyError(name)
    value = os.environ.get(name, "").strip()
    if value:
        if len(value) < MIN_LENGTH:
            raise RuntimeError(f"{name} must be at least {MIN_LENGTH} characters")
        return value
    return _generated(name)


def environment() -> dict[str, str]:
    """All secrets, for the environment of the servers a runner starts."""
    return {name: get(name) for name in NAMES}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "exec":
        print(__doc__, file=sys.stderr)
        return 2
    os.environ.update(environment())
    os.execvp(argv[1], argv[1:])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
