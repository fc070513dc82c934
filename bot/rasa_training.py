"""Rasa's training graph run on two threads, so the dialogue policies train beside DIET.

Measured while the model trained (perf, 2026-11-25): DIET's TensorFlow work
runs on about one core however many threads TensorFlow is given (its
operations are too small to split: 8 epochs took 52-60 s with one, two or
the default number of threads). Rasa runs the graph's nodes one after the
other (`dask.get`, dask's synchronous scheduler), so the other core idled
while DIET trained, and then the linear model, RulePolicy, MemoizationPolicy
and TED (about 50 s here) ran alone.

Here the same graph, with the same nodes and inputs, is run by dask's
threaded scheduler: a node starts once the nodes it needs are done, and the
dialogue branch (which needs none of the NLU nodes) trains while DIET does.
Rasa's caching and logging hooks keep no state between nodes.

Rasa's TensorFlow models (DIET, TED and their kin) are the exception: each,
when built, resets Keras (`clear_session`) and the random, numpy and
TensorFlow seeds (`RasaModel.__init__`), then draws from those global
generators as it trains. Built while another trains, they disturb each
other: a model so trained scored zh 84.6 % instead of 85.4 % in `make eval`.
They train one at a time, as in Rasa, so each is the model Rasa's own
training gives; what overlaps them (featurizers, the linear model, the
rule and memoization policies, story loading) draws from no global
generator.

TED, the exception's exception, trains in a fresh process of its own (a
spawned child, given the component and its inputs): there it draws from its
own generators, so it trains beside DIET and is still, to the bit, the model
Rasa's own training gives. Before, DIET waited for it (12-28 s of every
training, by the machine's speed).

Keras feeds DIET and TED through tf.data, whose autotuning thread sleeps
between its tuning rounds, up to a minute apart once an input has been read
for a minute or two. TensorFlow 2.12 joins that thread when the input is
dropped at the end of `fit` without waking it: DIET's node outlasted its
last epoch by 24-49 s in about half of the trainings here (gdb: DIET's thread
in `~RootDataset::Iterator`, the thread in `Model::OptimizeLoop`'s timed
wait), 3-8 s in the others. Keras's input for Rasa's batches (a Sequence of
ready batches, then a prefetch of one) has nothing to tune, so the tuning is
left off: the same batches in the same order.

With the cache turned off (RASA_MAX_CACHE_SIZE=0) Rasa keeps its cache in an
in-memory SQLite database that each thread would see empty, so Rasa's one
thread is kept then.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Optional

import dask.threaded
import tensorflow as tf
from keras.engine.data_adapter import KerasSequenceAdapter
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.caching import CACHE_SIZE_ENV, DEFAULT_CACHE_SIZE_MB
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.diet_classifier import DIETClassifier

from bot import rasa_batches, rasa_fingerprints, rasa_speedups

# Two branches (NLU, dialogue) each mostly on one core: more threads only contend.
WORKERS = 2
rasa_run = DaskGraphRunner.run
# Components whose nodes never run beside each other in this process (ResponseSelector is DIET's kin).
ONE_AT_A_TIME: tuple[type, ...] = (DIETClassifier, TEDPolicy)
# Components trained in a process of their own, beside the others (UnexpecTED is TED's kin).
IN_CHILD: tuple[type, ...] = (TEDPolicy,)
_one_at_a_time = threading.Lock()
keras_sequence_dataset = KerasSequenceAdapter.get_dataset


class _Alone:
    """A graph node that waits until no other such node runs."""

    def __init__(self, node: Any) -> None:
        self.node = node

    def __call__(self, *inputs: Any) -> Any:
        with _one_at_a_time:
            return self.node(*inputs)


class _InChild:
    """A graph node's function run in a spawned process: a fresh interpreter, with no TensorFlow
    state but its own. The component and the inputs go there pickled, the output (a Resource, which
    the component wrote to the model storage's directory) and any error come back."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, component: Any, **inputs: Any) -> Any:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
            return child.submit(_run_in_child, self.fn, component, inputs).result()


def untuned_dataset(self: KerasSequenceAdapter) -> tf.data.Dataset:
    """The dataset Keras reads a Sequence through, with tf.data's autotuning (and its thread) off."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return keras_sequence_dataset(self).with_options(options)


def install_speedups() -> None:
    """What Rasa's training gains from, without changing what it learns: in the training process
    (bot/rasa_cli.py) and in each child, which starts from a fresh interpreter."""
    rasa_batches.install()
    rasa_speedups.install_for_training()
    rasa_fingerprints.install()
    KerasSequenceAdapter.get_dataset = untuned_dataset  # type: ignore[method-assign]


def _run_in_child(fn: Callable[..., Any], component: Any, inputs: dict[str, Any]) -> Any:
    install_speedups()
    return fn(component, **inputs)


def run(self: DaskGraphRunner, inputs: Optional[dict[str, Any]] = None,
        targets: Optional[list[str]] = None) -> dict[str, Any]:
    """DaskGraphRunner.run with dask's threaded scheduler instead of its synchronous one."""
    run_targets = targets if targets else self._graph_schema.target_names
    schema = self._graph_schema.minimal_graph_schema(run_targets)
    graph = self._build_dask_graph(schema)
    for name, (node, *needs) in list(graph.items()):
        if issubclass(schema.nodes[name].uses, IN_CHILD):
            node._fn = _InChild(node._fn)  # Rasa's node still runs the hooks (cache, log) here
        elif issubclass(schema.nodes[name].uses, ONE_AT_A_TIME):
            graph[name] = (_Alone(node), *needs)
    if inputs:
        self._add_inputs_to_graph(inputs, graph)
    try:
        return dict(dask.threaded.get(graph, run_targets, num_workers=WORKERS))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


def install() -> None:
    if float(os.environ.get(CACHE_SIZE_ENV, DEFAULT_CACHE_SIZE_MB)) == 0.0:  # as LocalTrainingCache reads it
        return
    DaskGraphRunner.run = run  # type: ignore[method-assign]
