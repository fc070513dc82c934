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

Last, each call to the action server carried every event of the
conversation (Rasa encodes them, rasa-sdk parses them): the action server
is sent the events of the last ACTION_HISTORY_TURNS shopper messages, and
further back to where the active form started. Actions read history only
that far back (misunderstandings in a row, what was said since the form
began); slots and the latest message come whole, as before.

And: TED's prediction, about a third of Rasa's busy time, is run for
every prediction though the ensemble cannot pick it when RulePolicy (which
the graph runs first) is certain: a rule's confidence 1.0 with the highest
priority, or a form's happy path, wins over everything a policy trained
without end-to-end stories can say. TED is then not asked (it answers the
ensemble with zeros); in any other case it runs as before.

Imported by `bot/channel.py`, which Rasa imports at start-up (credentials.yml).
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Any, Optional

import aiohttp
import rasa
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.constants import PREVIOUS_ACTION, USER
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

rasa_resolve_by_type = Event.resolve_by_type
_event_classes: dict[str, type[Event]] = {}
# Below Sanic's default KEEP_ALIVE_TIMEOUT (5 s), so a connection the server is about to close is not reused.
IDLE_CONNECTION_SECONDS = 4.0
_sessions: dict[tuple[int, int], aiohttp.ClientSession] = {}
rasa_action_call_format = RemoteAction._action_call_format
# Shopper messages of history sent to the action server (more when the active form started earlier).
ACTION_HISTORY_TURNS = 10
rasa_past_states = DialogueStateTracker.past_states
# Paused replays: about three per conversation (the policies' flags), for the conversations most recently active.
FOLDS_KEPT = 3 * 1000
_folds: OrderedDict[tuple[Any, ...], _Fold] = OrderedDict()
rasa_applied_events = DialogueStateTracker.applied_events
rasa_copy = DialogueStateTracker.copy
rasa_rule_predict = RulePolicy.predict_action_probabilities
rasa_ted_predict = TEDPolicy.predict_action_probabilities
# The other policies in config.yml (no priorities set there): a certain RulePolicy answer beats their ties.
_OTHER_PRIORITIES = max(TEDPolicy.get_default_config()["priority"],
                        MemoizationPolicy.get_default_config()["priority"])
_copies: OrderedDict[tuple[Any, ...], _Copied] = OrderedDict()
_applied: OrderedDict[str, _Applied] = OrderedDict()


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


def _continues(seen: list[Event], events: Any) -> bool:
    """Whether `events` are the ones already seen (the same objects, in order) plus new ones."""
    return len(seen) <= len(events) and all(a is b for a, b in zip(seen, events, strict=False))


def _remember(kept: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    """Keeps a paused replay for its conversation, dropping the least recently used past FOLDS_KEPT."""
    kept[key] = value
    kept.move_to_end(key)
    while len(kept) > FOLDS_KEPT:
        kept.popitem(last=False)


@dataclass
class _Fold:
    """Domain.states_for_tracker_history's loop, paused after `applied` (the applied events seen so far)."""

    applied: list[Event]
    replay: DialogueStateTracker  # the tracker rebuilt from `applied`
    states: list[State] = field(default_factory=list)  # one per action in `applied`
    last_ml_action: Any = None
    turn_was_hidden: bool = False


def _visit(domain: Domain, fold: _Fold, tracker: DialogueStateTracker, hide_rule_turn: bool,
           omit_unset_slots: bool, ignore_rule_only_turns: bool, rule_only_data: Optional[dict[str, Any]]) -> None:
    """One turn of Domain.states_for_tracker_history (Rasa 3.6.21), step for step."""
    if ignore_rule_only_turns:
        if not fold.turn_was_hidden:
            fold.last_ml_action = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and not tracker.latest_action_name == tracker.active_loop_name:
            fold.turn_was_hidden = hide_rule_turn
        if fold.turn_was_hidden:
            return
    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if fold.states:
            domain._substitute_rule_only_user_input(state, fold.states[-1])
        if fold.last_ml_action:
            state[PREVIOUS_ACTION] = fold.last_ml_action
    fold.states.append(domain._clean_state(state))


@dataclass
class _Applied:
    """DialogueStateTracker.applied_events's loop, paused after `seen` events."""

    seen: list[Event]
    loop_names: list[str]
    applied: list[Event] = field(default_factory=list)


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """DialogueStateTracker.applied_events, continuing from the last call for this conversation.

    Rasa's loop runs over every event each time (and copies the list it builds
    for each form turn): O(turns) per call, several calls per prediction. Its
    outcome for an event depends on the events before it and on the names of
    all the conversation's forms, so the paused loop is continued while the
    events start with the ones seen and the form names are the same; else it
    starts over.
    """
    events = self.events
    loop_names = [event.name for event in events if isinstance(event, ActiveLoop) and event.name]
    kept = _applied.get(self.sender_id)
    if kept is None or kept.loop_names != loop_names or not _continues(kept.seen, events):
        kept = _Applied(seen=[], loop_names=loop_names)
    applied = kept.applied
    for event in islice(events, len(kept.seen), None):
        # Rasa 3.6.21's loop body, step for step.
        if isinstance(event, Restarted | SessionStarted):
            applied.clear()
        elif isinstance(event, ActionReverted):
            self._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            self._undo_till_previous(UserUttered, applied)
            self._undo_till_previous(ActionExecuted, applied)
        elif (isinstance(event, ActionExecuted) and event.action_name in loop_names
              and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)):
            self._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
        kept.seen.append(event)
    _remember(_applied, self.sender_id, kept)
    return list(applied)


def past_states(self: DialogueStateTracker, domain: Domain, omit_unset_slots: bool = False,
                ignore_rule_only_turns: bool = False, rule_only_data: Optional[dict[str, Any]] = None) -> list[State]:
    """DialogueStateTracker.past_states, continuing from where the last call for this conversation stopped.

    Rasa replays every applied event from the start; the events a conversation
    already had give the same states, so only the new ones are replayed. When
    the applied events are not the last ones plus new ones (a form's earlier
    turns undone, a rewind), it starts over, as Rasa does.
    """
    applied = self.applied_events()
    # RulePolicy passes a new rule_only_data dict (of name lists) each call: its content is the key.
    rule_only = tuple(sorted((k, tuple(v)) for k, v in rule_only_data.items())) if rule_only_data else None
    key = (self.sender_id, id(domain), rule_only, omit_unset_slots, ignore_rule_only_turns, self.is_rule_tracker)
    fold = _folds.get(key)
    seen = len(fold.applied) if fold else 0
    if fold is None or not _continues(fold.applied, applied):
        fold = _Fold(applied=[], replay=self.init_copy())
        seen = 0
    flags = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    for event in applied[seen:]:
        if isinstance(event, ActionExecuted):
            _visit(domain, fold, fold.replay, event.hide_rule_turn, *flags)
        fold.replay.update(event)
        fold.applied.append(event)
    _remember(_folds, key, fold)
    # The state now (Rasa's last yield), on a copy: the next event may come before it.
    now = _Fold(applied=[], replay=fold.replay, states=fold.states[:], last_ml_action=fold.last_ml_action,
                turn_was_hidden=fold.turn_was_hidden)
    _visit(domain, now, fold.replay, False, *flags)
    # Featurizers drop the text or the intent from states' user part in place (the only part any
    # caller changes): each caller gets its own states and user parts.
    return [{**state, USER: dict(state[USER])} if USER in state else dict(state) for state in now.states]


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


def recent_events(tracker: DialogueStateTracker) -> list[Event]:
    """The last ACTION_HISTORY_TURNS shopper messages' events, and back to the message that started
    the active form."""
    events = tracker.events
    form = tracker.active_loop_name
    form_started = False  # its activation seen: what remains is the message that started it
    users = taken = 0
    for event in reversed(events):
        if users >= ACTION_HISTORY_TURNS and form is None:
            break
        taken += 1
        if isinstance(event, UserUttered):
            users += 1
            if form_started:
                form = None
        elif form is not None and isinstance(event, ActiveLoop) and event.name == form:
            form_started = True
    return list(islice(events, len(events) - taken, None))


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """RemoteAction._action_call_format, with the recent events only (recent_events)."""
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in recent_events(tracker)]
    call = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state, "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        call["domain"] = domain.as_dict()
    return call


@dataclass
class _Copied:
    """DialogueStateTracker.copy's replay, paused after `seen` events."""

    seen: list[Event]
    replay: DialogueStateTracker


def _clone(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A tracker in the same state, sharing nothing a caller may change: events, slots, form state."""
    clone = copy.copy(tracker)
    clone.events = deque(tracker.events, maxlen=tracker.events.maxlen)
    slots = type(tracker.slots)()
    slots.update({name: copy.copy(slot) for name, slot in tracker.slots.items()})
    clone.slots = slots
    clone.active_loop = dataclasses.replace(tracker.active_loop) if tracker.active_loop else None
    clone.latest_action = dict(tracker.latest_action) if tracker.latest_action is not None else None
    return clone


def copy_tracker(self: DialogueStateTracker) -> DialogueStateTracker:
    """DialogueStateTracker.copy (a new tracker replaying every event), continuing the last copy's replay.

    Rasa copies the tracker before each action it runs, replaying the whole
    conversation each time. The replay of the events seen is kept per
    conversation and continued with the new ones while the events start with
    those seen; the copy handed out is a clone of it.
    """
    events = self.events
    key = (self.sender_id, self.is_rule_tracker, self._max_event_history, tuple(self.slots))
    kept = _copies.get(key)
    if kept is None or not _continues(kept.seen, events):
        kept = _Copied(seen=[], replay=self.init_copy())
    for event in islice(events, len(kept.seen), None):
        kept.replay.update(event)
        kept.seen.append(event)
    _remember(_copies, key, kept)
    return _clone(kept.replay)


# RulePolicy's verdict for the tracker it was last asked about: (tracker, whether it decides alone).
_rule_verdict: list[Optional[tuple[DialogueStateTracker, bool]]] = [None]


def rule_decides(prediction: PolicyPrediction, tracker: DialogueStateTracker, domain: Domain) -> bool:
    """Whether DefaultPolicyPredictionEnsemble must pick this RulePolicy prediction whatever the
    others say (none of them end-to-end): a happy-path loop prediction overrules all, else the
    highest confidence wins, ties going to the highest priority, after the confidence of an action
    that was just rejected is set to 0."""
    if prediction.is_no_user_prediction:
        return True
    if prediction.is_end_to_end_prediction:
        return False
    probabilities = list(prediction.probabilities)
    last = next((e for e in reversed(tracker.events) if isinstance(e, ActionExecuted | ActionExecutionRejected)),
                None)
    if isinstance(last, ActionExecutionRejected):
        probabilities[domain.index_for_action(last.action_name)] = 0.0
    return max(probabilities, default=0.0) >= 1.0 and prediction.policy_priority > _OTHER_PRIORITIES


def rule_predict(self: RulePolicy, tracker: DialogueStateTracker, domain: Domain, *args: Any,
                 **kwargs: Any) -> PolicyPrediction:
    """RulePolicy.predict_action_probabilities, noting whether its answer decides alone."""
    prediction = rasa_rule_predict(self, tracker, domain, *args, **kwargs)
    _rule_verdict[0] = (tracker, rule_decides(prediction, tracker, domain))
    return prediction


def ted_predict(self: TEDPolicy, tracker: DialogueStateTracker, domain: Domain, *args: Any,
                precomputations: Any = None, **kwargs: Any) -> PolicyPrediction:
    """TEDPolicy.predict_action_probabilities, not run when RulePolicy has decided for this tracker
    (and TED has no end-to-end input, which could outrank it)."""
    verdict, _rule_verdict[0] = _rule_verdict[0], None
    if precomputations is None and not args and verdict is not None and verdict[0] is tracker and verdict[1]:
        return self._prediction(self._default_predictions(domain))
    return rasa_ted_predict(self, tracker, domain, *args, precomputations=precomputations, **kwargs)


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result
    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
    DialogueStateTracker.copy = copy_tracker  # type: ignore[method-assign]
    RulePolicy.predict_action_probabilities = rule_predict  # type: ignore[method-assign]
    TEDPolicy.predict_action_probabilities = ted_predict  # type: ignore[method-assign]
    EndpointConfig.session = kept_session  # type: ignore[method-assign,assignment]
