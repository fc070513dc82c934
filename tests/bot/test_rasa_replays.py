"""Continued replays give what Rasa's replays from the start give, turn by turn."""

import pytest
from rasa.shared.core.trackers import EventVerbosity

from bot import channel  # noqa: F401 - importing the channel installs them, as in `rasa run`
from tests.conftest import story_conversations


def same_state(a, b) -> None:  # type: ignore[no-untyped-def]
    assert list(map(id, a.events)) == list(map(id, b.events)) and a.events.maxlen == b.events.maxlen
    assert a.current_state(EventVerbosity.ALL) == b.current_state(EventVerbosity.ALL)
    assert {k: (type(v), v.value) for k, v in a.slots.items()} == {k: (type(v), v.value) for k, v in b.slots.items()}
    for name in ("sender_id", "sender_source", "is_rule_tracker", "_paused", "followup_action", "latest_action",
                 "active_loop", "model_id", "assistant_id", "_max_event_history"):
        assert getattr(a, name) == getattr(b, name), name
    # The empty ones a new tracker starts with differ only in when they were made.
    untimed = lambda e: {k: v for k, v in e.as_dict().items() if k != "timestamp"}  # noqa: E731
    assert untimed(a.latest_message) == untimed(b.latest_message)
    assert untimed(a.latest_bot_utterance) == untimed(b.latest_bot_utterance)


def copies_equal_rasas(stories: list, domain) -> None:  # type: ignore[no-untyped-def]
    """Continued copies are Rasa's replayed copies, and changing one changes neither the tracker nor later copies."""
    from rasa.shared.core.events import ActiveLoop, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import rasa_replays

    for number, events in enumerate(stories):
        for k in range(1, len(events) + 1):
            tracker = DialogueStateTracker.from_events(f"copy-{number}", events[:k], domain.slots)
            ours, rasas = rasa_replays.copy_tracker(tracker), rasa_replays.rasa_copy(tracker)
            same_state(ours, rasas)
            if ours.active_loop:
                ours.active_loop.rejected = True
            if ours.latest_action:
                ours.latest_action["action_name"] = "changed"
            ours.slots["order_id"].value = "changed"
            ours.update(SlotSet("language", "en"))
            ours.update(ActiveLoop("cancel_order_form"))
            same_state(rasa_replays.copy_tracker(tracker), rasas)


def test_continued_past_states_equal_rasas_turn_by_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every prefix of every test story (forms whose earlier turns Rasa undoes included), then a rewind
    and a restart: the states continued from the last call equal Rasa's replay from the start."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, Restarted, UserUtteranceReverted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import rasa_replays
    from bot.settings import ROOT

    domain = Domain.load(str(ROOT / "domain"))
    rule_only = {"slots": ["requested_slot"], "loops": ["invoice_form", "case_form"]}
    flag_sets = [{}, {"omit_unset_slots": True},
                 {"ignore_rule_only_turns": True, "rule_only_data": rule_only}, {"rule_only_data": rule_only}]
    checked = 0
    stories = []
    for events in story_conversations(domain)[:40]:
        stories.append(events)
        # As in a live conversation, where actions RulePolicy predicted from rule-only data are hidden.
        hidden, flip = [], False
        for event in events:
            if isinstance(event, ActionExecuted) and event.action_name != "action_listen":
                flip = not flip
                event = ActionExecuted(event.action_name, hide_rule_turn=flip)
            hidden.append(event)
        stories.append(hidden)
    # A form run twice before its activation is logged (it failed, say): Rasa undoes the earlier run
    # only once it knows the name is a form's, which the continued loop must notice.
    user = UserUttered("开发票", {"name": "request_invoice", "confidence": 1.0})
    stories.append([ActionExecuted("action_listen"), user, ActionExecuted("invoice_form"),
                    ActionExecuted("invoice_form"), ActiveLoop("invoice_form"), ActionExecuted("action_listen")])
    started_over: list[int] = []
    fold = rasa_replays._Fold
    monkeypatch.setattr(rasa_replays, "_Fold", lambda **kw: started_over.append(1) or fold(**kw))
    for number, events in enumerate(stories):
        events += [UserUtteranceReverted(), Restarted(), ActionExecuted("action_listen"),
                   UserUttered("hi", {"name": "greet", "confidence": 1.0})]
        for k in range(1, len(events) + 1):
            tracker = DialogueStateTracker.from_events(f"story-{number}", events[:k], domain.slots)
            for flags in flag_sets:
                ours = rasa_replays.past_states(tracker, domain, **flags)
                # Rasa's own, all the way: its past_states calling its applied_events.
                monkeypatch.setattr(DialogueStateTracker, "applied_events", rasa_replays.rasa_applied_events)
                assert ours == rasa_replays.rasa_past_states(tracker, domain, **flags), (number, k, flags)
                monkeypatch.setattr(DialogueStateTracker, "applied_events", rasa_replays.applied_events)
                assert rasa_replays.applied_events(tracker) == rasa_replays.rasa_applied_events(tracker)
                checked += 1
    assert checked > 1000
    copies_equal_rasas(stories, domain)
    # Mostly continued: started over for a new conversation, an undone form turn, the rewind and the restart.
    assert len(started_over) - checked < checked / 3, (len(started_over), checked)


def test_kept_past_states_equal_rasas_and_are_each_callers_own() -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import rasa_replays
    from bot.settings import ROOT

    domain = Domain.load(str(ROOT / "domain"))
    tracker = DialogueStateTracker.from_events("s", [
        ActionExecuted("action_listen"),
        UserUttered("开发票", {"name": "request_invoice", "confidence": 1.0}),
        SlotSet("language", "zh"),
        ActionExecuted("invoice_form"), ActiveLoop("invoice_form"), SlotSet("requested_slot", "order_id"),
        ActionExecuted("action_listen"),
        UserUttered("P20261111001", {"name": "inform", "confidence": 1.0}, [{"entity": "order_id",
                                                                             "value": "P20261111001"}]),
        ActionExecuted("invoice_form"), SlotSet("order_id", "P20261111001"),
    ], domain.slots)
    rule_only = {"slots": ["requested_slot"], "loops": ["invoice_form"]}
    for omit in (False, True):
        for ignore in (False, True):
            flags = {"omit_unset_slots": omit, "ignore_rule_only_turns": ignore, "rule_only_data": rule_only}
            rasas = rasa_replays.rasa_past_states(tracker, domain, **flags)
            first = rasa_replays.past_states(tracker, domain, **flags)
            assert first == rasas and len(first) >= 3
            first[-1].pop("user", None)  # a caller's changes are not seen by the next caller
            for state in first:
                state.get("user", {}).pop("text", None)  # as featurizers drop the text
            assert rasa_replays.past_states(tracker, domain, **flags) == rasas
    before = rasa_replays.past_states(tracker, domain)
    tracker.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))  # new events: continued
    tracker.update(ActionExecuted("utter_greet"))
    after = rasa_replays.past_states(tracker, domain)
    assert after == rasa_replays.rasa_past_states(tracker, domain) and after != before
    assert DialogueStateTracker.past_states is rasa_replays.past_states  # installed by the channel import


def test_prediction_states_copy_only_what_they_keep_and_equal_rasas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Memoization's and TED's featurizer (the last 4 states) and RulePolicy's (all of them), on every
    prefix of the test stories: the same states as Rasa's, each call's its own to change."""
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.shared.core.constants import ACTION_UNLIKELY_INTENT_NAME
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import rasa_replays
    from bot.settings import ROOT

    assert MaxHistoryTrackerFeaturizer.prediction_states is rasa_replays.prediction_states
    domain = Domain.load(str(ROOT / "domain"))
    rule_only = {"slots": ["requested_slot"], "loops": ["invoice_form", "case_form"]}
    featurizers = [MaxHistoryTrackerFeaturizer(max_history=4), MaxHistoryTrackerFeaturizer(max_history=None)]
    flag_sets = [{}, {"use_text_for_last_user_input": True},
                 {"ignore_rule_only_turns": True, "rule_only_data": rule_only, "ignore_action_unlikely_intent": True},
                 {"ignore_action_unlikely_intent": True}]
    checked = longest = 0

    def rasas(featurizer: MaxHistoryTrackerFeaturizer, tracker: DialogueStateTracker, flags: dict) -> list:
        """Rasa's own all the way down: its featurizer, past_states and applied_events."""
        with monkeypatch.context() as m:
            m.setattr(DialogueStateTracker, "past_states", rasa_replays.rasa_past_states)
            m.setattr(DialogueStateTracker, "applied_events", rasa_replays.rasa_applied_events)
            return rasa_replays.rasa_prediction_states(featurizer, [tracker], domain, **flags)

    stories = []
    for events in story_conversations(domain)[:25]:
        stories.append(events)
        # As TED's intent checker would log it: the states after it are dropped for memoization and TED.
        stories.append([e for event in events for e in (
            [event, ActionExecuted(ACTION_UNLIKELY_INTENT_NAME)] if isinstance(event, UserUttered) else [event])])
    for number, events in enumerate(stories):
        for k in range(1, len(events) + 1):
            tracker = DialogueStateTracker.from_events(f"p-{number}", events[:k], domain.slots)
            for featurizer in featurizers:
                for flags in flag_sets:
                    ours = rasa_replays.prediction_states(featurizer, [tracker], domain, **flags)
                    expected = rasas(featurizer, tracker, flags)
                    assert ours == expected, (number, k, featurizer.max_history, flags)
                    for state in ours[0]:  # what a caller may do to its states...
                        state.get("user", {}).clear()
                    # ...is not seen by the next caller
                    assert rasa_replays.prediction_states(featurizer, [tracker], domain, **flags) == expected
                    checked += 1
                    longest = max(longest, len(ours[0]))
    assert checked > 1000 and longest > 4  # histories longer than what memoization keeps
