"""The linear second opinion: its arithmetic, its training and its model file."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_intent import (
    LINEAR_PROBABILITIES,
    MODEL_FILE,
    LinearIntentClassifier,
    blend,
    deciding_probability,
    sentence_features,
    sentence_matrix,
)

# Three made-up "words": feature 0 means order talk, 1 refund talk, 2 neither
# (never seen in training).


def message(intent: str | None, *counts: int) -> Message:
    m = Message(data={TEXT: "x", **({INTENT: intent} if intent else {})})
    m.add_features(Features(scipy.sparse.coo_matrix(np.array([counts], dtype=float)),
                            FEATURE_TYPE_SENTENCE, TEXT, "test"))
    return m


def opinion(classifier: LinearIntentClassifier, *counts: int) -> dict[str, float]:
    [out] = classifier.process([message(None, *counts)])
    return out.get(LINEAR_PROBABILITIES) or {}


def trained(tmp_path: Path) -> LinearIntentClassifier:
    blender = LinearIntentClassifier.create(LinearIntentClassifier.get_default_config(), LocalModelStorage(tmp_path),
                                       Resource("linear"), ExecutionContext(GraphSchema({}), "test"))
    blender.train(TrainingData([message("order_status", 1, 0, 0) for _ in range(5)]
                               + [message("refund_status", 0, 1, 0) for _ in range(5)]))
    return blender


def test_blend_averages_by_weight_and_counts_a_missing_intent_as_zero() -> None:
    diet = {"order_status": 0.9, "refund_status": 0.1}
    linear = {"order_status": 0.2, "refund_status": 0.5, "out_of_scope": 0.3}
    assert blend(diet, linear, 0.0)[0] == ("order_status", 0.9)
    assert blend(diet, linear, 1.0)[0] == ("refund_status", 0.5)
    half = dict(blend(diet, linear, 0.5))
    assert half == pytest.approx({"order_status": 0.55, "refund_status": 0.3, "out_of_scope": 0.15})


def test_blend_breaks_ties_by_name_so_two_runs_agree() -> None:
    assert blend({"b": 0.5, "a": 0.5}, {}, 0.0) == [("a", 0.5), ("b", 0.5)]


@pytest.mark.parametrize("weight", [0.55, 0.7, 0.9, 1.0])
def test_from_the_deciding_probability_no_diet_answer_changes_the_winner_or_its_lead(weight: float) -> None:
    margin = 0.05
    deciding = deciding_probability(weight, margin)
    for p in (deciding, min(deciding + 0.01, 1.0)):
        linear = {"order_status": p, "refund_status": 1 - p}
        for diet in ({"refund_status": 1.0}, {"greet": 1.0}, {}, {"order_status": 1.0}):
            (top, first), (_, second) = blend(diet, linear, weight)[:2]
            assert top == "order_status" and first - second >= margin - 1e-9, (p, diet)
    # Just below it, the worst answer DIET could give does bring the lead under the margin.
    below = deciding - 0.01
    (_, first), (_, second) = blend({"refund_status": 1.0}, {"order_status": below, "refund_status": 1 - below},
                                    weight)[:2]
    assert first - second < margin


def test_with_half_the_say_or_less_diet_is_always_asked() -> None:
    assert deciding_probability(0.5, 0.05) > 1 and deciding_probability(0.3, 0.0) > 1
    assert deciding_probability(0.0, 0.05) == float("inf")


def test_a_confident_diet_mistake_is_pulled_back_by_the_linear_model(tmp_path: Path) -> None:
    linear = opinion(trained(tmp_path), 0, 1, 0)
    ranking = blend({"order_status": 0.6, "refund_status": 0.4}, linear, 0.5)
    assert [name for name, _ in ranking][:2] == ["refund_status", "order_status"]


def test_unfamiliar_features_lower_the_confidence_diet_would_give(tmp_path: Path) -> None:
    linear = opinion(trained(tmp_path), 0, 0, 1)
    # The linear model has no opinion on feature 2 (about 0.5 each), so the
    # blend is well below DIET's certainty.
    name, confidence = blend({"order_status": 1.0}, linear, 0.5)[0]
    assert name == "order_status" and 0.6 < confidence < 0.9


def test_the_training_matrix_is_each_messages_sentence_features_joined_as_rasa_joins_them() -> None:
    rng = np.random.default_rng(11)

    def featurized(widths: list[int]) -> Message:
        m = Message(data={TEXT: "x", INTENT: "greet"})
        for i, width in enumerate(widths):
            block = scipy.sparse.random(1, width, density=0.4, format="coo", random_state=rng)
            m.add_features(Features(block, FEATURE_TYPE_SENTENCE, TEXT, f"featurizer{i}"))
            m.add_features(Features(scipy.sparse.random(3, width, density=0.4, format="coo", random_state=rng),
                                    "sequence", TEXT, f"featurizer{i}"))  # token rows: not the sentence's
        return m

    alike = [featurized([4, 1, 6]) for _ in range(30)]
    expected = scipy.sparse.vstack([sentence_features(m) for m in alike]).toarray()
    np.testing.assert_array_equal(sentence_matrix(alike).toarray(), expected)
    unlike = [featurized([11]), featurized([5, 6])]  # the same width, from different featurizers
    np.testing.assert_array_equal(sentence_matrix(unlike).toarray(),
                                  scipy.sparse.vstack([sentence_features(m) for m in unlike]).toarray())


def test_the_fit_runs_blas_on_one_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside DIET's training a second BLAS thread only spins on DIET's core."""
    from sklearn.pipeline import Pipeline
    from threadpoolctl import threadpool_info, threadpool_limits

    seen: list[set[int]] = []
    fit = Pipeline.fit

    def noting_fit(self: Pipeline, *args: object, **kwargs: object) -> Pipeline:
        seen.append({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "fit", noting_fit)
    with threadpool_limits(limits=2, user_api="blas"):  # as on a two-core machine, whatever this one has
        trained(tmp_path)
        after = {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    assert seen == [{1}]
    assert after == {2}  # the limit is the fit's alone


def test_a_message_without_sentence_features_gets_no_opinion(tmp_path: Path) -> None:
    [out] = trained(tmp_path).process([Message(data={TEXT: "x"})])
    assert out.get(LINEAR_PROBABILITIES) is None


@pytest.mark.parametrize("intents", [2, 3])
def test_the_trained_model_survives_persist_and_load(tmp_path: Path, intents: int) -> None:
    """The loaded model gives exactly the trained one's probabilities (two intents: sklearn's binary case)."""
    names = ["order_status", "refund_status", "greet"][:intents]
    fitted = LinearIntentClassifier.create(LinearIntentClassifier.get_default_config(), LocalModelStorage(tmp_path),
                                           Resource("linear"), ExecutionContext(GraphSchema({}), "test"))
    fitted.train(TrainingData([message(intent, *np.eye(3, dtype=int)[i]) for i, intent in enumerate(names)
                               for _ in range(5)]))
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), LocalModelStorage(tmp_path),
                                    Resource("linear"), ExecutionContext(GraphSchema({}), "test"))
    linear = opinion(loaded, 0, 1, 0)
    assert max(linear, key=linear.__getitem__) == "refund_status" and sum(linear.values()) == pytest.approx(1)
    rows = scipy.sparse.random(40, 3, density=0.5, format="csr", random_state=np.random.default_rng(5)) * 4
    assert fitted._pipeline is not None and loaded._pipeline is not None
    np.testing.assert_array_equal(loaded._pipeline.predict_proba(rows), fitted._pipeline.predict_proba(rows))
    for i in range(rows.shape[0]):  # the classifier's own arithmetic, row by row, is sklearn's
        np.testing.assert_allclose(loaded.probabilities(rows[i]), fitted._pipeline.predict_proba(rows[i])[0],
                                   rtol=1e-12, atol=1e-15)
    assert list(loaded._pipeline.classes_) == sorted(names)


def test_the_loaded_classifier_multiplies_without_copying_and_gives_the_same_probabilities(tmp_path: Path) -> None:
    import copy

    blender = LinearIntentClassifier.create(LinearIntentClassifier.get_default_config(), LocalModelStorage(tmp_path),
                                       Resource("linear"), ExecutionContext(GraphSchema({}), "test"))
    blender.train(TrainingData([message(intent, *np.eye(3, dtype=int)[i]) for i, intent in
                                enumerate(["order_status", "refund_status", "greet"]) for _ in range(5)]))
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), LocalModelStorage(tmp_path),
                                    Resource("linear"), ExecutionContext(GraphSchema({}), "test"))
    pipeline = loaded._pipeline
    assert pipeline is not None and pipeline[-1].coef_.T.flags.c_contiguous  # scipy uses it as it is
    as_trained = copy.deepcopy(pipeline)
    as_trained[-1].coef_ = np.ascontiguousarray(as_trained[-1].coef_)
    assert not as_trained[-1].coef_.T.flags.c_contiguous
    rows = scipy.sparse.random(40, 3, density=0.5, format="csr", random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(pipeline.predict_proba(rows), as_trained.predict_proba(rows))


def assert_diet_decides_alone(storage: LocalModelStorage) -> None:
    """The model loaded from this storage gives no opinion: DIET's ranking stands as it is."""
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage, Resource("linear"),
                                    ExecutionContext(GraphSchema({}), "test"))
    assert opinion(loaded, 0, 1, 0) == {}


@pytest.mark.parametrize("change", [
    lambda fitted: {**fitted, "classes": np.array([object(), object()], dtype=object)},
    lambda fitted: {**fitted, "idf": fitted["idf"][:-1]},
    lambda fitted: {name: array for name, array in fitted.items() if name != "classes"},
], ids=["objects, which unpickling could run", "arrays that do not fit together", "an array missing"])
def test_a_model_file_not_as_written_is_refused_and_diet_decides(tmp_path: Path,
                                                                 change: Callable[[dict], dict]) -> None:
    trained(tmp_path)
    storage = LocalModelStorage(tmp_path)
    with storage.write_to(Resource("linear")) as directory:
        with np.load(directory / MODEL_FILE) as stored:
            fitted = dict(stored)
        np.savez(directory / MODEL_FILE, **change(fitted))
    assert_diet_decides_alone(storage)


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_missing_or_cut_short_model_file_leaves_diet_to_decide(tmp_path: Path, damage: str) -> None:
    trained(tmp_path)
    storage = LocalModelStorage(tmp_path)
    with storage.write_to(Resource("linear")) as directory:
        path = directory / MODEL_FILE
        if damage == "missing":
            path.unlink()
        else:
            path.write_bytes(path.read_bytes()[:100])
    assert_diet_decides_alone(storage)
