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

Then (py-spy under 50-turn conversations): Rasa replayed every event of the
conversation several times per prediction and before each action
(`past_states`, `applied_events`, `tracker.copy`); bot/rasa_replays.py
continues those replays instead, and is installed from here.

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

Then (py-spy again, with the above in place): the kept validator still
cost 15 % of Rasa's CPU, because each event of a reply is tried against all
23 branches of the events schema's `oneOf`. Each is now tried only against
the branches whose `const` admits its name (the others cannot match), and a
reply that fails is judged by the whole schema, for Rasa's own error. The
action call's JSON is written by ujson (6 % with the standard library), and
a message's features are combined in one concatenation instead of Rasa's
deep copy and pairwise stacking (9 %, several times per message).

Then (py-spy --gil, everything above in place): running the model's graph
through dask cost about 15 % of what was left (bot/rasa_graph.py, installed
from here, keeps a plan per set of targets and calls the nodes itself).

At start-up (py-spy from start to ready): half of it went to tracing a
training step in order to load DIET and TED; bot/rasa_loading.py, installed
from here, loads them for prediction without it.

While DIET trained (py-spy), Rasa's batch generator was most of the work:
bot/rasa_batches.py builds the same sparse batches in a few array operations.
It is installed here too (every message's features go through it) and for
training by bot/rasa_cli.py.

Imported by `bot/channel.py`, which Rasa imports at start-up (credentials.yml).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from functools import lru_cache
from itertools import islice
from typing import Any, Optional

import aiohttp
import numpy as np
import rasa
import scipy.sparse
import ujson
from jsonschema import ValidationError, validators
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    Event,
    SlotSet,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.language import ActionDetectLanguage
from bot import rasa_batches, rasa_graph, rasa_loading, rasa_replays

logger = logging.getLogger(__name__)
# Slot-mapping actions that only read the latest message and the slots: run in Rasa's process.
IN_PROCESS: dict[str, type[Any]] = {"action_detect_language": ActionDetectLanguage}

rasa_resolve_by_type = Event.resolve_by_type
_event_classes: dict[str, type[Event]] = {}
# Below Sanic's default KEEP_ALIVE_TIMEOUT (5 s), so a connection the server is about to close is not reused.
IDLE_CONNECTION_SECONDS = 4.0
_sessions: dict[tuple[int, int], aiohttp.ClientSession] = {}
rasa_action_call_format = RemoteAction._action_call_format
# Shopper messages of history sent to the action server (more when the active form started earlier).
ACTION_HISTORY_TURNS = 10
rasa_combine_features = Message._combine_features
rasa_run_custom_action = ActionExtractSlots._run_custom_action
rasa_rule_predict = RulePolicy.predict_action_probabilities
rasa_ted_predict = TEDPolicy.predict_action_probabilities
# The other policies in config.yml (no priorities set there): a certain RulePolicy answer beats their ties.
_OTHER_PRIORITIES = max(TEDPolicy.get_default_config()["priority"],
                        MemoizationPolicy.get_default_config()["priority"])


@lru_cache(maxsize=1)
def response_validator() -> Any:
    """The action server reply's validator, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=1)
def event_validators() -> tuple[Any, dict[Optional[str], list[Any]]]:
    """The reply schema split where it is costly: without the events' `oneOf`, and that `oneOf`'s
    branches by the event name each one's `const` admits (None: a branch that admits any name)."""
    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    cls = type(response_validator())
    branches = schema["properties"]["events"]["items"].pop("oneOf")
    by_name: dict[Optional[str], list[Any]] = {}
    for branch in branches:
        name = branch.get("properties", {}).get("event", {}).get("const")
        by_name.setdefault(name, []).append(cls(branch))
    return cls(schema), by_name


def valid_reply(result: Any) -> bool:
    """What the whole schema says of a reply, asking each event only the `oneOf` branches whose
    `const` could admit its name: the others fail on that `const` whatever else the event holds, so
    the count `oneOf` needs (exactly one) is the same. Each event used to be tried against all 23."""
    base, by_name = event_validators()
    if not base.is_valid(result):
        return False
    for event in result.get("events") or []:  # the base checked: objects, each with a string "event"
        candidates = by_name.get(event["event"], []) + by_name.get(None, [])
        if sum(1 for v in candidates if v.is_valid(event)) != 1:
            return False
    return True


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result: a reply the split check passes is valid; any other is
    judged by the whole schema, which raises Rasa's own error."""
    if valid_reply(result):
        return True
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


def to_json(body: Any) -> str:
    """The action call's JSON, by ujson: the same document as the standard library writes (a test
    reads both back), in a quarter of the time, UTF-8 rather than \\u escapes."""
    return ujson.dumps(body, ensure_ascii=False, escape_forward_slashes=False)


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
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_CONNECTION_SECONDS), json_serialize=to_json)
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


# RulePolicy's verdict for the tracker it was last asked about: (tracker, its length then, whether it
# decides alone). The length keeps a verdict from applying to the same tracker a prediction later.
_rule_verdict: list[Optional[tuple[DialogueStateTracker, int, bool]]] = [None]


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


def rule_history(policy: RulePolicy) -> int:
    """The most states any of the policy's rules looks back over.

    Older states cannot change which rule applies: `_is_rule_applicable` passes every
    rule at turns beyond its length. With no rule matching, Rasa reports the states
    as the prediction's source, and that source only decides `hide_rule_turn` by
    being one of the rules' keys, which a key no rule matches cannot be.
    """
    keys = [*policy.lookup.get(RULES, {}), *policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})]
    return max((len(json.loads(key)) for key in keys), default=1)


def rule_predict(self: RulePolicy, tracker: DialogueStateTracker, domain: Domain, *args: Any,
                 **kwargs: Any) -> PolicyPrediction:
    """RulePolicy.predict_action_probabilities on the states its rules can see, noting whether its
    answer decides alone.

    Rasa's RulePolicy has no history limit at prediction: every state of the conversation was
    copied, formatted for a debug line (even with debug logging off) and filtered against the
    rules, so each prediction grew with the conversation (0.4 ms at 10 turns, 1.8–3.5 at 180).
    """
    if self.featurizer is not None and self.featurizer.max_history is None:
        self.featurizer.max_history = rule_history(self)
    prediction = rasa_rule_predict(self, tracker, domain, *args, **kwargs)
    _rule_verdict[0] = (tracker, len(tracker.events), rule_decides(prediction, tracker, domain))
    return prediction


def ted_predict(self: TEDPolicy, tracker: DialogueStateTracker, domain: Domain, *args: Any,
                precomputations: Any = None, **kwargs: Any) -> PolicyPrediction:
    """TEDPolicy.predict_action_probabilities, not run when RulePolicy has decided for this tracker
    (and TED has no end-to-end input, which could outrank it)."""
    verdict, _rule_verdict[0] = _rule_verdict[0], None
    if (precomputations is None and not args and verdict is not None and verdict[0] is tracker
            and verdict[1] == len(tracker.events) and verdict[2]):
        return self._prediction(self._default_predictions(domain))
    return rasa_ted_predict(self, tracker, domain, *args, precomputations=precomputations, **kwargs)


def stack_columns(blocks: list[scipy.sparse.coo_matrix]) -> scipy.sparse.coo_matrix:
    """scipy.sparse.hstack of COO blocks, by concatenating their entries (a quarter of its time:
    it goes through the general block-matrix builder)."""
    rows = blocks[0].shape[0]
    if any(b.shape[0] != rows for b in blocks):
        raise ValueError(f"Cannot combine sparse features as sequence dimensions do not match: "
                         f"{[b.shape[0] for b in blocks]}.")
    offsets = np.cumsum([0] + [b.shape[1] for b in blocks[:-1]])
    return scipy.sparse.coo_matrix(
        (np.concatenate([b.data for b in blocks]),
         (np.concatenate([b.row for b in blocks]),
          np.concatenate([b.col + offset for b, offset in zip(blocks, offsets, strict=True)]))),
        shape=(rows, sum(b.shape[1] for b in blocks)))


def combine_features(features: list[Features], featurizers: list[str]) -> Optional[Features]:
    """Message._combine_features in one concatenation: Rasa deep-copies the first and stacks the
    others onto it one by one (a sparse hstack each, several per message for DIET alone)."""
    if len(features) < 2 or not (all(f.is_sparse() for f in features) or all(f.is_dense() for f in features)):
        return rasa_combine_features(features, featurizers)
    first = features[0]
    if first.is_sparse():
        stacked = stack_columns([f.features.tocoo() for f in features])
    else:
        stacked = np.concatenate([f.features for f in features], axis=-1)
    return Features(stacked, first.type, first.attribute, featurizers)


async def run_slot_action(self: ActionExtractSlots, custom_action: str, output_channel: Any, nlg: Any,
                          tracker: DialogueStateTracker, domain: Domain) -> list[Event]:
    """ActionExtractSlots._run_custom_action, running the slot-mapping actions in IN_PROCESS here
    (rasa-sdk's own Tracker and action class, no HTTP) and the others on the action server as before:
    action_detect_language runs after every message, and its round trip was one of a message's
    2.7 action-server calls. Like Rasa, it keeps only SlotSet and BotUttered, and a failing action
    fills nothing."""
    found = IN_PROCESS.get(custom_action)
    if found is None:
        return await rasa_run_custom_action(self, custom_action, output_channel, nlg, tracker, domain)
    try:
        state = tracker.current_state(EventVerbosity.NONE)  # what the action server is sent, but the events
        sdk_tracker = Tracker.from_dict({**state, "events": []})
        produced = await found().run(CollectingDispatcher(), sdk_tracker, {})
        events = deserialise_events(produced or [])
    except Exception:  # noqa: BLE001 - as Rasa does for a failing slot action: log it, fill nothing
        logger.exception("slot mapping action %s failed in process", custom_action)
        return []
    return [e for e in events if isinstance(e, SlotSet | BotUttered)]


def install_for_training() -> None:
    """What training gains from too (bot/rasa_cli.py): DIET combines every training message's
    features before its first epoch. On a slow machine its start to its first epoch took about 7 s
    (py-spy: mostly scipy's hstack), 2 s with this; every DIET and TED weight is the same."""
    Message._combine_features = staticmethod(combine_features)  # type: ignore[method-assign,assignment]


def install() -> None:
    install_for_training()
    rasa_replays.install()
    rasa_graph.install()
    rasa_loading.install()
    rasa_batches.install()
    RemoteAction._validate_action_result = validate_action_result
    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    RulePolicy.predict_action_probabilities = rule_predict  # type: ignore[method-assign]
    TEDPolicy.predict_action_probabilities = ted_predict  # type: ignore[method-assign]
    ActionExtractSlots._run_custom_action = run_slot_action  # type: ignore[method-assign]
    EndpointConfig.session = kept_session  # type: ignore[method-assign,assignment]
