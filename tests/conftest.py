"""Test fixtures: a real SQLite file seeded with the sample shop, and PostgreSQL
on 127.0.0.1:5432 when it answers."""

from __future__ import annotations

import asyncio
import csv
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Before anything imports bot.db: every test process gets its own database file.
_TMP = Path(tempfile.mkdtemp(prefix="shop-assist-test-"))
os.environ["DATABASE_URL"] = f"sqlite:///{_TMP / 'shop.db'}"

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot.db import get_engine, get_sessionmaker, make_engine  # noqa: E402
from bot.seed import seed  # noqa: E402
from bot.stack import MODEL, free_port  # noqa: E402,F401 - re-exported for tests

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
PG_SCHEMA = "shop_assist_test"


@pytest.fixture(scope="session")
def seeded() -> Engine:
    """The process-wide engine (the one actions use), seeded once."""
    engine = get_engine()
    seed(engine)
    return engine


_SEEDED_COPY = _TMP / "seeded-copy.db"


def _reseed(engine: Engine) -> None:
    """The sample shop afresh: seeded once per test process, then copied back with SQLite's backup API
    (a few milliseconds instead of a seed's 0.6 s); seeded outright elsewhere."""
    if engine.dialect.name != "sqlite":
        seed(engine)
        return
    if not _SEEDED_COPY.exists():
        seed(engine)
        engine.dispose()
        source = sqlite3.connect(make_url(str(engine.url)).database or "")
        with sqlite3.connect(_SEEDED_COPY) as copy:
            source.backup(copy)
        source.close()
        return
    engine.dispose()  # no pooled connection keeps a page of what the test wrote
    copy, live = sqlite3.connect(_SEEDED_COPY), sqlite3.connect(make_url(str(engine.url)).database or "")
    try:
        copy.backup(live)
    finally:
        live.close()
        copy.close()


@pytest.fixture
def fresh_shop() -> Iterator[Engine]:
    """A freshly seeded shop for tests that write (cases, notes, stock); reset again afterwards, so the
    tests that only read (`seeded`) never see what a writer left."""
    engine = get_engine()
    _reseed(engine)
    yield engine
    _reseed(engine)


@pytest.fixture
def Session_(seeded: Engine) -> sessionmaker:  # noqa: N802 - it is a factory
    return get_sessionmaker()


@pytest.fixture
def s(seeded: Engine) -> Iterator[Session]:
    """A session on the seeded shop, rolled back afterwards."""
    with get_sessionmaker()() as session:
        yield session
        session.rollback()


def postgres_engine() -> Engine:
    """An engine on a private schema of the `test` database, or skip with why."""
    engine = make_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}: {str(exc)[:120]}")
    return make_engine(PG_URL + f"?options=-csearch_path%3D{PG_SCHEMA}")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The same record tests on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'records.db'}")
    else:
        engine = postgres_engine()
    yield engine
    engine.dispose()


ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stack:
    """The whole product running as `make run` starts it, on its own database."""

    rasa: str
    gateway: str
    actions: str
    engine: Engine
    # A port the test may serve a "shop's own site" page from: listed in WIDGET_ORIGINS.
    shop_port: int


def token_for(shopper_id: str, ttl: int = 600) -> str:
    """A shopper token as the shop's own site would sign it."""
    from bot import identity, keys

    return identity.issue(shopper_id, keys.get("SHOPPER_TOKEN_SECRET"), ttl=ttl)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from bot.stack import running_stack

    assert MODEL.exists(), "no trained model: run `make train` (make test does it first)"
    base = tmp_path_factory.mktemp("stack")
    url = f"sqlite:///{base / 'shop.db'}"
    engine = make_engine(url)
    seed(engine)
    shop_port = free_port()
    try:
        with running_stack(base, url, extra_env={"WIDGET_ORIGINS": f"http://127.0.0.1:{shop_port}",
                                                       "OUTREACH_SECONDS": "1"}) as urls:
            yield Stack(rasa=urls.rasa, gateway=urls.gateway, actions=urls.actions, engine=engine,
                        shop_port=shop_port)
    finally:
        engine.dispose()


def story_conversations(domain: object) -> list[list[object]]:
    """Each story of tests/test_stories.yml as a conversation's events from its start."""
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    from bot.settings import ROOT

    steps = YAMLStoryReader(domain).read_from_file(str(ROOT / "tests" / "test_stories.yml"))
    return [[ActionExecuted("action_listen"), *step.explicit_events(domain)] for step in steps]


def story_texts(domain: object) -> list[list[str]]:
    """What the shopper says in each story of tests/test_stories.yml (stories with no text left out)."""
    from rasa.shared.core.events import UserUttered

    said = [[e.text for e in story if isinstance(e, UserUttered) and e.text] for story in story_conversations(domain)]
    return [texts for texts in said if texts]


def heldout_texts() -> list[str]:
    """The messages of the held-out out-of-scope set (tests/nlu/heldout_scope.csv), in file order."""
    from bot.settings import ROOT

    with (ROOT / "tests" / "nlu" / "heldout_scope.csv").open(encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f)]


def talk(agent: Any, sender: str, said: list[str]) -> None:
    """Each text said in turn to the loaded agent as `sender` (the conversation stays in its tracker store)."""

    async def conversation() -> None:
        for said_text in said:
            await agent.handle_text(said_text, sender_id=sender)

    asyncio.run(conversation())


def graph_nodes(agent: Any) -> list[Any]:
    """The loaded model's graph nodes (Rasa keeps each component on its node, the function it calls too)."""
    return list(agent.processor.graph_runner._instantiated_nodes.values())


def graph_component(agent: Any, kind: type) -> Any:
    """The loaded model's component of this class."""
    return next(node._component for node in graph_nodes(agent) if isinstance(node._component, kind))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many inputs the fuzz suite generated (tests/gateway/test_fuzz.py)."""
    import sys

    fuzz = sys.modules.get("tests.gateway.test_fuzz")
    tried = getattr(fuzz, "TRIED", None)
    if tried:
        detail = ", ".join(f"{name} {n}" for name, n in sorted(tried.items()))
        terminalreporter.write_line(f"fuzz: {sum(tried.values())} generated inputs ({detail})")


# What each test needs, as markers (pyproject.toml): `make test-fast` runs the `unit` ones.
SERVER_MODULES = {"test_action_server", "test_run", "test_conversation"}
MODEL_MODULES = {"test_blended_diet", "test_linear_intent", "test_rasa_batches", "test_rasa_graph", "test_rasa_loading",
                 "test_rasa_speedups", "test_rasa_training", "test_rasa_replays", "test_rasa_fingerprints",
                 "test_nlu_components", "test_review", "test_real_rows", "test_training_data", "test_eval_leakage",
                 "test_bench", "test_tracker_store", "test_domain"}


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        module = path.stem
        if "browser" in path.parts:
            item.add_marker(pytest.mark.browser)
        elif "gateway" in path.parts or "stack" in getattr(item, "fixturenames", ()) or module in SERVER_MODULES:
            item.add_marker(pytest.mark.stack)
        elif module in MODEL_MODULES:
            item.add_marker(pytest.mark.model)
        else:
            item.add_marker(pytest.mark.unit)
