import threading

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import conversations as conv
from bot.models import Agent, Base
from bot.security import hash_password, verify_password


def _setup(engine: Engine) -> tuple[int, int]:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as s, s.begin():
        a = Agent(username="a", display_name="A", password_hash="x")
        b = Agent(username="b", display_name="B", password_hash="x")
        s.add_all([a, b])
        s.flush()
        conv.ensure(s, "u1")
        return a.id, b.id


def test_ownership_cycle(any_engine: Engine) -> None:
    a, b = _setup(any_engine)
    with Session(any_engine) as s, s.begin():
        assert not conv.claim(s, "u1", a), "nothing to claim while the bot owns it"
        assert conv.hand_off(s, "u1", "complaint", intent="complain", facts={"order_id": "8"})
        assert not conv.hand_off(s, "u1", "fallback", intent=None, facts={}), "already queued"
        assert conv.queue_position(s, "u1") == 1
    with Session(any_engine) as s, s.begin():
        assert conv.claim(s, "u1", a)
        assert not conv.claim(s, "u1", b)
        assert not conv.resolve(s, "u1", b), "only the owner hands back"
        assert conv.transfer(s, "u1", a, b)
        assert conv.resolve(s, "u1", b)
    with Session(any_engine) as s:
        c = s.get(conv.Conversation, "u1")
        assert c is not None and (c.owner, c.agent_id, c.reason) == ("bot", None, None)


def test_two_agents_racing_for_one_conversation(any_engine: Engine) -> None:
    a, b = _setup(any_engine)
    with Session(any_engine) as s, s.begin():
        conv.hand_off(s, "u1", "human_request", intent="human_handoff", facts={})
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def grab(agent_id: int) -> None:
        with Session(any_engine) as s, s.begin():
            barrier.wait()
            results.append(conv.claim(s, "u1", agent_id))

    threads = [threading.Thread(target=grab, args=(x,)) for x in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]


def test_queue_puts_disputes_first(any_engine: Engine) -> None:
    _setup(any_engine)
    with Session(any_engine) as s, s.begin():
        for cid, reason in [("u2", "fallback"), ("u3", "human_request"), ("u4", "complaint")]:
            conv.ensure(s, cid)
            conv.hand_off(s, cid, reason, intent=None, facts={})
        assert [c.id for c in conv.queue(s)] == ["u4", "u3", "u2"]


def test_a_conversation_is_opened_once_and_follows_the_shoppers_language(any_engine: Engine) -> None:
    from bot.models import Shopper

    _setup(any_engine)
    with Session(any_engine) as s, s.begin():
        s.add(Shopper(id="u9", nickname="n", phone="1", address="a"))
        s.flush()
        assert conv.ensure(s, "u9", "en") == conv.ConversationState("bot", None, "en", "u9")
        assert conv.ensure(s, "visitor-x", "zh") == ("bot", None, "zh", None), "no such shopper: no link"
        assert conv.ensure(s, "u9", "zh").language == "en", "not speaking: kept"
        assert conv.ensure(s, "u9", "zh", speaking=True).language == "zh"
    with Session(any_engine) as s:
        c = s.get(conv.Conversation, "u9")
        assert c is not None and (c.owner, c.language, c.shopper_id) == ("bot", "zh", "u9")
        assert conv.state(s, "u9") == ("bot", None, "zh", "u9") and conv.state(s, "nobody") is None


def test_a_stored_message_reads_back_as_returned(any_engine: Engine) -> None:
    _setup(any_engine)
    with Session(any_engine) as s, s.begin():
        said, created = conv.add_message(s, "u1", "bot", "亲", payload={"buttons": [{"title": "a", "payload": "/x"}]},
                                         author="bot")
        asked, _ = conv.add_message(s, "u1", "shopper", "在吗", client_id="c-9", reply_by=conv.utcnow())
    with Session(any_engine) as s:
        for message in (said, asked):
            stored = s.get(conv.ChatMessage, message.id)
            assert stored is not None
            assert conv.Said(*(getattr(stored, f) for f in conv.Said._fields)) == message
        assert created and not said.awaiting_reply and asked.awaiting_reply
        assert conv.add_message(s, "u1", "shopper", "在吗", client_id="c-9") == (asked, False)


def test_transcript_ignores_a_resent_message(any_engine: Engine) -> None:
    _setup(any_engine)
    with Session(any_engine) as s, s.begin():
        first, created = conv.add_message(s, "u1", "shopper", "你好", client_id="c-1")
        again, created_again = conv.add_message(s, "u1", "shopper", "你好", client_id="c-1")
        conv.add_message(s, "u1", "bot", "亲，您好", payload={"buttons": []})
        conv.add_message(s, "u1", "shopper", "x" * 50_000)
        assert created and not created_again and first.id == again.id
        texts = [m.text for m in conv.history(s, "u1")]
        assert texts[:2] == ["你好", "亲，您好"] and len(texts[2]) == conv.MAX_TEXT


def test_a_reused_client_id_on_another_text_loses_nothing(any_engine: Engine) -> None:
    _setup(any_engine)
    with Session(any_engine) as s, s.begin():
        first, _ = conv.add_message(s, "u1", "shopper", "你好", client_id="0")
        other, created = conv.add_message(s, "u1", "shopper", "订单到哪了", client_id="0")
        # A client that reuses ids sent another message: it is kept, and its own resend is still one.
        assert created and other.id != first.id
        assert conv.add_message(s, "u1", "shopper", "订单到哪了", client_id="0") == (other, False)
        assert conv.add_message(s, "u1", "shopper", "你好", client_id="0") == (first, False)
        assert [m.text for m in conv.history(s, "u1")] == ["你好", "订单到哪了"]


def test_passwords_use_a_salted_kdf() -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert stored != hash_password("s3cret")
    assert verify_password("s3cret", stored)
    assert not verify_password("S3cret", stored)
    assert not verify_password("s3cret", "garbage")


def test_only_offered_buttons_count_as_payloads(any_engine: Engine) -> None:
    _setup(any_engine)
    with Session(any_engine) as s, s.begin():
        payload = '/inform{"order_id":"881234567890"}'
        assert not conv.offered_payload(s, "u1", payload)
        conv.add_message(s, "u1", "bot", "哪一单？", payload={"buttons": [{"title": "8812…", "payload": payload}]})
        assert conv.offered_payload(s, "u1", payload)
        assert not conv.offered_payload(s, "u1", '/inform{"order_id":"000000000000"}')
        assert not conv.offered_payload(s, "u2", payload), "offered in another conversation"
        conv.add_message(s, "u1", "shopper", payload)  # the shopper typing it offers nothing
        assert not conv.offered_payload(s, "u1", "/agent_handback")


def test_retry_delay_backs_off_to_its_cap() -> None:
    from datetime import timedelta

    assert conv.retry_delay(0) == conv.retry_delay(1) == conv.RETRY_FIRST == timedelta(seconds=15)
    assert conv.retry_delay(2) == timedelta(seconds=30)
    assert conv.retry_delay(5) == timedelta(seconds=240)
    assert conv.retry_delay(6) == conv.retry_delay(60) == conv.RETRY_LONGEST == timedelta(minutes=5)


def test_unanswered_messages_are_retried_in_order_until_answered_settled_or_too_old(any_engine: Engine) -> None:
    from datetime import timedelta

    from bot.clock import utcnow

    _setup(any_engine)
    now = utcnow()
    with Session(any_engine) as s, s.begin():
        conv.ensure(s, "u2")
        in_flight = now + timedelta(seconds=90)
        first = conv.add_message(s, "u1", "shopper", "我的订单到哪了", reply_by=in_flight)[0]
        second = conv.add_message(s, "u1", "shopper", "还有发票", reply_by=in_flight)[0]
        other = conv.add_message(s, "u2", "shopper", "hello", reply_by=in_flight)[0]
        conv.add_message(s, "u1", "bot", "稍等")  # not awaiting: the bot's own
        ids = first.id, second.id, other.id
    with Session(any_engine) as s, s.begin():
        assert conv.due_for_retry(s, now) == [], "in flight: its gateway may still answer"
        assert conv.due_for_retry(s, now + timedelta(seconds=91)) == ["u1", "u2"], "a gateway died: take them up"
        assert [m.id for m in conv.awaiting(s, "u1")] == list(ids[:2]), "oldest first"
        assert conv.awaiting_texts(s, "u1") == [(ids[0], "我的订单到哪了", {}), (ids[1], "还有发票", {})]
        conv.mark_failed(s, ids[0], now=now)
        assert s.get(conv.ChatMessage, ids[0]).retry_at == now + timedelta(seconds=15)
        conv.mark_answered(s, ids[0])
        conv.mark_answered(s, ids[1])
        assert conv.awaiting(s, "u1") == []
        assert conv.hand_off(s, "u2", "human_request", intent=None, facts={})
        assert conv.due_for_retry(s, now + timedelta(seconds=91)) == [], "a person owns u2 now"
        assert conv.settle_awaiting(s, "u2") == 1
    with Session(any_engine) as s, s.begin():
        sent = now - conv.GIVE_UP_AFTER - timedelta(seconds=100)
        late_id = conv.add_message(s, "u1", "shopper", "在吗", reply_by=sent + timedelta(seconds=90))[0].id
        s.get(conv.ChatMessage, late_id).created_at = sent
    with Session(any_engine) as s, s.begin():
        assert conv.due_for_retry(s, now) == [], "older than GIVE_UP_AFTER: let go"
        assert not s.get(conv.ChatMessage, late_id).awaiting_reply


def test_requeue_and_leaving_the_queue_are_conditional(any_engine: Engine) -> None:
    a, b = _setup(any_engine)
    with Session(any_engine) as s, s.begin():
        assert not conv.leave_queue(s, "u1"), "not waiting"
        assert conv.hand_off(s, "u1", "human_request", intent=None, facts={})
        assert conv.claim(s, "u1", a)
        assert conv.agents_chats(s) == [("u1", a)]
        assert not conv.requeue(s, "u1", b), "only the owner's chats go back"
        assert conv.requeue(s, "u1", a)
        assert not conv.requeue(s, "u1", a), "once"
        assert [cid for cid, _ in conv.waiting_since(s)] == ["u1"]
        assert conv.leave_queue(s, "u1")
        assert not conv.leave_queue(s, "u1")
        c = s.get(conv.Conversation, "u1")
        assert c is not None and (c.owner, c.agent_id, c.waiting_since) == ("bot", None, None)
