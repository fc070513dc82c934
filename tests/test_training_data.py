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
    """Every training example, the real shoppers' rows under data/nlu/real/ included."""
    found: dict[str, list[str]] = defaultdict(list)
    for file in (ROOT / "data" / "nlu").rglob("*.yml"):
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


def regex(name: str) -> re.Pattern[str]:
    for file in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(file.read_text()).get("nlu", []):
            if block.get("regex") == name:
                (pattern,) = (line[2:] for line in block["examples"].splitlines() if line.startswith("- "))
                return re.compile(pattern)
    raise AssertionError(f"no regex {name}")


def test_order_and_case_numbers_come_from_regexes_that_respect_their_neighbours() -> None:
    # RegexEntityExtractor is what finds these (DIET tags no entities): the match must be the number alone.
    order, case = regex("order_id"), regex("case_no")
    assert [m.group() for m in order.finditer("订单812345678901到哪了")] == ["812345678901"]
    assert [m.group() for m in order.finditer("order 812345678901, and 867543210987")] == ["812345678901",
                                                                                            "867543210987"]
    assert not order.search("tracking 8123456789012345"), "part of a longer number is not an order"
    assert not order.search("售后单AS261120000012"), "the digits of a case number are not an order"
    assert [m.group() for m in case.finditer("售后单AS261120000012的退款呢")] == ["AS261120000012"]
    assert [m.group() for m in case.finditer("case as261120000012 please")] == ["as261120000012"]
    assert not case.search("GAS261120000012"), "letters before it: some other code"
