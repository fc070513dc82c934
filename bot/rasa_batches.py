"""Rasa's sparse batches built with a few array operations instead of a few per example.

Profiled while DIET trained (py-spy, 2026-11-25), about 60 % of the samples
were in Rasa's batch generator, in `RasaDataGenerator._scipy_matrix_to_values`:
for each example of a batch, and for each of the featurizers' sparse
matrices, it built three index rows (`np.ones_like`, `np.vstack`) and then
joined them all (`np.hstack`). TensorFlow waited for those batches. The same
function prepares every message's features when the bot answers.

Here the rows and columns of all the examples are joined once, and each
example's position is repeated as often as it has values. The indices,
values and shape are the same arrays, in the same order, as Rasa's
(tests/bot/test_rasa_batches.py compares them on the model's own features).
Fake inputs (dialogue turns with no sequence) are dropped with Rasa's own
filter, as Rasa does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse
from rasa.utils.tensorflow.data_generator import RasaDataGenerator
from rasa.utils.tensorflow.model_data import FeatureArray

rasa_matrix_to_values = RasaDataGenerator._scipy_matrix_to_values


def _as_coo(matrix: scipy.sparse.spmatrix) -> scipy.sparse.coo_matrix:
    return matrix if isinstance(matrix, scipy.sparse.coo_matrix) else matrix.tocoo()


def _values(matrices: Sequence[scipy.sparse.coo_matrix], number_of_features: int) -> list[np.ndarray]:
    """Indices (position, row, column), values and shape of `matrices` stacked along a first axis."""
    rows = [m.row for m in matrices]
    counts = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    indices = np.empty((int(counts.sum()), 3), dtype=np.int64)
    indices[:, 0] = np.repeat(np.arange(len(matrices), dtype=np.int64), counts)
    indices[:, 1] = np.concatenate(rows)
    indices[:, 2] = np.concatenate([m.col for m in matrices])
    data = np.concatenate([m.data for m in matrices]).astype(np.float32)
    max_seq_len = max(m.shape[0] for m in matrices)
    shape = np.array((len(matrices), max_seq_len, number_of_features), dtype=np.int64)
    return [indices, data, shape]


def matrix_to_values(array_of_sparse: FeatureArray) -> list[np.ndarray]:
    """RasaDataGenerator._scipy_matrix_to_values, for 3- and 4-dimensional feature arrays."""
    if array_of_sparse.number_of_dimensions == 4:
        number_of_features = array_of_sparse[0][0].shape[-1]
        # A dialogue's turns follow each other; turns without a sequence are fake (Rasa's filter).
        turns = [_as_coo(m) for dialogue in RasaDataGenerator._filter_out_fake_inputs(array_of_sparse)
                 for m in dialogue]
        if not turns:
            return [np.empty((0, 3), dtype=np.int64), np.array([], dtype=np.float32),
                    np.array([0, 0, number_of_features], dtype=np.int64)]
        return _values(turns, number_of_features)
    return _values([_as_coo(m) for m in array_of_sparse], array_of_sparse[0].shape[-1])


def install() -> None:
    RasaDataGenerator._scipy_matrix_to_values = staticmethod(matrix_to_values)  # type: ignore[method-assign]
