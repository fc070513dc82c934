"""Training runs the graph's independent branches side by side, each node after what it needs,
with the results and errors of Rasa's own runner; `bot.train` trains through it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from keras.engine.data_adapter import KerasSequenceAdapter
from keras.utils.data_utils import Sequence
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.exceptions import GraphComponentException
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_training, train
from bot.nlu.blended_diet import BlendedDIETClassifier

PAUSE = 1.0  # seconds a branch works (sleeping, as TensorFlow works without the GIL)


class Step(GraphComponent):
    """Waits, then returns its name after what it was given, noting when it ran."""

    ran: list[tuple[str, float, float]] = []
    lock = threading.Lock()

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: Any, resource: Any,
               execution_context: ExecutionContext) -> Step:
        return cls(config)

    def run(self, **given: str) -> str:
        start = time.monotonic()
        if self.config.get("fail"):
            raise ValueError("this step fails")
        time.sleep(self.config.get("pause", 0.0))
        with Step.lock:
            Step.ran.append((self.config["name"], start, time.monotonic()))
        return "+".join([*(given[k] for k in sorted(given)), self.config["name"]])


class Model(Step):
    """Stands for DIET and TED: never run beside each other."""


class Where(Step):
    """Stands for TED trained in a process of its own: says which process it ran in."""

    def run(self, **given: Any) -> tuple[int, dict[str, Any]]:  # type: ignore[override]
        if self.config.get("fail"):
            raise ValueError("this model fails")
        return os.getpid(), given


def _node(name: str, needs: dict[str, str], uses: type = Step, **config: Any) -> SchemaNode:
    return SchemaNode(needs=needs, uses=uses, constructor_name="create", fn="run",
                      config={"name": name, **config}, is_target=True)


def _runner(tmp_path: Path, fail: bool = False) -> DaskGraphRunner:
    """Two branches of two steps (like NLU and dialogue: featurizers, then a model) and a step
    that needs both."""
    schema = GraphSchema({
        "nlu_a": _node("nlu_a", {}, pause=PAUSE / 2),
        "nlu_b": _node("nlu_b", {"x": "nlu_a"}, Model, pause=PAUSE / 2, fail=fail),
        "core_a": _node("core_a", {}, pause=PAUSE / 2),
        "core_b": _node("core_b", {"x": "core_a"}, Model, pause=PAUSE / 2),
        "both": _node("both", {"a": "nlu_b", "b": "core_b"}),
    })
    storage = LocalModelStorage(tmp_path)
    return DaskGraphRunner(schema, storage, ExecutionContext(schema, "test"), hooks=[])


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_branches_run_side_by_side_and_give_rasas_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rasa_training, "ONE_AT_A_TIME", (Model,))
    Step.ran.clear()
    expected = rasa_training.rasa_run(_runner(tmp_path / "rasa"))
    rasas = {name: (start, end) for name, start, end in Step.ran}
    assert rasas["core_a"][0] >= rasas["nlu_b"][1] or rasas["nlu_a"][0] >= rasas["core_b"][1]  # one by one

    Step.ran.clear()
    began = time.monotonic()
    got = rasa_training.run(_runner(tmp_path / "ours"))
    took = time.monotonic() - began
    assert got == expected
    assert got["both"] == "nlu_a+nlu_b+core_a+core_b+both"
    ran = {name: (start, end) for name, start, end in Step.ran}
    assert _overlap(ran["nlu_a"], ran["core_a"])  # the branches run side by side
    assert not _overlap(ran["nlu_b"], ran["core_b"])  # but not their models
    assert ran["nlu_b"][0] >= ran["nlu_a"][1] and ran["core_b"][0] >= ran["core_a"][1]
    assert ran["both"][0] >= max(ran["nlu_b"][1], ran["core_b"][1])
    assert took < 1.8 * PAUSE  # one after the other would take 2 x PAUSE


def test_a_failing_node_fails_the_run_as_in_rasa(tmp_path: Path) -> None:
    for run, where in ((rasa_training.rasa_run, "rasa"), (rasa_training.run, "ours")):
        with pytest.raises(GraphComponentException, match="for node nlu_b") as failed:
            run(_runner(tmp_path / where, fail=True))
        assert isinstance(failed.value.__cause__, ValueError)


def test_it_is_left_out_when_rasas_cache_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no cache Rasa keeps an in-memory database that a second thread would see empty."""
    monkeypatch.setattr(DaskGraphRunner, "run", rasa_training.rasa_run)
    monkeypatch.setenv("RASA_MAX_CACHE_SIZE", "0")
    rasa_training.install()
    assert DaskGraphRunner.run is rasa_training.rasa_run
    monkeypatch.setenv("RASA_MAX_CACHE_SIZE", "1000")
    rasa_training.install()
    assert DaskGraphRunner.run is rasa_training.run


def test_rasas_tensorflow_models_train_one_at_a_time() -> None:
    for kind in (DIETClassifier, BlendedDIETClassifier, ResponseSelector, TEDPolicy):
        assert issubclass(kind, rasa_training.ONE_AT_A_TIME)
    assert issubclass(TEDPolicy, rasa_training.IN_CHILD)
    assert not issubclass(BlendedDIETClassifier, rasa_training.IN_CHILD)


def test_ted_trains_in_a_process_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rasa_training, "IN_CHILD", (Where,))

    def runner(where: str, fail: bool = False) -> DaskGraphRunner:
        schema = GraphSchema({
            "data": _node("data", {}),
            "model": SchemaNode(needs={"x": "data"}, uses=Where, constructor_name="create", fn="run",
                                config={"name": "model", "fail": fail}, is_target=True),
        })
        return DaskGraphRunner(schema, LocalModelStorage(tmp_path / where), ExecutionContext(schema, "test"), hooks=[])

    pid, given = rasa_training.rasa_run(runner("rasa"))["model"]
    assert pid == os.getpid() and given == {"x": "data"}
    pid, given = rasa_training.run(runner("ours"))["model"]
    assert pid != os.getpid() and given == {"x": "data"}  # the same inputs, in another process
    with pytest.raises(GraphComponentException, match="for node model") as failed:
        rasa_training.run(runner("fails", fail=True))
    assert isinstance(failed.value.__cause__, ValueError)  # the child's error, as Rasa would raise it


def test_the_model_is_trained_through_it() -> None:
    assert train.command()[1:4] == ["-m", "bot.rasa_cli", "train"]


@pytest.fixture
def rasas_own(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """What install_speedups replaces, set back to Rasa's and Keras's own (restored after the test), so
    each assertion that ours is installed can fail."""
    from rasa.shared.nlu.training_data.message import Message
    from rasa.utils.tensorflow.data_generator import RasaDataGenerator

    from bot import rasa_fingerprints, rasa_speedups

    monkeypatch.setattr(Message, "_combine_features", staticmethod(rasa_speedups.rasa_combine_features))
    monkeypatch.setattr(DialogueStateTracker, "fingerprint", rasa_fingerprints.rasa_tracker_fingerprint)
    monkeypatch.setattr(RasaDataGenerator, "_scipy_matrix_to_values",
                        RasaDataGenerator.__dict__["_scipy_matrix_to_values"])
    monkeypatch.setattr(KerasSequenceAdapter, "get_dataset", rasa_training.keras_sequence_dataset)
    return monkeypatch


def test_the_command_installs_what_training_gains_from(rasas_own: pytest.MonkeyPatch) -> None:
    import rasa.__main__
    from rasa.shared.nlu.training_data.message import Message
    from rasa.utils.tensorflow.data_generator import RasaDataGenerator

    from bot import rasa_batches, rasa_cli, rasa_fingerprints, rasa_speedups

    rasas_own.setattr(DaskGraphRunner, "run", rasa_training.rasa_run)
    rasas_own.setattr(rasa.__main__, "main", lambda: None)
    rasa_cli.main()
    assert Message._combine_features is rasa_speedups.combine_features
    assert DaskGraphRunner.run is rasa_training.run
    assert RasaDataGenerator._scipy_matrix_to_values is rasa_batches.matrix_to_values
    assert KerasSequenceAdapter.get_dataset is rasa_training.untuned_dataset
    assert DialogueStateTracker.fingerprint is rasa_fingerprints.tracker_fingerprint


@pytest.mark.usefixtures("rasas_own")
def test_a_child_installs_the_same_speedups() -> None:
    from rasa.shared.nlu.training_data.message import Message
    from rasa.utils.tensorflow.data_generator import RasaDataGenerator

    from bot import rasa_batches, rasa_fingerprints, rasa_speedups

    # What a child runs first, here in this process: TED reads its features and batches through these.
    installed = rasa_training._run_in_child(
        lambda component, **inputs: (Message._combine_features, RasaDataGenerator._scipy_matrix_to_values,
                                     KerasSequenceAdapter.get_dataset, DialogueStateTracker.fingerprint), None, {})
    assert installed == (rasa_speedups.combine_features, rasa_batches.matrix_to_values, rasa_training.untuned_dataset,
                         rasa_fingerprints.tracker_fingerprint)


class Batches(Sequence):
    """Numbered batches, as Rasa's data generator hands Keras ready batches."""

    def __len__(self) -> int:
        return 5

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return np.full((2, 1), index, dtype="float32"), np.zeros((2, 1), dtype="float32")


def test_keras_reads_the_same_batches_in_the_same_order_with_no_tuning_thread() -> None:
    """tf.data's tuning thread, which TensorFlow 2.12 waits out (up to a minute) when `fit` drops its
    input, is not started; nothing else about the input changes."""
    tuned = rasa_training.keras_sequence_dataset(KerasSequenceAdapter(Batches()))  # Keras's own, installed or not
    untuned = rasa_training.untuned_dataset(KerasSequenceAdapter(Batches()))
    assert tuned.options().autotune.enabled is not False
    assert untuned.options().autotune.enabled is False
    batches = [[x.numpy().tolist() for x, _ in dataset] for dataset in (tuned, untuned)]
    assert batches[0] == batches[1] == [[[i], [i]] for i in range(5)]
