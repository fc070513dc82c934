import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import agents
from bot import conversations as conv
from bot.models import Agent, Conversation


def agent(s: Session, username: str) -> Agent:
    return s.execute(select(Agent).where(Agent.username == username)).scalars().one()


def test_sessions_hold_until_the_version_moves(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    with Session(fresh_shop) as s, s.begin():
        a = agents.authenticate(s, "xiaomei", agents.DEMO_PASSWORD)
        assert a is not None and agents.current(s, a.id, a.session_version) is a
        version = a.session_version
        agents.end_sessions(s, a.id)
        assert agents.current(s, a.id, version) is None
        assert agents.current(s, a.id, version + 1) is not None
        assert agents.current(s, "1", version) is None and agents.current(s, a.id, None) is None


def test_unknown_or_wrong_or_disabled_cannot_log_in(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    with Session(fresh_shop) as s, s.begin():
        assert agents.authenticate(s, "nobody", agents.DEMO_PASSWORD) is None
        assert agents.authenticate(s, "xiaomei", "wrong") is None
        dawei = agent(s, "dawei")
        s.add(Conversation(id="u1001", shopper_id="u1001", owner="waiting"))
        s.flush()
        assert conv.claim(s, "u1001", dawei.id)
        assert agents.set_active(s, dawei.id, False)
        assert agents.authenticate(s, "dawei", agents.DEMO_PASSWORD) is None
        assert agents.current(s, dawei.id, dawei.session_version) is None
        assert s.get(Conversation, "u1001").owner == "waiting"  # back to the queue
        assert not agents.set_active(s, 9999, False)


def test_passwords_and_the_demo_list(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    with Session(fresh_shop) as s, s.begin():
        assert set(agents.on_demo_password(s)) == {"xiaomei", "dawei", "lin"}
        with pytest.raises(ValueError):
            agents.set_password(s, "lin", agents.DEMO_PASSWORD)
        with pytest.raises(ValueError):
            agents.set_password(s, "lin", "short")
        assert agents.set_password(s, "lin", "a much longer real password")
        assert not agents.set_password(s, "ghost", "a much longer real password")
        assert set(agents.on_demo_password(s)) == {"xiaomei", "dawei"}
        assert agents.authenticate(s, "lin", "a much longer real password") is not None
