"""The embedded tracker store keeps live trackers, and answers what Rasa's in-memory store answers."""

import asyncio
import uuid
from pathlib import Path

import pytest
import yaml
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.settings import ROOT
from bot.tracker_store import LiveSQLTrackerStore, LiveTrackerStore

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet]
slots:
  language:
    type: categorical
    values: [zh, en]
    initial_value: zh
    influence_conversation: false
    mappings: [{type: custom}]
""")


def conversation(store: TrackerStore, sender: str, turns: int) -> DialogueStateTracker:
    async def run() -> DialogueStateTracker:
        tracker = await store.get_or_create_tracker(sender)
        for turn in range(turns):
            tracker.update(UserUttered(f"hi {turn}", {"name": "greet", "confidence": 1.0}))
            tracker.update(SlotSet("language", "en" if turn % 2 else "zh"))
            tracker.update(ActionExecuted("utter_greet"))
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
            tracker = await store.retrieve(sender)  # type: ignore[assignment]
        return tracker

    return asyncio.run(run())


def dump(tracker: DialogueStateTracker) -> list[dict]:
    return [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in tracker.events]


def test_the_next_message_continues_the_same_tracker() -> None:
    store = LiveTrackerStore(DOMAIN)
    tracker = conversation(store, "a", 3)
    again = asyncio.run(store.retrieve("a"))
    assert again is tracker  # no JSON read back
    assert store.store == {}  # nor written
    assert again.get_slot("language") == "zh"


def test_it_answers_as_rasas_own_store() -> None:
    ours, rasas = LiveTrackerStore(DOMAIN), InMemoryTrackerStore(DOMAIN)
    a, b = conversation(ours, "a", 5), conversation(rasas, "a", 5)
    assert dump(a) == dump(b) and a.current_slot_values() == b.current_slot_values()
    assert asyncio.run(ours.keys()) == ["a"]


def test_what_was_not_saved_is_dropped() -> None:
    store = LiveTrackerStore(DOMAIN)
    tracker = conversation(store, "a", 2)
    saved = dump(tracker)
    tracker.update(UserUttered("half-handled", {"name": "greet", "confidence": 1.0}))
    tracker.update(SlotSet("language", "en"))  # Rasa failed before saving
    again = asyncio.run(store.retrieve("a"))
    assert dump(again) == saved and again.get_slot("language") == "en"  # the last saved turn had set en
    assert again.latest_message.text == "hi 1"


def test_old_conversations_are_written_out_and_read_back() -> None:
    store = LiveTrackerStore(DOMAIN, live_trackers=2)
    first = dump(conversation(store, "a", 3))
    conversation(store, "b", 1)
    conversation(store, "c", 1)
    assert list(store.live) == ["b", "c"] and list(store.store) == ["a"]
    back = asyncio.run(store.retrieve("a"))
    assert dump(back) == first
    assert sorted(asyncio.run(store.keys())) == ["a", "b", "c"]


def test_only_the_last_session_is_returned_as_rasa_does() -> None:
    def two_sessions(store: TrackerStore) -> DialogueStateTracker:
        tracker = conversation(store, "s", 2)
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        asyncio.run(store.save(tracker))
        return asyncio.run(store.retrieve("s"))

    ours, rasas = two_sessions(LiveTrackerStore(DOMAIN)), two_sessions(InMemoryTrackerStore(DOMAIN))
    assert dump(ours) == dump(rasas) and len(dump(ours)) == 3


def test_rasa_loads_it_from_endpoints_yml() -> None:
    """Rasa falls back to its own store, silently, when it cannot import the one named."""
    config = yaml.safe_load((ROOT / "endpoints.yml").read_text())["tracker_store"]
    store = TrackerStore.create(EndpointConfig.from_dict(config), DOMAIN)
    inner = getattr(store, "_tracker_store", store)
    inner = getattr(inner, "_tracker_store", inner)
    assert isinstance(inner, LiveTrackerStore), type(inner)
    assert Path(ROOT / "bot" / "tracker_store.py").exists()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store_settings(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings for Rasa's SQL tracker store: a file, or a database of its own on the local PostgreSQL."""
    if request.param == "sqlite":
        yield {"dialect": "sqlite", "db": str(tmp_path / "trackers.db")}
        return
    name = f"shop_trackers_{uuid.uuid4().hex[:10]}"
    admin = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT",
                          future=True, poolclass=NullPool)
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "db": name, "username": "postgres",
               "password": ""}
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_the_sql_store_keeps_trackers_until_another_server_writes(sql_store_settings: dict) -> None:
    ours = LiveSQLTrackerStore(DOMAIN, **sql_store_settings)
    other = LiveSQLTrackerStore(DOMAIN, **sql_store_settings)  # the second Rasa server
    rasas = SQLTrackerStore(DOMAIN, **sql_store_settings)
    try:
        tracker = conversation(ours, "a", 3)
        assert asyncio.run(ours.retrieve("a")) is tracker  # kept: not read back
        assert dump(tracker) == dump(asyncio.run(rasas.retrieve("a")))

        # The conversation fails over to the other server, which adds a turn.
        moved = conversation(other, "a", 1)
        assert len(moved.events) == len(tracker.events) + 4
        back = asyncio.run(ours.retrieve("a"))
        assert back is not tracker and dump(back) == dump(moved) == dump(asyncio.run(rasas.retrieve("a")))

        # Changed and not saved (Rasa failed midway): read back as saved.
        back.update(UserUttered("lost", {"name": "greet", "confidence": 1.0}))
        again = asyncio.run(ours.retrieve("a"))
        assert dump(again) == dump(moved)

        # A new session: Rasa reads back the last session only, and so do we; saving stores each event once.
        again.update(ActionExecuted("action_session_start"))
        again.update(SessionStarted())
        again.update(ActionExecuted("action_listen"))
        asyncio.run(ours.save(again))
        after = asyncio.run(ours.retrieve("a"))
        assert dump(after) == dump(asyncio.run(rasas.retrieve("a")))
        assert len(dump(after)) == 2 and len(dump(asyncio.run(rasas.retrieve_full_tracker("a")))) == len(
            dump(moved)) + 3
    finally:
        for store in (ours, other, rasas):
            store.engine.dispose()


def test_rasa_loads_the_scaled_shapes_store(tmp_path: Path) -> None:
    """The scaled shape's endpoints name our SQL store, and Rasa finds it (else it silently keeps trackers
    in its own memory, and two Rasa servers would not share them)."""
    from bot.run import Shape, rasa_endpoints

    config = rasa_endpoints(Shape(database_url="postgresql+psycopg2://postgres@127.0.0.1:5432/shop",
                                  redis_url="redis://127.0.0.1:6379/0"))["tracker_store"]
    assert config["type"] == "bot.tracker_store.LiveSQLTrackerStore" and config["db"] == "shop"
    config.update({"dialect": "sqlite", "db": str(tmp_path / "t.db"), "url": None, "port": None, "username": None,
                   "password": None})
    store = TrackerStore.create(EndpointConfig.from_dict(config), DOMAIN)
    inner = getattr(store, "_tracker_store", store)
    inner = getattr(inner, "_tracker_store", inner)
    assert isinstance(inner, LiveSQLTrackerStore), type(inner)
