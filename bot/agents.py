"""Agents of the console: who may log in, whose sessions still hold, demo passwords.

    python -m bot.agents set-password USERNAME    (reads the new password from stdin)
    python -m bot.agents demo-passwords           (lists agents still on the demo password)
"""

from __future__ import annotations

import getpass
import sys
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.models import Agent, Conversation
from bot.security import hash_password, verify_password

DEMO_PASSWORD = "shop-assist-demo"
MIN_PASSWORD = 12
# Checked when the username is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = hash_password("not a password anyone has")


def authenticate(s: Session, username: str, password: str) -> Optional[Agent]:
    agent = s.execute(select(Agent).where(Agent.username == username)).scalars().first()
    good = verify_password(password, agent.password_hash if agent else _DUMMY_HASH)
    return agent if agent is not None and good and agent.active else None


def current(s: Session, agent_id: object, version: object) -> Optional[Agent]:
    """The agent a session or socket token names, if that session still holds."""
    if not isinstance(agent_id, int) or not isinstance(version, int):
        return None
    agent = s.get(Agent, agent_id)
    return agent if agent is not None and agent.active and agent.session_version == version else None


def end_sessions(s: Session, agent_id: int) -> None:
    """Every session and console socket of this agent stops being honoured."""
    s.execute(update(Agent).where(Agent.id == agent_id).values(session_version=Agent.session_version + 1)
              .execution_options(synchronize_session="fetch"))


def set_active(s: Session, agent_id: int, active: bool) -> bool:
    """Enable or disable an agent; a disabled one is logged out and its chats go back to the queue."""
    result = s.execute(update(Agent).where(Agent.id == agent_id).values(active=active)
                       .execution_options(synchronize_session="fetch"))
    if result.rowcount != 1:
        return False
    if not active:
        end_sessions(s, agent_id)
        s.execute(update(Conversation).where(Conversation.owner == "agent", Conversation.agent_id == agent_id)
                  .values(owner="waiting", agent_id=None).execution_options(synchronize_session="fetch"))
    return True


def set_password(s: Session, username: str, password: str) -> bool:
    if len(password) < MIN_PASSWORD or password == DEMO_PASSWORD:
        raise ValueError(f"choose a password of at least {MIN_PASSWORD} characters, not the demo one")
    agent = s.execute(select(Agent).where(Agent.username == username)).scalars().first()
    if agent is None:
        return False
    agent.password_hash = hash_password(password)
    end_sessions(s, agent.id)
    return True


def on_demo_password(s: Session) -> list[str]:
    return [a.username for a in s.execute(select(Agent).where(Agent.active.is_(True))).scalars()
            if verify_password(DEMO_PASSWORD, a.password_hash)]


def main(argv: list[str]) -> int:
    from bot.db import get_sessionmaker

    if argv[:1] == ["demo-passwords"]:
        with get_sessionmaker().begin() as s:
            print("\n".join(on_demo_password(s)) or "none")
        return 0
    if len(argv) == 2 and argv[0] == "set-password":
        password = getpass.getpass("new password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        try:
            with get_sessionmaker().begin() as s:
                if not set_password(s, argv[1], password):
                    print(f"no agent {argv[1]!r}", file=sys.stderr)
                    return 1
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"password set for {argv[1]}; their sessions have ended")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
