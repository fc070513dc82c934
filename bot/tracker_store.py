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

Listed in endpoints.yml (`type: bot.tracker_store.LiveTrackerStore`).

The scaled shape's store, `LiveSQLTrackerStore`, is Rasa's SQL tracker store
with the same idea: several Rasa servers share the database, so a kept
tracker is used only while what the database holds for the conversation
(how many events of its last session, and the newest one's id: one indexed
query) is what this server saved last; otherwise the conversation is read
from the database as Rasa does.
"""

from __future__ import annotations

from collections import OrderedDict
from itertools import islice
from typing import Any, Optional

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
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


class LiveSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, live_trackers: int = LIVE_TRACKERS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.live_trackers = int(live_trackers)
        # sender id -> (the tracker, what the database held for it when it was saved)
        self.live: OrderedDict[str, tuple[DialogueStateTracker, tuple[int, Optional[int]]]] = OrderedDict()

    def _stored(self, sender_id: str) -> tuple[int, Optional[int]]:
        """How many events Rasa would read back for the conversation (its last session), and the newest's id."""
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            count, newest = query.order_by(None).with_entities(sa.func.count(), sa.func.max(self.SQLEvent.id)).one()
            return int(count), newest

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        stored = self._stored(tracker.sender_id)
        self.live.pop(tracker.sender_id, None)
        # Kept only when it is exactly what Rasa would read back (Rasa's save counts on that too).
        if stored[0] == len(tracker.events):
            self.live[tracker.sender_id] = (tracker, stored)
            while len(self.live) > self.live_trackers:
                self.live.popitem(last=False)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        kept = self.live.pop(sender_id, None)
        if kept is not None:
            tracker, stored = kept
            if len(tracker.events) == stored[0] and self._stored(sender_id) == stored:
                self.live[sender_id] = kept
                return tracker
        # Not kept, changed and not saved, or another server wrote to it since: read as Rasa does.
        return await super().retrieve(sender_id)
