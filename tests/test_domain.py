"""Every response speaks both languages, and every response is reachable."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = {}
for file in sorted((ROOT / "domain").glob("*.yml")):
    DOMAIN.update(yaml.safe_load(file.read_text()).get("responses", {}))
ACTION_CODE = "\n".join(p.read_text() for p in (ROOT / "actions").glob("*.py"))
DIALOGUE = "\n".join(p.read_text() for p in (ROOT / "data").rglob("*.yml"))
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("name", sorted(DOMAIN))
def test_response_has_english_and_chinese(name: str) -> None:
    variants = DOMAIN[name]
    english = [v for v in variants if v.get("condition") == [{"type": "slot", "name": "language", "value": "en"}]]
    default = [v for v in variants if "condition" not in v]
    assert len(english) == 1 and len(default) == 1, "one en variation and one unconditional zh default"
    assert not CJK.search(english[0]["text"]), "English text has no Chinese in it"
    assert CJK.search(default[0]["text"]), "the default is Chinese"
    placeholders = set(re.findall(r"\{(\w+)\}", english[0]["text"]))
    assert placeholders == set(re.findall(r"\{(\w+)\}", default[0]["text"])), "same facts in both languages"
    assert not any("channel" in v for v in variants), "a channel variation would outrank the language"


def test_every_response_is_used_and_every_used_response_exists() -> None:
    sent = set(re.findall(r'"(utter_\w+)"', ACTION_CODE))
    # Names the actions build with f-strings from policy states, flows and kinds: any response with such a prefix.
    prefixes = set(re.findall(r'f"(utter_\w*?)\{', ACTION_CODE))
    assert prefixes, "the f-string names are found"
    built = {name for name in DOMAIN if any(name.startswith(p) for p in prefixes)}
    in_dialogue = set(re.findall(r"action: (utter_\w+)", DIALOGUE))
    unused = set(DOMAIN) - sent - built - in_dialogue
    assert not unused, f"responses nothing sends: {sorted(unused)}"
    missing = (sent | built | in_dialogue) - set(DOMAIN)
    assert not missing, f"responses sent but not in the domain: {sorted(missing)}"


def test_actions_that_read_the_domain_are_sent_it() -> None:
    """Rasa sends its domain only to actions marked `send_domain` (enable_selective_domain):
    rasa-sdk's form validation needs it, and every other action must not read it."""
    import importlib
    import inspect

    from rasa_sdk import FormValidationAction

    endpoint = yaml.safe_load((ROOT / "endpoints.yml").read_text())["action_endpoint"]
    assert endpoint["enable_selective_domain"] is True
    marked = set()
    for file in sorted((ROOT / "domain").glob("*.yml")):
        for entry in yaml.safe_load(file.read_text()).get("actions", []):
            if isinstance(entry, dict):
                marked |= {name for name, options in entry.items() if (options or {}).get("send_domain")}
    forms = set()
    for path in sorted((ROOT / "actions").glob("*.py")):
        module = importlib.import_module(f"actions.{path.stem}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (cls.__module__ == module.__name__ and FormValidationAction in cls.__mro__
                    and not inspect.isabstract(cls)):
                forms.add(cls().name())
    assert forms and forms == marked
    reading = re.findall(r"domain\[|domain\.get\(", ACTION_CODE)
    assert not reading, "an action reading the domain must be marked send_domain"
