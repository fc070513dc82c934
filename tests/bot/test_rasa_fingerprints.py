"""The training cache's keys, kept per object, are Rasa's own, and change when what they cover does."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.features import Features

from bot import rasa_fingerprints
from bot.settings import ROOT
from tests.conftest import story_conversations


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


def test_a_tracker_keeps_rasas_fingerprint_until_it_changes(domain: Domain) -> None:
    checked = 0
    for number, events in enumerate(story_conversations(domain)[:30]):
        tracker = DialogueStateTracker.from_events(f"story-{number}", events, domain.slots)
        first = rasa_fingerprints.tracker_fingerprint(tracker)
        assert first == rasa_fingerprints.rasa_tracker_fingerprint(tracker)
        assert rasa_fingerprints.tracker_fingerprint(tracker) == first  # kept
        tracker.update(ActionExecuted("action_listen"))
        after_event = rasa_fingerprints.tracker_fingerprint(tracker)
        assert after_event == rasa_fingerprints.rasa_tracker_fingerprint(tracker) != first
        tracker.slots["order_id"].value = f"changed-{number}"  # a slot set without an event, as replays do
        after_slot = rasa_fingerprints.tracker_fingerprint(tracker)
        assert after_slot == rasa_fingerprints.rasa_tracker_fingerprint(tracker) != after_event
        checked += 1
    assert checked == 30


def test_a_full_tracker_that_drops_its_first_event_is_fingerprinted_again(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events("short", [UserUttered("hi"), SlotSet("language", "en")],
                                               domain.slots, max_event_history=2)
    before = rasa_fingerprints.tracker_fingerprint(tracker)
    tracker.update(UserUttered("hi"))  # same length, another event last
    assert len(tracker.events) == 2
    assert rasa_fingerprints.tracker_fingerprint(tracker) == rasa_fingerprints.rasa_tracker_fingerprint(tracker) != before


def test_a_token_keeps_rasas_fingerprint_until_set_or_moved() -> None:
    token = Token("冲锋衣", 2, data={"pattern": {"order_id": False}})
    first = rasa_fingerprints.token_fingerprint(token)
    assert first == rasa_fingerprints.rasa_token_fingerprint(token)
    # The regex featurizer replaces a value in place, through Token.set.
    rasa_fingerprints.token_set(token, "pattern", {"order_id": True})
    replaced = rasa_fingerprints.token_fingerprint(token)
    assert replaced == rasa_fingerprints.rasa_token_fingerprint(token) != first
    token.end = 9
    assert rasa_fingerprints.token_fingerprint(token) == rasa_fingerprints.rasa_token_fingerprint(token) != replaced
    token.data = {}
    assert rasa_fingerprints.token_fingerprint(token) == rasa_fingerprints.rasa_token_fingerprint(token)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float64", "float32"])
def test_a_sparse_matrix_reads_as_rasas_text(dtype: str) -> None:
    rng = np.random.default_rng(7)
    dense = rng.integers(-3, 4, size=(9, 40)) * (rng.random((9, 40)) < 0.3)
    values = dense.astype(dtype)
    if dtype.startswith("float"):
        # Numbers whose shortest text is long, tiny, huge or negative zero.
        values = values * np.asarray(1 / 3, dtype=dtype)
        values[0, :6] = np.asarray([0.1, 1e16, 1e-7, -0.0, 123456789.123, 2.5e-300], dtype=dtype)
    for matrix in (scipy.sparse.coo_matrix(values), scipy.sparse.csr_matrix(values)):
        assert matrix.nnz
        assert rasa_fingerprints.sparse_matrix_to_string(matrix) == rasa_fingerprints.rasa_sparse_matrix_to_string(matrix)


def test_installed_for_training_features_keep_rasas_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = scipy.sparse.coo_matrix(np.eye(4, 12))
    rasas = Features(matrix, "sequence", "text", "CountVectorsFeaturizer").fingerprint()
    for owner, name in ((DialogueStateTracker, "fingerprint"), (Token, "fingerprint"), (Token, "set")):
        monkeypatch.setattr(owner, name, getattr(owner, name))  # restored after the test
    monkeypatch.setattr(rasa_fingerprints.rasa_util, "sparse_matrix_to_string",
                        rasa_fingerprints.rasa_sparse_matrix_to_string)
    rasa_fingerprints.install()
    assert rasa_fingerprints.rasa_util.sparse_matrix_to_string is rasa_fingerprints.sparse_matrix_to_string
    assert DialogueStateTracker.fingerprint is rasa_fingerprints.tracker_fingerprint
    assert Token.fingerprint is rasa_fingerprints.token_fingerprint
    assert Features(matrix, "sequence", "text", "CountVectorsFeaturizer").fingerprint() == rasas
