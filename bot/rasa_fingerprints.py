"""Rasa's training-cache keys, each computed once per object that has not changed since.

Rasa's training hooks fingerprint every node's inputs before it runs and its
output after (`rasa.engine.training.hooks`), so that a later training can
reuse what did not change. py-spy over a training's first 200 s (2026-11-25,
both graph threads, 100 Hz) found most of the time before DIET in that
fingerprinting, holding the GIL the featurizers need:

- the dialogue branch: 2,088 samples in tracker fingerprints. Every tracker's
  events are dumped and hashed again for each policy's inputs (rule,
  memoization, TED) and once for the tracker provider's output, though no
  node changes a tracker.
- the NLU branch: about 1,000 samples in the tokens' fingerprints. A message's
  fingerprint is recomputed after every featurizer (adding features resets
  it), and with it every token's, though only the regex featurizer changes a
  token (`Token.set`). Another 420 went to writing each sparse feature matrix
  out as text, one numpy scalar at a time.

Here a tracker's and a token's fingerprint are kept with what they were
computed from, and computed again by Rasa's own function whenever that
changed; sparse matrices are written with Python numbers, whose text equals
numpy's for integers, booleans and float64 (float32 and others go through
Rasa's function). Every key is the one Rasa computes, so a cache filled
either way serves the other (tests/bot/test_rasa_fingerprints.py; two
trainings with no cache, with and without this, wrote the same keys for all
12 trained nodes and the same fingerprints for all 7 other outputs). From
the tokenizer's end to DIET's start: 34 s before, 16 s after (a slow machine).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data import util as rasa_util

rasa_tracker_fingerprint = DialogueStateTracker.fingerprint
rasa_token_fingerprint = Token.fingerprint
rasa_token_set = Token.set
rasa_sparse_matrix_to_string = rasa_util.sparse_matrix_to_string
_KEPT = "_shop_assist_fingerprint"
# Types whose numpy scalars print as the same Python number does.
_EXACT_KINDS = frozenset("biu")


def _tracker_state(tracker: DialogueStateTracker) -> tuple[Any, ...]:
    """What a tracker's fingerprint is computed from (its sender, slots and events), cheaply: events
    are appended (a full tracker drops its first), slots are set in place, so the count, the last
    event and each slot's and value's identity show a change. An event changed in place would not
    show; no training node changes one."""
    events = tracker.events
    return (tracker.sender_id, len(events), id(events[-1]) if events else None,
            tuple((name, id(slot), id(slot.value)) for name, slot in tracker.slots.items()))


def _kept(owner: Any, state: tuple[Any, ...], compute: Callable[[Any], str]) -> str:
    """The fingerprint kept on `owner` if it was computed from this state, else Rasa's, kept."""
    kept = owner.__dict__.get(_KEPT)
    if kept is not None and kept[0] == state:
        return kept[1]
    fingerprint = compute(owner)
    owner.__dict__[_KEPT] = (state, fingerprint)
    return fingerprint


def tracker_fingerprint(self: DialogueStateTracker) -> str:
    return _kept(self, _tracker_state(self), rasa_tracker_fingerprint)


def _token_state(token: Token) -> tuple[Any, ...]:
    return (token.text, token.start, token.end, token.lemma, id(token.data), len(token.data))


def token_fingerprint(self: Token) -> str:
    return _kept(self, _token_state(self), rasa_token_fingerprint)


def token_set(self: Token, prop: str, info: Any) -> None:
    """Token.set, which may replace a value in place: the kept fingerprint goes with it."""
    self.__dict__.pop(_KEPT, None)
    rasa_token_set(self, prop, info)


def sparse_matrix_to_string(m: scipy.sparse.spmatrix) -> str:
    """Rasa's text of a sparse matrix (a line "  (i, j)\\tv" per value), from Python numbers."""
    coo = m.tocoo()
    if not (coo.data.dtype.kind in _EXACT_KINDS or coo.data.dtype == np.float64):
        return rasa_sparse_matrix_to_string(m)
    return "\n".join(f"  ({i}, {j})\t{v}"
                     for i, j, v in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))


def install() -> None:
    """For training only (bot/rasa_training.py): serving computes none of these keys."""
    DialogueStateTracker.fingerprint = tracker_fingerprint  # type: ignore[method-assign]
    Token.fingerprint = token_fingerprint  # type: ignore[method-assign]
    Token.set = token_set  # type: ignore[method-assign]
    # Features.fingerprint calls it through its module, so this one assignment covers it.
    rasa_util.sparse_matrix_to_string = sparse_matrix_to_string
