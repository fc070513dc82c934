"""A second, linear opinion on the intent, averaged with DIET's.

DIET alone is confident to a fault: trained on ~3,000 shop sentences, it gives
a question about a pasta recipe or a broken printer 0.9+ for some shop intent,
and its ranking moves by several points between two trainings of the same data.
A logistic regression on the same sparse features (tf-idf of the word and
character n-gram counts) is deterministic, trains in seconds, and spreads its
probability where the words are unfamiliar. Averaging the two keeps DIET's
accuracy on shop questions and lets strange ones fall below the
FallbackClassifier's threshold or onto out_of_scope.

`LinearIntentClassifier` runs before DIET and leaves its probabilities on the
message; `bot.nlu.blended_diet.BlendedDIETClassifier` averages them with
DIET's, and does not ask DIET at all when the linear share alone already
decides (`deciding_probability`).
"""

from __future__ import annotations

import logging
import zipfile
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.special import expit
from sklearn.utils.extmath import softmax
from threadpoolctl import threadpool_limits

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

# The fitted numbers alone, as plain arrays: read back with allow_pickle=False, a file
# cannot run code. (skops did the same job, but importing it walked every loaded module
# for every scikit-learn type: 8 s of Rasa's 26 s start.)
MODEL_FILE = "linear_intent.npz"
FITTED = ("idf", "coef", "intercept", "classes")
RANKING_LENGTH = 10
# Where the linear model leaves its opinion for DIET's blend (not part of the parse result).
LINEAR_PROBABILITIES = "linear_intent_probabilities"


def blend(diet: dict[str, float], linear: dict[str, float], weight: float) -> list[tuple[str, float]]:
    """weight * linear + (1 - weight) * DIET per intent, best first.

    An intent missing from one ranking (DIET reports only its top ten) counts 0
    there.
    """
    intents = set(diet) | set(linear)
    scores = {i: weight * linear.get(i, 0.0) + (1 - weight) * diet.get(i, 0.0) for i in intents}
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def deciding_probability(weight: float, margin: float) -> float:
    """The linear probability from which DIET cannot change the blend's outcome.

    With the linear model's top intent at p, the blend gives it at least weight * p
    (DIET giving it nothing) and any other intent at most weight * (1 - p) + (1 - weight)
    (DIET giving that one everything). The winner cannot change, and its lead stays at
    least `margin` (the FallbackClassifier's ambiguity threshold), once
    2 * weight * p - 1 >= margin. Above 1 (weight <= 0.5): DIET is always asked.
    """
    return (1 + margin) / (2 * weight) if weight > 0 else float("inf")


def unfitted(config: dict[str, Any]) -> Pipeline:
    """tf-idf of the counts (sublinear, so a repeated word is not a louder one), then a logistic regression."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfTransformer(sublinear_tf=True),
                         LogisticRegression(C=float(config["C"]), max_iter=int(config["max_iter"]),
                                            class_weight=config.get("class_weight")))


def refitted(config: dict[str, Any], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
             classes: np.ndarray) -> Pipeline:
    """The pipeline `unfitted` makes, given the numbers its fit found: it predicts as the fitted one."""
    if coef.ndim != 2 or coef.shape[1] != idf.shape[0] or intercept.shape != coef.shape[:1] or classes.ndim != 1:
        raise ValueError(f"arrays that do not fit together: {idf.shape}, {coef.shape}, {intercept.shape}")
    pipeline = unfitted(config)
    tfidf, classifier = pipeline
    tfidf.idf_ = idf
    classifier.coef_, classifier.intercept_, classifier.classes_ = coef, intercept, classes
    tfidf.n_features_in_ = classifier.n_features_in_ = idf.shape[0]
    return pipeline


def sentence_features(message: Message) -> Optional[scipy.sparse.spmatrix]:
    _, sentence = message.get_sparse_features(TEXT)
    return None if sentence is None else sentence.features


def sentence_blocks(message: Message) -> list[scipy.sparse.spmatrix]:
    """Each featurizer's sparse sentence features of the text, in the order `get_sparse_features` joins them."""
    return [f.features for f in message.features
            if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse()]


def sentence_matrix(messages: list[Message]) -> scipy.sparse.csr_matrix:
    """The messages' `sentence_features`, one row each: each featurizer's block stacked once and the
    blocks joined, rather than joined message by message (Rasa's bmat per message: 2.8 ms each, 7 s
    of a training run)."""
    blocks = [sentence_blocks(message) for message in messages]
    if len({len(b) for b in blocks}) != 1:  # not every message has every featurizer's: join each as Rasa would
        return scipy.sparse.vstack([sentence_features(m) for m in messages]).tocsr()
    return scipy.sparse.hstack([scipy.sparse.vstack(column) for column in zip(*blocks, strict=True)]).tocsr()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # C large enough that familiar shop wording still gets a clear winner. class_weight
        # "balanced": each intent counts alike, however many examples it has.
        return {"C": 100.0, "max_iter": 3000, "class_weight": None}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 pipeline: Optional[Pipeline] = None) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._pipeline: Optional[Pipeline] = None
        if pipeline is not None:
            self._use(pipeline)

    def _use(self, pipeline: Pipeline) -> None:
        # The product in `probabilities` multiplies the features by coef_.T; scipy copies a right-hand
        # side that is not C-contiguous on every call (the whole intents x features matrix, 0.3 ms a
        # message). Stored column-major, coef_.T is C-contiguous: the same numbers, no copy.
        tfidf, classifier = pipeline
        classifier.coef_ = np.asfortranarray(classifier.coef_)
        self._idf = np.asarray(tfidf.idf_)  # sklearn's property rebuilds it from a diagonal matrix each time
        self._classes = [str(c) for c in classifier.classes_]
        self._pipeline = pipeline

    def probabilities(self, features: scipy.sparse.spmatrix) -> np.ndarray:
        """`pipeline.predict_proba` for one row, without sklearn's checks and conversions around each
        step (8 % of Rasa's CPU under load, for a few microseconds of arithmetic): the same steps in
        the same order, tested against it on the shop's own messages."""
        classifier = self._pipeline[-1]
        row = features.tocsr().astype(features.dtype if features.dtype in (np.float32, np.float64) else np.float64)
        row.data = np.log(row.data) + 1  # sublinear tf
        row.data *= self._idf[row.indices]
        length = np.sqrt(np.dot(row.data, row.data))  # l2, as unfitted() sets the tf-idf's norm
        if length > 0:
            row.data /= length
        scores = np.asarray(row @ classifier.coef_.T) + classifier.intercept_
        if len(self._classes) == 2:  # sklearn's binary case: one score, the second class's
            second = expit(scores[:, 0])
            return np.column_stack([1 - second, second])[0]
        return softmax(scores)[0]

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn"]

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if sentence_blocks(e)]
        labels = [example.get(INTENT) for example in examples]
        if len(set(labels)) < 2:
            logger.warning("LinearIntentClassifier: fewer than two intents to learn; DIET decides alone.")
            return self._resource
        pipeline = unfitted(self._config)
        # BLAS on one thread: the fit's vector products are too small to share, so OpenBLAS's second
        # thread only spins (sched_yield, about a third of the fit's samples in py-spy), on the core
        # DIET trains on beside it: the same wall time alone, half the CPU.
        with threadpool_limits(limits=1, user_api="blas"):
            pipeline.fit(sentence_matrix(examples), np.array(labels))
        self._use(pipeline)
        self._persist()
        return self._resource

    def _persist(self) -> None:
        tfidf, classifier = self._pipeline
        with self._storage.write_to(self._resource) as directory:
            np.savez(directory / MODEL_FILE, idf=tfidf.idf_, coef=classifier.coef_,
                     intercept=classifier.intercept_, classes=classifier.classes_.astype(str))

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory, \
                    np.load(directory / MODEL_FILE, allow_pickle=False) as stored:
                fitted = {name: stored[name] for name in FITTED}
            return cls(config, model_storage, resource, refitted(config, **fitted))
        # ValueError: no resource, pickled content or arrays that do not fit together; OSError,
        # BadZipFile, KeyError: the file is missing, cut short or lacks an array. Either way the
        # model still answers, with DIET alone.
        except (ValueError, OSError, zipfile.BadZipFile, KeyError) as error:
            logger.warning(f"LinearIntentClassifier not loaded ({error}); DIET decides alone.")
            return cls(config, model_storage, resource)

    def process(self, messages: list[Message]) -> list[Message]:
        """Each message gets the linear model's probability for every intent (none: DIET decides alone)."""
        if self._pipeline is None:
            return messages
        for message in messages:
            features = sentence_features(message)
            if features is None:
                continue
            probabilities = self.probabilities(features)
            message.set(LINEAR_PROBABILITIES, dict(zip(self._classes, map(float, probabilities), strict=True)))
        return messages
