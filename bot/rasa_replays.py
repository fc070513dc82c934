"""Rasa 3.6 replays a conversation's events from the start, several times per message: continued instead.

`DialogueStateTracker.past_states` (each policy, some twice, for every
prediction), `applied_events` (inside it, and elsewhere) and `copy` (before
every action Rasa runs) each rebuild state from every event of the
conversation, so a message late in a long conversation cost more than an
early one (py-spy: a quarter of Rasa's CPU at 50 turns). Each keeps, per
conversation, its loop paused after the events it has seen, and continues it
with the new ones while the events start with those seen (the same objects,
in order); otherwise it starts over, exactly as Rasa would compute it. The
tests compare all three with Rasa's own on every prefix of every test story.

Memoization's and TED's featurizer (`prediction_states`) then took a copy
of every state to keep the last four: it reads them from the end of the
kept replay instead and copies only those.

Installed by bot/rasa_speedups.py.
"""

from __future__ import annotations

import copy
import dataclasses
import operator
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Optional

from rasa.core.featurizers.tracker_featurizers import (
    MaxHistoryTrackerFeaturizer,
    TrackerFeaturizer,
    _is_prev_action_unlikely_intent_in_state,
)
from rasa.shared.core.constants import PREVIOUS_ACTION, USER
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

rasa_past_states = DialogueStateTracker.past_states
rasa_applied_events = DialogueStateTracker.applied_events
rasa_copy = DialogueStateTracker.copy
rasa_prediction_states = MaxHistoryTrackerFeaturizer.prediction_states
# Paused replays: about three per conversation (the policies' flags), for the conversations most recently active.
FOLDS_KEPT = 3 * 1000


def _continues(seen: list[Event], events: Any) -> bool:
    """Whether `events` are the ones already seen (the same objects, in order) plus new ones."""
    # map(operator.is_) compares in C: the generator was 4-5 % of Rasa's CPU in 150-message conversations.
    return len(seen) <= len(events) and all(map(operator.is_, seen, events))


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
    loop_names: set[str]
    applied: list[Event] = field(default_factory=list)


def _loop_names(events: Iterable[Event]) -> set[str]:
    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """DialogueStateTracker.applied_events, continuing from the last call for this conversation.

    Rasa's loop runs over every event each time (and copies the list it builds
    for each form turn): O(turns) per call, several calls per prediction. Its
    outcome for an event depends on the events before it and on the names of
    all the conversation's forms (only whether a name is among them), so the
    paused loop is continued while the events start with the ones seen and
    the new ones name no other form; else it starts over.
    """
    events = self.events
    kept = _applied.get(self.sender_id)
    # Rasa only asks whether a name is among them: a form named again (each activation) changes nothing.
    if kept is not None and (not _continues(kept.seen, events) or not _loop_names(
            islice(events, len(kept.seen), None)) <= kept.loop_names):
        kept = None
    if kept is None:
        kept = _Applied(seen=[], loop_names=_loop_names(events))
    loop_names = kept.loop_names
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
    # Featurizers drop the text or the intent from states' user part in place (the only part any
    # caller changes): each caller gets its own states and user parts.
    return [_own(state) for state in states_now(self, domain, omit_unset_slots, ignore_rule_only_turns,
                                                rule_only_data)]


def _own(state: State) -> State:
    return {**state, USER: dict(state[USER])} if USER in state else dict(state)


def states_now(self: DialogueStateTracker, domain: Domain, omit_unset_slots: bool = False,
               ignore_rule_only_turns: bool = False, rule_only_data: Optional[dict[str, Any]] = None) -> list[State]:
    """past_states's states, shared with the kept replay: for a caller that copies those it keeps."""
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
    return now.states


def prediction_states(self: MaxHistoryTrackerFeaturizer, trackers: list[DialogueStateTracker], domain: Domain,
                      use_text_for_last_user_input: bool = False, ignore_rule_only_turns: bool = False,
                      rule_only_data: Optional[dict[str, Any]] = None,
                      ignore_action_unlikely_intent: bool = False) -> list[list[State]]:
    """MaxHistoryTrackerFeaturizer.prediction_states, copying only the states it keeps.

    Rasa's asks past_states for every state of the conversation, each a fresh
    copy, drops those after action_unlikely_intent (memoization and TED ask
    it to), then keeps the last `max_history` (4 for both) and changes those
    in place: O(turns) copies per prediction. Here the shared states are
    read from the end until enough are found, and only those are copied.
    Another tracker or featurizer class goes to Rasa's own.
    """
    if (type(self)._create_states is not TrackerFeaturizer._create_states
            or any(type(t).past_states is not past_states for t in trackers)):
        return rasa_prediction_states(self, trackers, domain, use_text_for_last_user_input,
                                      ignore_rule_only_turns, rule_only_data, ignore_action_unlikely_intent)
    kept = [[_own(state) for state in _last_states(
        states_now(tracker, domain, ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data),
        self.max_history, ignore_action_unlikely_intent)] for tracker in trackers]
    self._choose_last_user_input(kept, use_text_for_last_user_input)
    return kept


def _last_states(states: list[State], count: Optional[int], drop_unlikely: bool) -> list[State]:
    """The states Rasa would keep: without those after action_unlikely_intent if asked, then the last
    `count` (all of them when `count` is None or 0, as MaxHistoryTrackerFeaturizer.slice_state_history)."""
    if not count:
        return TrackerFeaturizer._remove_action_unlikely_intent_from_states(states) if drop_unlikely else states
    picked: list[State] = []
    for state in reversed(states):
        if not (drop_unlikely and _is_prev_action_unlikely_intent_in_state(state)):
            picked.append(state)
            if len(picked) == count:
                break
    return picked[::-1]


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


_folds: OrderedDict[tuple[Any, ...], _Fold] = OrderedDict()
_applied: OrderedDict[str, _Applied] = OrderedDict()
_copies: OrderedDict[tuple[Any, ...], _Copied] = OrderedDict()


def install() -> None:
    DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
    DialogueStateTracker.copy = copy_tracker  # type: ignore[method-assign]
    MaxHistoryTrackerFeaturizer.prediction_states = prediction_states  # type: ignore[method-assign]
