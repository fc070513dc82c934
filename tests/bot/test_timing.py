"""Stage clocks: off unless asked for, summed per role, and the bench's subtraction of nested stages."""

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot import timing
from bot.bench import breakdown


@pytest.fixture()
def clocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(timing, "_role", "")
    timing.reset()
    yield tmp_path
    monkeypatch.setattr(timing, "_role", "")
    timing.reset()


def test_nothing_is_timed_or_written_unless_asked(clocks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(timing.ENV, raising=False)
    assert not timing.start("rasa")
    with timing.timed("nlu"):
        pass
    assert timing.snapshot() == {}
    assert list(clocks.iterdir()) == []


def test_stages_and_database_are_clocked_and_written(clocks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(timing.ENV, str(clocks))
    assert timing.start("actions")
    with timing.timed("run"):
        time.sleep(0.02)
    engine = create_engine("sqlite://")
    timing.time_database(engine)
    timing.time_database(engine)  # twice is still once per statement
    with engine.connect() as conn:
        conn.execute(text("select 1"))
        conn.execute(text("select 2"))
    counts = timing.snapshot()
    assert counts["run"][0] == 1 and counts["run"][1] >= 0.02
    assert counts["database"][0] == 2
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not list(clocks.glob("actions-*.json")):
        time.sleep(0.1)
    time.sleep(timing.WRITE_EVERY * 2)  # the writer catches up with the latest counts
    (clocks / "actions-1.json").write_text(json.dumps({"run": [3, 0.5]}))  # a second process of the role
    summed = timing.read(clocks)["actions"]
    assert summed["run"][0] == 4 and summed["database"][0] == 2


def test_breakdown_prints_each_part_once() -> None:
    before = {"gateway": {"message": [10, 1.0]}}
    after = {
        "gateway": {"message": [20, 2.0], "rasa": [10, 0.8], "database": [30, 0.05]},
        "rasa": {"handle": [10, 0.7], "nlu": [10, 0.1], "policies": [25, 0.2], "tracker store": [20, 0.02],
                 "actions": [27, 0.3]},
        "actions": {"run": [27, 0.1], "database": [40, 0.01]},
    }
    lines = breakdown(before, after)
    by_label = {line[:46].strip(): float(line[46:].split("ms")[0]) for line in lines[:-1]}
    assert by_label["gateway (socket.io, checks, relaying)"] == pytest.approx(15.0)  # (1.0 - 0.8 - 0.05) / 10
    assert by_label["Rasa -> action server HTTP, JSON, queueing"] == pytest.approx(20.0)
    assert by_label["Rasa other (events, responses, channel)"] == pytest.approx(8.0)
    assert sum(by_label.values()) == pytest.approx(100.0)  # the parts add up to the whole message
    assert "2.5 policy predictions and 2.7 action-server calls" in lines[-1]
    assert breakdown({}, {}) == ["  (no stage times: the servers wrote none)"]
