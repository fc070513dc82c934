"""DIET and TED loaded without Rasa's training step predict exactly as Rasa's own load makes them
predict, and a weights file that is not the model's is refused."""

from __future__ import annotations

import asyncio
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent, load_agent
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.utils.tensorflow.models import RasaModel

from bot import (
    channel,  # noqa: F401 - importing the channel installs the speed-ups, as in `rasa run`
    rasa_loading,
    rasa_speedups,
)
from bot.nlu.blended_diet import BlendedDIETClassifier
from tests.conftest import MODEL, graph_component, graph_nodes, heldout_texts, story_texts, talk


def test_the_channel_installs_it() -> None:
    assert RasaModel.load.__func__ is rasa_loading.load  # type: ignore[attr-defined]


def _load(rasas: bool) -> Agent:
    assert MODEL.exists(), "no trained model: run `make train` (make test does it first)"
    if rasas:
        RasaModel.load = classmethod(rasa_loading.rasa_load)  # type: ignore[method-assign,assignment]
    try:
        return asyncio.run(load_agent(str(MODEL)))
    finally:
        rasa_loading.install()


@pytest.fixture(scope="module")
def agents() -> tuple[Agent, Agent]:
    return _load(rasas=True), _load(rasas=False)


def _answers(agent: Agent, texts: list[str], conversations: list[list[str]], tag: str) -> list[Any]:
    """Every intent ranking with DIET always asked, and every TED prediction of the conversations
    with TED always asked (the skips are tested elsewhere)."""
    predictions: list[list[float]] = []

    def ted(self: TEDPolicy, *args: Any, **kwargs: Any) -> Any:
        prediction = rasa_speedups.rasa_ted_predict(self, *args, **kwargs)
        predictions.append(prediction.probabilities)
        return prediction

    diet = graph_component(agent, BlendedDIETClassifier)
    # Each graph node keeps the function it calls, taken from the class when the model was loaded.
    nodes = {kind: next(n for n in graph_nodes(agent) if isinstance(n._component, kind)) for kind in (TEDPolicy, RulePolicy)}
    saved = (diet.component_config["ambiguity_margin"], nodes[TEDPolicy]._fn, nodes[RulePolicy]._fn)
    diet.component_config["ambiguity_margin"] = 10.0
    nodes[TEDPolicy]._fn, nodes[RulePolicy]._fn = ted, rasa_speedups.rasa_rule_predict
    try:
        rankings = [asyncio.run(agent.parse_message(text))["intent_ranking"] for text in texts]
        for i, said in enumerate(conversations):
            talk(agent, f"loading-{tag}-{i}", said)
    finally:
        diet.component_config["ambiguity_margin"], nodes[TEDPolicy]._fn, nodes[RulePolicy]._fn = saved
    return [rankings, predictions]


def test_predictions_are_those_of_rasas_own_load(agents: tuple[Agent, Agent]) -> None:
    """Held-out and story messages through DIET, the stories' turns through TED (no action server:
    actions fail the same way in both)."""
    rasas, ours = agents
    texts = heldout_texts()[::3]
    conversations = story_texts(ours.domain)[:25]
    expected = _answers(rasas, texts, conversations, "rasa")
    assert len(expected[0]) > 200 and len(expected[1]) > 50
    assert _answers(ours, texts, conversations, "ours") == expected


@pytest.fixture
def unpacked(tmp_path: Path) -> Iterator[Path]:
    with tarfile.open(MODEL) as archive:
        archive.extractall(tmp_path, filter="data")
    yield tmp_path / "components"


def test_a_weights_file_of_another_model_is_refused(agents: tuple[Agent, Agent], unpacked: Path) -> None:
    """DIET given TED's weights fails to load (a layer the file has no value for, or one of
    another shape), rather than predicting with whatever the layers were built with."""
    diet_dir = next(unpacked.glob("train_*BlendedDIETClassifier*"))
    ted_dir = next(unpacked.glob("train_TEDPolicy*"))
    for part in ("index", "data-00000-of-00001"):
        shutil.copy(ted_dir / f"ted_policy.tf_model.{part}", diet_dir / f"BlendedDIETClassifier.tf_model.{part}")
    loaded = graph_component(agents[1], BlendedDIETClassifier)
    node = next(n for n in graph_nodes(agents[1]) if n._component is loaded)
    with pytest.raises((AssertionError, ValueError)):
        BlendedDIETClassifier._load(diet_dir, loaded.component_config, loaded._model_storage, loaded._resource,
                                    node._execution_context)
