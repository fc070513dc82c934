"""What Rasa 3.6 spends its time on without need, fixed where Rasa loads our channel.

Profiled under load (py-spy on `rasa run`, 20 concurrent shoppers): 38 % of
Rasa's CPU went to `RemoteAction._validate_action_result`, which calls
`jsonschema.validate(result, schema)` for every reply of the action server.
That function first checks the (large, constant) events schema against the
JSON Schema meta-schema, every time: about 150 ms per call on this machine,
several calls per message. Checking the schema once and keeping its
validator gives the same validation of every reply, with the same error, in
about 2 ms.

The next largest waste (8.6 % after that fix): every event read back from the
tracker store finds its class with `Event.resolve_by_type`, which walks all
Event subclasses (and checks each for abstractness) on every call. Its answer
for a name never changes once found, so it is kept.

Imported by `bot/channel.py`, which Rasa imports at start-up (credentials.yml).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event

rasa_resolve_by_type = Event.resolve_by_type
_event_classes: dict[str, type[Event]] = {}


@lru_cache(maxsize=1)
def response_validator() -> Any:
    """The action server reply's validator, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result, with the validator kept (same checks, same error)."""
    try:
        response_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise


def resolve_by_type(type_name: str, default: Optional[type[Event]] = None) -> Optional[type[Event]]:
    """Event.resolve_by_type, remembering what Rasa's own walk found for each name."""
    found = _event_classes.get(type_name)
    if found is None:
        found = rasa_resolve_by_type(type_name, default)
        if found is not None and found is not default:
            _event_classes[type_name] = found
    return found


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
