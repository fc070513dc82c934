"""Database calls for the async gateway: each runs in a worker thread inside
one `Session.begin()`, so the event loop never blocks on the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Optional, TypeVar

from bot.conversations import Said
from bot.db import get_sessionmaker
from bot.models import ChatMessage

T = TypeVar("T")


def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with get_sessionmaker().begin() as s:
        return fn(s, *args, **kwargs)


async def db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(session, *args)` in one transaction, off the event loop."""
    return await asyncio.to_thread(_run, fn, *args, **kwargs)


def wire(m: ChatMessage | Said, link: Optional[Callable[[str], str]] = None) -> dict[str, Any]:
    """A stored message as Rasa's socket.io channel would emit it, plus who said it.

    Rasa widgets read `text`, `quick_replies` and `attachment`; `role`,
    `author`, `id` and `card` are extra keys they ignore. `link` turns a stored
    photo path into the address this reader may fetch it from.
    """
    out: dict[str, Any] = {
        "id": m.id,
        "role": m.role,
        "author": m.author,
        "text": m.text,
        "at": m.created_at.isoformat() + "Z",
    }
    payload = m.payload or {}
    if payload.get("buttons"):
        out["quick_replies"] = [
            {"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")}
            for b in payload["buttons"]
        ]
    if payload.get("image"):
        src = payload["image"]
        out["attachment"] = {"type": "image", "payload": {"src": link(src) if link else src}}
    if payload.get("card"):
        out["card"] = payload["card"]
    if payload.get("notice"):
        out["notice"] = payload["notice"]
    return out


def rasa_messages(wired: dict[str, Any], base: str) -> list[dict[str, Any]]:
    """A message as Rasa's own socket.io channel sends it, for widgets that did not ask for ours
    (rasa-webchat shows a text only when `text` is its only key, buttons only beside `text` alone).

    Like Rasa: the text in paragraphs, buttons on the last one, an image as its own attachment
    message (made absolute with `base`: the widget is on another origin). A card, which those
    widgets cannot draw, comes as its text. The shopper's own messages are not echoed back.
    """
    if wired.get("role") == "shopper":
        return []
    out: list[dict[str, Any]] = []
    text = str(wired.get("text") or "").strip()
    card = wired.get("card")
    if isinstance(card, dict):
        lines = [str(card.get("title") or "")] + [str(line) for line in card.get("lines") or []]
        text = "\n\n".join(t for t in (text, "\n".join(line for line in lines if line)) if t)
    parts = [p for p in text.split("\n\n") if p.strip()]
    buttons = wired.get("quick_replies")
    if buttons:
        parts = parts or [""]
    out.extend({"text": part} for part in parts)
    if buttons:
        out[-1]["quick_replies"] = buttons
    attachment = wired.get("attachment")
    if isinstance(attachment, dict):
        payload = dict(attachment.get("payload") or {})
        src = str(payload.get("src") or "")
        if src.startswith("/"):
            payload["src"] = base.rstrip("/") + src
        out.append({"attachment": {**attachment, "payload": payload}})
    return out


def rasa_reply_payload(reply: dict[str, Any]) -> dict[str, Any]:
    """What of a Rasa REST reply is kept with the stored message."""
    payload: dict[str, Any] = {}
    if reply.get("buttons"):
        payload["buttons"] = reply["buttons"]
    if reply.get("image"):
        payload["image"] = reply["image"]
    custom = reply.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("card"), dict):
        payload["card"] = custom["card"]
    return payload
