"""DIET is skipped only where it cannot change the intent: the trained model picks the same intent
for every held-out and test-story message with DIET always asked, and skips it for most of them."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
import yaml
from rasa.core.agent import Agent, load_agent

from bot.nlu.blended_diet import BlendedDIETClassifier
from bot.nlu.linear_intent import LinearIntentClassifier, deciding_probability
from bot.settings import ROOT
from tests.conftest import MODEL, graph_component, heldout_texts, story_texts


def _pipeline() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    return {step["name"].rsplit(".", 1)[-1]: step for step in config["pipeline"]}


def test_the_skip_keeps_the_fallback_classifiers_verdict() -> None:
    """What the skip assumes of the FallbackClassifier is what config.yml sets it to."""
    steps = _pipeline()
    names = list(steps)
    blended, fallback = steps["BlendedDIETClassifier"], steps["FallbackClassifier"]
    assert names.index("LinearIntentClassifier") < names.index("BlendedDIETClassifier") < names.index(
        "FallbackClassifier")
    assert blended["ambiguity_margin"] == fallback["ambiguity_threshold"]
    weight = blended["linear_weight"]
    # A skipped message's intent has at least weight * deciding whatever DIET says: above the threshold.
    assert weight * deciding_probability(weight, blended["ambiguity_margin"]) > fallback["threshold"]


@pytest.fixture(scope="module")
def agent() -> Agent:
    assert MODEL.exists(), "no trained model: run `make train` (make test does it first)"
    return asyncio.run(load_agent(str(MODEL)))


def _texts(agent: Agent) -> list[str]:
    return heldout_texts() + [text for said in story_texts(agent.domain) for text in said]


def test_skipping_diet_picks_the_same_intent_for_every_message(agent: Agent,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    diet = graph_component(agent, BlendedDIETClassifier)
    asked = [0]
    ranking = BlendedDIETClassifier._diet_ranking

    def counted(self: BlendedDIETClassifier, message: Any) -> dict[str, float]:
        asked[0] += 1
        return ranking(self, message)

    monkeypatch.setattr(BlendedDIETClassifier, "_diet_ranking", counted)
    texts = _texts(agent)
    assert len(texts) > 800

    def intents() -> list[tuple[str, str]]:
        return [(text, asyncio.run(agent.parse_message(text))["intent"]["name"]) for text in texts]

    skipping = intents()
    skipped = len(texts) - asked[0]
    monkeypatch.setitem(diet.component_config, "ambiguity_margin", 10.0)  # DIET asked for every message
    asked[0] = 0
    assert intents() == skipping
    assert asked[0] == len(texts)
    assert skipped > 0.4 * len(texts), skipped


def test_the_linear_models_own_arithmetic_gives_sklearns_probabilities(agent: Agent,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """On the shop's real features (held-out and story messages), not only on made-up ones."""
    linear = graph_component(agent, LinearIntentClassifier)
    own = LinearIntentClassifier.probabilities
    compared = [0]

    def checked(self: LinearIntentClassifier, features: Any) -> Any:
        mine = own(self, features)
        np.testing.assert_allclose(mine, self._pipeline.predict_proba(features.tocsr())[0], rtol=1e-12, atol=1e-15)
        compared[0] += 1
        return mine

    monkeypatch.setattr(LinearIntentClassifier, "probabilities", checked)
    texts = _texts(agent)[::2]
    for text in texts:
        asyncio.run(agent.parse_message(text))
    assert linear._pipeline is not None and compared[0] == len(texts)
