"""The embedded default's tracker store: Rasa's in-memory store, without re-reading every conversation.

Rasa's `InMemoryTrackerStore` keeps each conversation as JSON text, so every
message rebuilds the whole tracker from it (parse, then replay every event)
and every save writes it all out again: a message late in a long
conversation costs more than an early one. This store keeps the most recent
conversations as the tracker objects themselves, which the next message
continues; older ones are written out as Rasa's JSON and read back on their
next message, as before.

Rasa hands a conversation to one message at a time (its lock store), so the
kept object is never used by two at once. What a message changed and did not
save (Rasa failed midway) is dropped, as Rasa's store would: the tracker is
rebuilt from the events it had when saved.

Listed in endpoints.yml (`type: bot.tracker_store.LiveTrackerStore`); the
scaled shape uses Rasa's SQL tracker store instead.
"""

from __future__ import annotations

from collections import OrderedDict
from itertools import islice
from typing import Any, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions

# Conversations kept as objects (about 0.2 MB each after 50 turns); the rest as JSON text.
LIVE_TRACKERS = 2000


def _several_sessions(tracker: DialogueStateTracker) -> bool:
    """Whether Rasa would split the events in sessions (a session start after the first event):
    a scan, not the replay of every event Rasa's split does even for one session."""
    return any(isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME
               for event in islice(tracker.events, 1, None))


class LiveTrackerStore(InMemoryTrackerStore):
    def __init__(self, domain: Domain, event_broker: Optional[EventBroker] = None,
                 live_trackers: int = LIVE_TRACKERS, host: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(domain, event_broker, **kwargs)
        self.live_trackers = int(live_trackers)
        # sender id -> (the tracker, how many events it had when saved)
        self.live: OrderedDict[str, tuple[DialogueStateTracker, int]] = OrderedDict()

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender = tracker.sender_id
        self.store.pop(sender, None)
        self.live[sender] = (tracker, len(tracker.events))
        self.live.move_to_end(sender)
        while len(self.live) > self.live_trackers:
            old_sender, (old, saved) = self.live.popitem(last=False)
            self.store[old_sender] = self.serialise_tracker(self._as_saved(old, saved))

    async def keys(self) -> Any:
        return list(self.live.keys()) + list(self.store.keys())

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool) -> Optional[DialogueStateTracker]:
        kept = self.live.get(sender_id)
        if kept is None:
            # Never seen, or written out as JSON: Rasa's own store reads it (and we keep it from now on).
            return await super()._retrieve(sender_id, fetch_all_sessions)
        tracker, saved = kept
        if len(tracker.events) != saved:
            tracker = self._as_saved(tracker, saved)
            self.live[sender_id] = (tracker, saved)
        self.live.move_to_end(sender_id)
        if fetch_all_sessions or not _several_sessions(tracker):
            return tracker
        # Only the last session, as Rasa's store returns (and then saves: the earlier ones are gone).
        return get_trackers_for_conversation_sessions(tracker)[-1]

    def _as_saved(self, tracker: DialogueStateTracker, saved: int) -> DialogueStateTracker:
        """The tracker as it was saved: rebuilt when events were added after that."""
        if len(tracker.events) == saved:
            return tracker
        rebuilt = self.init_tracker(tracker.sender_id)
        rebuilt.recreate_from_dialogue(Dialogue(tracker.sender_id, list(tracker.events)[:saved]))
        return rebuilt
