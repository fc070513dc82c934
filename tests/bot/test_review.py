"""The review list (what the bot fell back on, was unsure about, or an agent flagged) and the reviewed file."""

from pathlib import Path

import yaml
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import conversations as conv
from bot import policy, review
from bot.models import Base
from bot.review import export, flag, label, labelled, read, record_verdict, to_review


def said(s: Session, text: str, role: str = "shopper", conversation: str = "u1001") -> int:
    conv.ensure(s, conversation)
    message, _ = conv.add_message(s, conversation, role, text)
    return message.id


def test_the_list_holds_fallbacks_unsure_and_flagged_messages_and_nothing_labelled(s: Session) -> None:
    sure = said(s, "我的快递到哪了")
    record_verdict(s, sure, "order_status", 0.97)
    unsure = said(s, "那个东西怎么弄")
    record_verdict(s, unsure, "ask_product", policy.REVIEW_BELOW_CONFIDENCE - 0.01)
    fell_back = said(s, "zzq 呃")
    record_verdict(s, fell_back, "nlu_fallback", 0.3)
    flagged = said(s, "where is my parcel")
    record_verdict(s, flagged, "order_status", 0.99)
    assert flag(s, flagged, "lin")
    bot_line = said(s, "亲，请问有什么可以帮您？", role="bot")
    assert not flag(s, bot_line, "lin"), "only shoppers' words are labelled"
    s.flush()
    listed = {row["id"]: row["reason"] for row in to_review(s)}
    assert listed.get(unsure) == "unsure" and listed.get(fell_back) == "fallback" and listed.get(flagged) == "flagged"
    assert sure not in listed and bot_line not in listed

    assert label(s, unsure, "ask_product", "lin") is None
    assert unsure not in {row["id"] for row in to_review(s)}
    assert label(s, fell_back, "no_such_intent", "lin") == "bad_intent"
    assert label(s, 10 ** 9, "greet", "lin") == "not_found"
    assert label(s, bot_line, "greet", "lin") == "not_found"


def test_labels_are_the_intents_the_nlu_data_teaches() -> None:
    assert {"order_status", "out_of_scope", "greet"} <= set(review.labels())
    assert "agent_handback" not in review.labels() and not any(i.startswith("EXTERNAL_") for i in review.labels())


def test_export_adds_labels_with_who_and_when_and_never_takes_any_back(s: Session, tmp_path: Path) -> None:
    path = tmp_path / "reviewed" / "labelled.yml"
    first = said(s, "麻烦把那件蓝的给我留一下")
    assert label(s, first, "ask_stock", "lin") is None
    s.flush()
    mine = [r for r in labelled(s) if r["message"].endswith(f"/{first}")]
    assert mine and mine[0]["labelled_by"] == "lin"
    assert export(s, path) >= 1
    block = next(b for b in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
                 if b["metadata"]["message"].endswith(f"/{first}"))
    assert block["intent"] == "ask_stock" and block["examples"] == "- 麻烦把那件蓝的给我留一下\n"
    assert block["metadata"]["labelled_by"] == "lin" and block["metadata"]["labelled_at"].endswith("Z")
    before = path.read_text(encoding="utf-8")
    assert export(s, path) == len(read(path)) and path.read_text(encoding="utf-8") == before, "nothing new"

    s.rollback()  # the database forgets (a reseed): the file keeps what the agents taught
    assert any(r["message"].endswith(f"/{first}") for r in read(path))
    export(s, path)
    assert any(r["message"].endswith(f"/{first}") for r in read(path))


def test_export_leaves_out_measured_sentences_hand_written_ones_and_annotations(s: Session, tmp_path: Path) -> None:
    path = tmp_path / "labelled.yml"
    kept = said(s, "这件能不能帮我包成礼物的样子")
    hand_written = said(s, "在吗")  # data/nlu/basics.yml has it
    annotated = said(s, "[羽绒服](product)有吗")
    for message in (kept, hand_written, annotated):
        assert label(s, message, "ask_product", "lin") is None
    s.flush()
    export(s, path)
    texts = {r["text"] for r in read(path)}
    assert "这件能不能帮我包成礼物的样子" in texts
    assert "在吗" not in texts and "[羽绒服](product)有吗" not in texts


def test_labels_are_found_on_sqlite_and_postgresql(any_engine: Engine) -> None:
    Base.metadata.drop_all(any_engine)
    Base.metadata.create_all(any_engine)
    with Session(any_engine) as s, s.begin():
        conv.ensure(s, "u1")
        plain = conv.add_message(s, "u1", "shopper", "在吗", payload={"to_bot": "在吗"})[0].id
        taught = conv.add_message(s, "u1", "shopper", "那颗扣子能多寄一颗吗")[0].id
        record_verdict(s, taught, "quality_issue", 0.43)
        assert label(s, taught, "ask_gift_or_free_shipping", "lin") is None
    with Session(any_engine) as s:
        found = labelled(s)
    assert [r["message"] for r in found] == [f"u1/{taught}"] and plain != taught
    assert found[0]["intent"] == "ask_gift_or_free_shipping"


async def test_no_agent_or_no_tracker_gives_no_verdict() -> None:
    from rasa.core.channels.channel import UserMessage

    from bot.channel import verdict

    class Store:
        async def retrieve(self, sender: str) -> None:
            return None

    class App:
        class ctx:  # noqa: N801 - Sanic's app.ctx
            agent = type("A", (), {"tracker_store": Store()})()

    assert await verdict(None, UserMessage("hi", sender_id="u1")) is None
    assert await verdict(App(), UserMessage("hi", sender_id="u1")) is None
