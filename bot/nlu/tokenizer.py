"""Jieba tokenizer for mixed Chinese/English shop chat.

Rasa's JiebaTokenizer keeps whitespace tokens in mixed text ("羽绒服 size M"
gives " " tokens) and its training-cache fingerprint ignores the dictionary's
content, so an edited dictionary would never reach the model. This subclass
drops blank tokens, bounds the token count for huge messages, and adds the
dictionary's content to the fingerprint.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

MAX_TOKENS = 256


def dictionary_digest(path: Optional[str]) -> Optional[str]:
    """Hash of every file in the dictionary directory (names and bytes)."""
    if not path:
        return None
    digest = hashlib.sha256()
    for file in sorted(Path(path).glob("*")):
        if file.is_file():
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class ShopJiebaTokenizer(JiebaTokenizer):
    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> Optional[str]:
        return dictionary_digest(config.get("dictionary_path"))

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        return [t for t in tokens if t.text.strip()][:MAX_TOKENS]
