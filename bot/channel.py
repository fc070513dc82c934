"""Rasa's input channel for the gateway: the REST webhook, closed to everyone else.

Listed in credentials.yml as `bot.channel.GatewayInput`; it serves
`/webhooks/gateway/webhook`, and `/webhooks/gateway/trigger`, where the
gateway's outreach sweep makes the bot speak first (an `EXTERNAL_` intent,
as Rasa's own trigger_intent endpoint does, without opening Rasa's HTTP API).
Whoever can post there chooses the sender id,
that is whose orders the bot reads, so every request must carry
`Authorization: Bearer <INTERNAL_TOKEN>`, which only the gateway holds.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import heap, keys, rasa_speedups, rasa_timing, timing
from bot.keys import bearer_ok
from bot.review import VERDICT

EXTERNAL_PREFIX = "EXTERNAL_"
rasa_speedups.install()  # this module is what Rasa imports of ours at start-up
# Appended to the replies when an action could not run: the gateway then keeps the message for a retry.
ACTION_FAILED = {"action_failed": True}

# Messages Rasa works on at once; the others wait their turn, first come first served. Rasa runs
# NLU and policies on its one event loop: with every waiting message admitted, a message that
# awaits the action server resumes only after all the others' work, so answers came late and
# unevenly. A few at once keep the loop busy while one of them awaits an action.
CONCURRENT_MESSAGES = int(os.environ.get("RASA_CONCURRENT_MESSAGES", "4"))

# The failures noted while this message is handled (one list per message, shared by any task it starts).
_failures: ContextVar[Optional[list[str]]] = ContextVar("shop_action_failures", default=None)


class _ActionFailureWatch(logging.Handler):
    """Rasa logs an action it could not run (the action server down or erring) and carries on
    without that action's events, answering as if nothing happened ("I didn't understand").
    This notes the failure for the message being handled, so the shopper is told instead."""

    def emit(self, record: logging.LogRecord) -> None:
        found = _failures.get()
        said = record.getMessage()
        if found is not None and said.startswith(_FAILURE_LINES):
            found.append(said[:200])


# What Rasa 3.6 logs (at ERROR) when it runs an action without success, and its loggers.
_FAILURE_LINES = ("Encountered an exception while running action", "Failed to run custom action")
_WATCHED = ("rasa.core.processor", "rasa.core.actions.action")
_watch = _ActionFailureWatch(level=logging.ERROR)


async def verdict(app: Any, message: UserMessage) -> Optional[dict[str, Any]]:
    """The intent and confidence NLU gave this message, as its tracker keeps them."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    tracker = await agent.tracker_store.retrieve(message.sender_id)
    for event in reversed(tracker.events if tracker else []):
        if isinstance(event, UserUttered) and event.message_id == message.message_id:
            intent = event.intent or {}
            return {"intent": intent.get("name"), "confidence": float(intent.get("confidence") or 0.0)}
    return None


class GatewayInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> GatewayInput:
        return cls(keys.get("INTERNAL_TOKEN"))

    def __init__(self, token: str) -> None:
        self.token = token

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if timing.start("rasa"):  # make bench: where a message's time goes (only Rasa builds this)
            rasa_timing.install()
        for name in _WATCHED:
            if _watch not in logging.getLogger(name).handlers:
                logging.getLogger(name).addHandler(_watch)

        admitted = asyncio.Semaphore(CONCURRENT_MESSAGES)
        served: dict[str, Any] = {}

        async def watched(message: UserMessage) -> None:
            failures: list[str] = []
            token = _failures.set(failures)
            try:
                async with admitted:
                    await on_new_message(message)
            finally:
                _failures.reset(token)
            if failures:
                await message.output_channel.send_custom_json(message.sender_id, ACTION_FAILED)
            try:
                found = await verdict(served.get("app"), message)
            except Exception:  # noqa: BLE001 - the verdict is for the review list: it never costs an answer
                logging.getLogger(__name__).exception("no NLU verdict for %s", message.sender_id)
                found = None
            if found:
                await message.output_channel.send_custom_json(message.sender_id, {VERDICT: found})

        blueprint = super().blueprint(watched)
        blueprint.after_server_stop(lambda app, loop: rasa_speedups.close_sessions())
        # The model is loaded by now (Rasa loads it before the server starts).
        blueprint.after_server_start(lambda app, loop: heap.settle())
        blueprint.after_server_start(lambda app, loop: served.update(app=app))

        @blueprint.middleware("request")
        async def authorise(request: Request) -> Optional[HTTPResponse]:
            if request.method == "POST" and not bearer_ok(request.headers.get("authorization"), self.token):
                return response.json({"error": "unauthorised"}, status=401)
            return None

        @blueprint.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            # Rasa's own "/" answers even when its model failed to load (a renamed component, a
            # damaged file): every message would then go unanswered. `make run` waits for this.
            agent = request.app.ctx.agent
            loaded = agent is not None and agent.is_ready()
            return response.json({"ready": loaded}, status=200 if loaded else 503)

        @blueprint.route("/trigger", methods=["POST"])
        async def trigger(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender, intent, entities = body.get("sender"), body.get("intent"), body.get("entities") or {}
            agent = request.app.ctx.agent
            if (not isinstance(sender, str) or not sender or not isinstance(intent, str)
                    or not intent.startswith(EXTERNAL_PREFIX) or not isinstance(entities, dict)):
                return response.json({"error": "malformed"}, status=400)
            if agent is None or not agent.is_ready():
                return response.json({"error": "not ready"}, status=503)
            if intent not in agent.domain.intents:
                return response.json({"error": "unknown intent"}, status=404)
            collector = CollectingOutputChannel()
            # The same lock and session handling as Rasa's /conversations/<id>/trigger_intent.
            async with agent.lock_store.lock(sender):
                tracker = await agent.processor.fetch_tracker_and_update_session(sender, collector)
                await agent.trigger_intent(intent, [{"entity": k, "value": str(v)} for k, v in entities.items()],
                                           collector, tracker)
            return response.json(collector.messages)

        return blueprint
