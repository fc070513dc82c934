"""Rasa's stages on the clock for `make bench` (bot/timing.py): installed only when timing is on.

Wraps, without changing what they do, the processor's steps a message goes
through: reading and saving the tracker, NLU, each policy prediction, and
each call to the action server.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor

from bot import timing


def _clocked(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with timing.timed(stage):
            return fn(*args, **kwargs)

    return run


def _clocked_async(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await timing.timed_async(stage, fn(*args, **kwargs))

    return run


def install() -> None:
    if getattr(MessageProcessor, "_shop_timed", False):
        return
    MessageProcessor._shop_timed = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = _clocked_async("handle", MessageProcessor.handle_message)  # type: ignore[method-assign]
    MessageProcessor.parse_message = _clocked_async("nlu", MessageProcessor.parse_message)  # type: ignore[method-assign]
    MessageProcessor.get_tracker = _clocked_async("tracker store", MessageProcessor.get_tracker)  # type: ignore[method-assign]
    MessageProcessor.save_tracker = _clocked_async("tracker store", MessageProcessor.save_tracker)  # type: ignore[method-assign]
    MessageProcessor._predict_next_with_tracker = _clocked(  # type: ignore[method-assign]
        "policies", MessageProcessor._predict_next_with_tracker)
    RemoteAction.run = _clocked_async("actions", RemoteAction.run)  # type: ignore[method-assign]
