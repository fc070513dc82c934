"""Input guard: messages the model cannot honestly classify become nlu_fallback.

Emoji-only or punctuation-only text, and messages far longer than any shopper
question, would otherwise get a confident but meaningless intent (a smiley
read as "yes", 10,000 characters read as a stock question).
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.stateless import StatelessComponent

_WORDLIKE = re.compile(r"\w")


def is_unreadable(text: str, max_chars: int) -> bool:
    return len(text) > max_chars or _WORDLIKE.search(text) is None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class InputGuard(StatelessComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_chars": 500, "fallback_intent": "nlu_fallback"}

    def __init__(self, config: dict[str, Any]) -> None:
        self._max_chars = int(config["max_chars"])
        self._intent = str(config["fallback_intent"])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            # Button payloads ("/intent{...}") never reach the NLU pipeline.
            if is_unreadable(text, self._max_chars):
                message.set(INTENT, {"name": self._intent, "confidence": 1.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                message.set(ENTITIES, [], add_to_output=True)
        return messages
