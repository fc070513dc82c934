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

Then (bench stage clocks): each call to the action server, several per
message, cost about 5 ms beyond the action's own work, part of it a new
aiohttp session and TCP connection per call (`EndpointConfig.request` opens
and closes one every time). One session per endpoint is kept instead, its
idle connections dropped before the action server's (Sanic's 5 s) would.

Then (py-spy under 50-turn conversations): a quarter of Rasa's CPU went to
`DialogueStateTracker.past_states`, which replays every event of the
conversation to rebuild the dialogue states, and is called several times
per prediction (each policy, some twice) with the same events. Its answer
depends only on the events, the domain and its flags, so the last answers
are kept, keyed by those (the event objects themselves are held, so an id
is never reused while kept), and each caller gets its own copy to change.

Imported by `bot/channel.py`, which Rasa imports at start-up (credentials.yml).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Optional

import aiohttp
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

rasa_resolve_by_type = Event.resolve_by_type
_event_classes: dict[str, type[Event]] = {}
# Below Sanic's default KEEP_ALIVE_TIMEOUT (5 s), so a connection the server is about to close is not reused.
IDLE_CONNECTION_SECONDS = 4.0
_sessions: dict[tuple[int, int], aiohttp.ClientSession] = {}
rasa_past_states = DialogueStateTracker.past_states
# A message's predictions reuse them; 64 covers the conversations a busy Rasa handles at once.
PAST_STATES_KEPT = 64
_past_states: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], list[State]]] = OrderedDict()


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


def past_states(self: DialogueStateTracker, domain: Domain, omit_unset_slots: bool = False,
                ignore_rule_only_turns: bool = False, rule_only_data: Optional[dict[str, Any]] = None) -> list[State]:
    """DialogueStateTracker.past_states, computed once for the same events, domain and flags."""
    events = tuple(self.events)
    # RulePolicy passes a new rule_only_data dict (of name lists) each call: its content is the key.
    rule_only = tuple(sorted((k, tuple(v)) for k, v in rule_only_data.items())) if rule_only_data else None
    key = (id(domain), rule_only, omit_unset_slots, ignore_rule_only_turns, self.is_rule_tracker,
           tuple(map(id, events)))
    kept = _past_states.get(key)
    if kept is None:
        states = rasa_past_states(self, domain, omit_unset_slots=omit_unset_slots,
                                  ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data)
        # Holding the events and the domain keeps their ids from being reused while kept.
        kept = ((events, domain), states)
        _past_states[key] = kept
        while len(_past_states) > PAST_STATES_KEPT:
            _past_states.popitem(last=False)
    else:
        _past_states.move_to_end(key)
    # Featurizers edit the last state in place (dropping text or intent): each caller gets its own dicts.
    return [{name: dict(sub_state) for name, sub_state in state.items()} for state in kept[1]]


class _KeptSession:
    """What `async with endpoint.session() as session` gets: the kept session, left open on exit."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        return None


def kept_session(self: EndpointConfig) -> _KeptSession:
    """EndpointConfig.session, made once per endpoint and event loop with the same headers, auth and time-out."""
    key = (id(asyncio.get_running_loop()), id(self))
    session = _sessions.get(key)
    if session is None or session.closed:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        session = aiohttp.ClientSession(
            headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_CONNECTION_SECONDS))
        _sessions[key] = session
    return _KeptSession(session)


async def close_sessions() -> None:
    """At shutdown: closes this event loop's kept sessions."""
    loop = id(asyncio.get_running_loop())
    for key in [k for k in _sessions if k[0] == loop]:
        await _sessions.pop(key).close()


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]
    EndpointConfig.session = kept_session  # type: ignore[method-assign,assignment]
