"""The training data keeps the floor the bot was built on: both languages, every intent."""

import re
from collections import defaultdict
from pathlib import Path

import yaml

from bot.text import detect_language

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = [
    "greet", "goodbye", "thank", "affirm", "deny", "ask_product", "ask_stock",
    "order_status", "return_request", "human_handoff", "inform", "out_of_scope",
]
ENTITIES = {"order_id", "product", "color", "size", "case_no", "quantity"}


def examples() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for file in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(file.read_text()).get("nlu", []):
            if "intent" in block:
                found[block["intent"]] += [
                    line[2:] for line in block["examples"].splitlines() if line.startswith("- ")
                ]
    return found


def test_every_intent_has_25_chinese_and_25_english_examples() -> None:
    data = examples()
    for intent in REQUIRED:
        langs = defaultdict(int)
        for text in data[intent]:
            plain = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
            langs[detect_language(plain) or "none"] += 1
        # Bare order numbers ("812345678901") carry no language; they count for both.
        assert langs["zh"] + langs["none"] >= 25 and langs["en"] + langs["none"] >= 25, (intent, dict(langs))


def test_annotated_entities_are_the_domain_entities() -> None:
    used = set()
    for texts in examples().values():
        for text in texts:
            used |= set(re.findall(r"\]\((\w+)\)", text))
    assert used == ENTITIES
