from typing import Any


def msg(text: str, intent: str, entities: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """A parsed user message as Rasa puts it in `tracker.latest_message`."""
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": [{"entity": e, "value": v} for e, v in (entities or [])],
    }
