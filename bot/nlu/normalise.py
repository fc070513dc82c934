"""Traditional Chinese to Simplified before anything reads the text.

The catalogue, the Jieba dictionary and the training data are Simplified, so
"輕薄羽絨服" must become "轻薄羽绒服" before tokenising, or it is split into
unknown pieces and looked up as "輕薄羽". OpenCC's phrase-aware `t2s` table
does the conversion; Simplified and Latin text pass through unchanged.
The first component of the pipeline, so tokens, entities and the text the
actions read all see the Simplified form.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.stateless import StatelessComponent
from bot.text import to_simplified


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TraditionalToSimplified(StatelessComponent):
    @staticmethod
    def required_packages() -> list[str]:
        return ["opencc"]

    def _normalise(self, message: Message) -> None:
        text = message.get(TEXT)
        if text:
            simplified = to_simplified(text)
            if simplified != text:
                message.set(TEXT, simplified)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalise(message)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalise(message)
        return messages
