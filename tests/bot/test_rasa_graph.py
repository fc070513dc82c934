"""The kept graph plan runs the trained model's nodes as dask did: same nodes, order that respects
what each needs, RulePolicy before TED, and the same parses and predictions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.agent import Agent, load_agent
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, UserUttered

from bot import (
    channel,  # noqa: F401 - importing the channel installs the speed-ups, as in `rasa run`
    rasa_graph,
)
from tests.conftest import MODEL, story_texts, talk


@pytest.fixture(scope="module")
def agent() -> Agent:
    assert MODEL.exists(), "no trained model: run `make train` (make test does it first)"
    return asyncio.run(load_agent(str(MODEL)))


def test_the_channel_installs_it() -> None:
    assert DaskGraphRunner.run is rasa_graph.run


def test_each_plan_holds_what_rasa_would_run_each_node_after_what_it_needs(agent: Agent) -> None:
    runner: Any = agent.processor.graph_runner  # type: ignore[union-attr]
    schema = runner._graph_schema
    metadata = agent.processor.model_metadata  # type: ignore[union-attr]
    for targets in ([metadata.nlu_target], [metadata.core_target]):
        steps = rasa_graph.plan(schema, targets)
        names = [name for name, _ in steps]
        assert set(names) == set(schema.minimal_graph_schema(targets).nodes), targets
        assert len(names) == len(set(names))
        for position, (name, needs) in enumerate(steps):
            assert needs == tuple(schema.nodes[name].needs.values())
            assert all(need not in schema.nodes or names.index(need) < position for need in needs), name
    core = [name for name, _ in rasa_graph.plan(schema, [metadata.core_target])]
    policies = [name for name in core if issubclass(schema.nodes[name].uses, RulePolicy | TEDPolicy)]
    assert [schema.nodes[name].uses for name in policies] == [RulePolicy, TEDPolicy]  # ted_predict counts on it


def test_an_input_named_like_a_node_is_refused_as_rasa_does(agent: Agent) -> None:
    runner: Any = agent.processor.graph_runner  # type: ignore[union-attr]
    target = agent.processor.model_metadata.core_target  # type: ignore[union-attr]
    node = rasa_graph.plan(runner._graph_schema, [target])[0][0]
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        runner.run(inputs={"__tracker__": node}, targets=[target])


def _conversations(agent: Agent, texts: list[list[str]], tag: str) -> list[list[tuple]]:
    def events(sender: str, said: list[str]) -> list[tuple]:
        talk(agent, sender, said)
        tracker = asyncio.run(agent.tracker_store.retrieve(sender))
        assert tracker is not None
        out: list[tuple] = []
        for e in tracker.events:
            if isinstance(e, UserUttered):
                data = e.parse_data
                out.append((e.text, data["intent"], data.get("intent_ranking"), data["entities"]))
            elif isinstance(e, ActionExecuted):
                out.append((e.action_name, e.policy, e.confidence))
        return out

    return [events(f"graph-{tag}-{i}", said) for i, said in enumerate(texts)]


def test_conversations_go_as_they_do_through_dask(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test stories' shopper messages (no action server here: actions fail the same way in both)."""
    texts = story_texts(agent.domain)[:40]
    assert sum(map(len, texts)) > 60
    ours = _conversations(agent, texts, "plan")
    monkeypatch.setattr(DaskGraphRunner, "run", rasa_graph.rasa_run)
    assert ours == _conversations(agent, texts, "dask")
    assert sum(len(c) for c in ours) > 200
