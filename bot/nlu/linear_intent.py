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
from typing import Any, Optional

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_intent.skops"
# TfidfTransformer keeps its idf as a sparse diagonal; skops asks before
# loading a type it does not know, and this is the only one the pipeline needs.
TRUSTED_TYPES = frozenset({"scipy.sparse._csr.csr_matrix"})
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


def sentence_features(message: Message) -> Optional[scipy.sparse.spmatrix]:
    _, sentence = message.get_sparse_features(TEXT)
    return None if sentence is None else sentence.features


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # C large enough that familiar shop wording still gets a clear winner.
        return {"C": 100.0, "max_iter": 3000}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 pipeline: Any = None) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._pipeline = pipeline
        if pipeline is not None:
            # predict_proba multiplies the features by coef_.T; scipy copies a right-hand side that is
            # not C-contiguous on every call (the whole intents x features matrix, 0.3 ms a message).
            # Stored column-major, coef_.T is C-contiguous: the same numbers, no copy.
            classifier = pipeline[-1]
            classifier.coef_ = np.asfortranarray(classifier.coef_)

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "skops"]

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        rows, labels = [], []
        for example in training_data.intent_examples:
            features = sentence_features(example)
            if features is not None:
                rows.append(features)
                labels.append(example.get(INTENT))
        if len(set(labels)) < 2:
            logger.warning("LinearIntentClassifier: fewer than two intents to learn; DIET decides alone.")
            return self._resource
        pipeline = make_pipeline(
            TfidfTransformer(sublinear_tf=True),
            LogisticRegression(C=float(self._config["C"]), max_iter=int(self._config["max_iter"])),
        )
        pipeline.fit(scipy.sparse.vstack(rows).tocsr(), np.array(labels))
        self._pipeline = pipeline
        self._persist()
        return self._resource

    def _persist(self) -> None:
        import skops.io as sio

        with self._storage.write_to(self._resource) as directory:
            sio.dump(self._pipeline, directory / MODEL_FILE)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as directory:
                path = directory / MODEL_FILE
                # Only the types this pipeline is made of: anything else in
                # the file is refused rather than loaded.
                untrusted = set(sio.get_untrusted_types(file=path))
                if untrusted - TRUSTED_TYPES:
                    raise ValueError(f"untrusted types in {path.name}: {sorted(untrusted - TRUSTED_TYPES)}")
                return cls(config, model_storage, resource, sio.load(path, trusted=sorted(untrusted)))
        # ValueError: no resource or foreign types; OSError/BadZipFile: the file is
        # missing or cut short. Either way the model still answers, with DIET alone.
        except (ValueError, OSError, zipfile.BadZipFile) as error:
            logger.warning(f"LinearIntentClassifier not loaded ({error}); DIET decides alone.")
            return cls(config, model_storage, resource)

    def process(self, messages: list[Message]) -> list[Message]:
        """Each message gets the linear model's probability for every intent (none: DIET decides alone)."""
        if self._pipeline is None:
            return messages
        classes = list(self._pipeline.classes_)
        for message in messages:
            features = sentence_features(message)
            if features is None:
                continue
            probabilities = self._pipeline.predict_proba(features.tocsr())[0]
            message.set(LINEAR_PROBABILITIES, dict(zip(classes, map(float, probabilities), strict=True)))
        return messages
