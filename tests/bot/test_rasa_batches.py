"""Sparse batches built by bot/rasa_batches.py are Rasa's own arrays: the same indices, values,
shapes and types, on made-up matrices and on every batch the trained model builds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest
import scipy.sparse
from rasa.core.agent import load_agent
from rasa.utils.tensorflow.data_generator import RasaDataGenerator
from rasa.utils.tensorflow.model_data import FeatureArray

from bot import (
    channel,  # noqa: F401 - importing the channel installs the speed-ups, as in `rasa run` (TED is skipped where rules decide)
    rasa_batches,
)
from tests.conftest import MODEL, heldout_texts, story_texts, talk


def _same(ours: list[np.ndarray], rasas: list[np.ndarray]) -> bool:
    return len(ours) == len(rasas) == 3 and all(
        o.dtype == r.dtype and o.shape == r.shape and np.array_equal(o, r) for o, r in zip(ours, rasas, strict=True))


def _matrix(rng: np.random.Generator, rows: int, columns: int, kind: str) -> scipy.sparse.spmatrix:
    return scipy.sparse.random(rows, columns, density=0.2, format=kind, random_state=rng, dtype=np.float64)


@pytest.mark.parametrize("kind", ["coo", "csr"])
def test_made_up_batches_of_examples(kind: str) -> None:
    rng = np.random.default_rng(5)
    examples = [_matrix(rng, int(rng.integers(1, 9)), 40, kind) for _ in range(60)]
    batch = FeatureArray(np.array(examples + [None], dtype=object)[:-1], number_of_dimensions=3)
    assert _same(rasa_batches.matrix_to_values(batch), rasa_batches.rasa_matrix_to_values(batch))


@pytest.mark.parametrize("kind", ["coo", "csr"])
def test_made_up_dialogues_with_fake_turns(kind: str) -> None:
    """Turns of no sequence (shape 0 x n) are Rasa's fake inputs: left out, and the positions of
    the turns after them close up, as in Rasa."""
    rng = np.random.default_rng(6)
    dialogues = []
    for _ in range(25):
        turns = [_matrix(rng, int(rng.integers(0, 4)), 30, kind) for _ in range(int(rng.integers(1, 5)))]
        dialogues.append(np.array(turns + [None], dtype=object)[:-1])
    batch = FeatureArray(np.array(dialogues + [None], dtype=object)[:-1], number_of_dimensions=4)
    assert sum(m.shape[0] == 0 for d in dialogues for m in d) > 5
    assert _same(rasa_batches.matrix_to_values(batch), rasa_batches.rasa_matrix_to_values(batch))

    only_fake = [np.array([_matrix(rng, 0, 30, kind), None], dtype=object)[:-1] for _ in range(3)]
    empty = FeatureArray(np.array(only_fake + [None], dtype=object)[:-1], number_of_dimensions=4)
    assert _same(rasa_batches.matrix_to_values(empty), rasa_batches.rasa_matrix_to_values(empty))


@pytest.fixture(scope="module")
def compared() -> Iterator[list[tuple[int, bool]]]:
    """Every sparse batch the trained model builds while loading (all intents' labels at once),
    parsing held-out messages and predicting the test stories' turns: (dimensions, equal)."""
    assert MODEL.exists(), "no trained model: run `make train` (make test does it first)"
    seen: list[tuple[int, bool]] = []

    def both(array: FeatureArray) -> list[np.ndarray]:
        ours = rasa_batches.matrix_to_values(array)
        seen.append((array.number_of_dimensions, _same(ours, rasa_batches.rasa_matrix_to_values(array))))
        return ours

    saved = RasaDataGenerator.__dict__["_scipy_matrix_to_values"]
    RasaDataGenerator._scipy_matrix_to_values = staticmethod(both)  # type: ignore[method-assign]
    try:
        agent = asyncio.run(load_agent(str(MODEL)))
        for text in heldout_texts()[::5]:
            asyncio.run(agent.parse_message(text))
        for i, said in enumerate(story_texts(agent.domain)[:30]):
            talk(agent, f"batches-{i}", said)
        yield seen
    finally:
        RasaDataGenerator._scipy_matrix_to_values = saved  # type: ignore[method-assign]


def test_every_batch_of_the_trained_model(compared: list[tuple[int, bool]]) -> None:
    # DIET is asked only where the linear model does not decide (bot/nlu/blended_diet.py), TED only
    # where RulePolicy does not (bot/rasa_speedups.py).
    assert sum(d == 3 for d, _ in compared) > 50, "DIET's messages and labels"
    assert sum(d == 4 for d, _ in compared) > 40, "TED's dialogues"
    assert all(equal for _, equal in compared)
