"""Every sentence the bot and the gateway say lives in one of two places: the domain's responses, or the word
catalogue (bot/words.py). Both have Chinese and English with the same placeholders (the domain's are checked
in tests/test_domain.py); actions and the gateway hold no Chinese sentence of their own."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot import words

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u9fff]")
SPEAKERS = [*sorted((ROOT / "actions").glob("*.py")), *sorted((ROOT / "bot" / "gateway").glob("*.py"))]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(words.WORDS))
def test_every_entry_has_both_languages_and_the_same_placeholders(key: str) -> None:
    zh, en = words.WORDS[key]
    assert zh.strip() and en.strip(), key
    assert placeholders(zh) == placeholders(en), key
    assert not CJK.search(en), f"{key}: Chinese in the English entry"


def literals(path: Path) -> list[tuple[int, str]]:
    """String constants in a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_actions_and_the_gateway_say_nothing_of_their_own() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {text[:40]!r}" for path in SPEAKERS
             for line, text in literals(path) if CJK.search(text)]
    assert found == [], "put these in bot/words.py (or a domain response): " + "; ".join(found)


def test_the_check_would_catch_a_sentence(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""文档说明不算。"""\nTITLE = "申请补偿"\n', encoding="utf-8")
    assert [text for _, text in literals(module) if CJK.search(text)] == ["申请补偿"]


def test_words_render_the_policy_figures_in_the_shoppers_language() -> None:
    assert words.word("phrase.5", "en") == "Registered: the refund reaches you within 1–2 working days."
    assert words.word("next.open", "zh") == "客服会在 48 小时内处理完毕"
    assert words.word("notice.queued", "fr", ahead=2).startswith("您已进入"), "Chinese is the default"
    assert [p["zh"] for p in words.phrases()][0].startswith("亲，您好")
