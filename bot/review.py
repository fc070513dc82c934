"""Learning from the shop's own conversations: the review list and the reviewed training file.

Every shopper message the bot answered keeps what NLU made of it (intent and
confidence, `record_verdict`). The console lists the ones the bot fell back on,
was unsure about or an agent flagged (`policy.review_reason`); an agent labels
each with the right intent, or out of scope. `make train` first adds the
labelled messages to data/nlu/reviewed/labelled.yml (`export`), each block saying who
labelled it and when, so the next model learns them and the file can be read
and reviewed like any training data. The file only grows: a reseeded database
does not take back what agents taught.

    python -m bot.review export    # what `make train` runs
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from bot import policy
from bot.clock import utcnow
from bot.models import ChatMessage
from bot.settings import ROOT

# Beside the hand-written data, not among it: bot.nlu.real_rows measures itself against that.
REVIEWED = ROOT / "data" / "nlu" / "reviewed" / "labelled.yml"
NLU_DATA = ROOT / "data" / "nlu"
OUT_OF_SCOPE = "out_of_scope"
# The key of the custom reply bot/channel.py appends with NLU's verdict on the message it answered.
VERDICT = "nlu"
# How far back the list looks: recent conversations are what a shop learns from.
WINDOW = timedelta(days=30)
SCANNED = 5000
ANNOTATION = re.compile(r"\]\s*[({]")
HEADER = ("# Shopper messages labelled by the shop's agents in the console (bot/review.py);\n"
          "# `make train` adds new labels here. Each block names the message, who labelled it and when.\n")


@lru_cache(maxsize=1)
def labels() -> tuple[str, ...]:
    """The intents a shopper's words can be labelled with: those the NLU data teaches from text."""
    found: set[str] = set()
    for path in NLU_DATA.glob("*.yml"):
        found |= {block["intent"] for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", [])
                  if "intent" in block}
    return tuple(sorted(found))


def split_verdict(replies: list[dict[str, Any]]) -> tuple[Optional[dict[str, Any]], list[dict[str, Any]]]:
    """Rasa's replies without the verdict bot/channel.py appended, and the verdict."""
    found, rest = None, []
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get(VERDICT), dict):
            found = custom[VERDICT]
        else:
            rest.append(reply)
    return found, rest


def record_verdict(s: Session, message_id: int, intent: Optional[str], confidence: Any) -> None:
    """What NLU made of a shopper message, kept with it."""
    message = s.get(ChatMessage, message_id)
    if message is None or message.role != "shopper":
        return
    try:
        sure = round(min(max(float(confidence), 0.0), 1.0), 4)
    except (TypeError, ValueError):
        sure = 0.0
    name = intent if isinstance(intent, str) and intent else "nlu_fallback"
    message.payload = {**(message.payload or {}), "nlu": {"intent": name[:64], "confidence": sure}}


def _row(m: ChatMessage, reason: str) -> dict[str, Any]:
    nlu = (m.payload or {}).get("nlu") or {}
    return {"id": m.id, "conversation": m.conversation_id, "text": m.text, "at": m.created_at.isoformat() + "Z",
            "intent": nlu.get("intent"), "confidence": nlu.get("confidence"), "reason": reason,
            "flagged_by": ((m.payload or {}).get("flag") or {}).get("by")}


def to_review(s: Session, limit: int = 100, now: Optional[datetime] = None) -> list[dict[str, Any]]:
    """Unlabelled shopper messages the bot fell back on, was unsure about, or an agent flagged; newest first."""
    since = (now or utcnow()) - WINDOW
    recent = s.scalars(select(ChatMessage).where(ChatMessage.role == "shopper", ChatMessage.created_at >= since)
                       .order_by(ChatMessage.id.desc()).limit(SCANNED))
    found = []
    for m in recent:
        payload = m.payload or {}
        nlu = payload.get("nlu")
        if "label" in payload or not (nlu or "flag" in payload):
            continue
        nlu = nlu or {}
        reason = policy.review_reason(nlu.get("intent", "?"), float(nlu.get("confidence", 1.0)), "flag" in payload)
        if reason:
            found.append(_row(m, reason))
            if len(found) >= limit:
                break
    return found


def _shopper_message(s: Session, message_id: int) -> Optional[ChatMessage]:
    message = s.get(ChatMessage, message_id)
    return message if message is not None and message.role == "shopper" and message.text.strip() else None


def flag(s: Session, message_id: int, agent: str, now: Optional[datetime] = None) -> bool:
    message = _shopper_message(s, message_id)
    if message is None:
        return False
    message.payload = {**(message.payload or {}), "flag": {"by": agent, "at": (now or utcnow()).isoformat() + "Z"}}
    return True


def label(s: Session, message_id: int, intent: str, agent: str, now: Optional[datetime] = None) -> Optional[str]:
    """None when labelled, else why not ("bad_intent", "not_found")."""
    if intent not in labels():
        return "bad_intent"
    message = _shopper_message(s, message_id)
    if message is None:
        return "not_found"
    message.payload = {**(message.payload or {}),
                       "label": {"intent": intent, "by": agent, "at": (now or utcnow()).isoformat() + "Z"}}
    return None


def labelled(s: Session) -> list[dict[str, Any]]:
    """Every labelled shopper message, oldest first, as the reviewed file keeps it."""
    rows = []
    # Only messages whose payload's text names a label are read (SQLite and PostgreSQL alike); the
    # rest of a shop's transcripts, maybe millions of rows, stay in the database.
    maybe = cast(ChatMessage.payload, Text).like('%"label"%')
    for m in s.scalars(select(ChatMessage).where(ChatMessage.role == "shopper", maybe).order_by(ChatMessage.id)):
        found = (m.payload or {}).get("label")
        if found:
            rows.append({"message": f"{m.conversation_id}/{m.id}", "text": " ".join(m.text.split()),
                         "intent": found["intent"], "labelled_by": found["by"], "labelled_at": found["at"]})
    return rows


def read(path: Path = REVIEWED) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [{"message": b["metadata"]["message"], "text": b["examples"].splitlines()[0][2:], "intent": b["intent"],
             "labelled_by": b["metadata"]["labelled_by"], "labelled_at": b["metadata"]["labelled_at"]}
            for b in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", [])]


def render(rows: list[dict[str, Any]]) -> str:
    blocks = [{"intent": r["intent"], "metadata": {k: r[k] for k in ("message", "labelled_by", "labelled_at")},
               "examples": f"- {r['text']}\n"} for r in rows]
    body = yaml.dump({"version": "3.1", "nlu": blocks}, allow_unicode=True, sort_keys=False, width=1000,
                     Dumper=_BlockDumper)
    return HEADER + body


class _BlockDumper(yaml.SafeDumper):
    """Examples as Rasa writes them: a literal block (`examples: |`)."""


_BlockDumper.add_representer(str, lambda d, v: d.represent_scalar(
    "tag:yaml.org,2002:str", v, style="|" if "\n" in v else None))


def merged(kept: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The file's rows with the database's added; a message labelled again takes its new label.

    Left out, as bot.nlu.real_rows leaves out real rows: a message that is, or is a close edit of,
    a sentence the model is measured on, and one the hand-written data already has. Also one that
    Rasa would read as an entity annotation ("[x](y)").
    """
    from bot.nlu.real_rows import close_to_measured, measured_keys, own_keys
    from bot.text import sentence_key

    rows = {r["message"]: r for r in kept}
    rows.update({r["message"]: r for r in new})
    keys = {m: sentence_key(r["text"]) for m, r in rows.items()}
    unwanted = close_to_measured(list(keys.values()), measured_keys()) | own_keys()
    return [r for m, r in rows.items() if keys[m] and keys[m] not in unwanted and not ANNOTATION.search(r["text"])]


def export(s: Session, path: Path = REVIEWED) -> int:
    """Add the database's labels to the reviewed file; how many rows it holds now (0: no file)."""
    kept = read(path)
    rows = merged(kept, labelled(s))
    if rows != kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(rows), encoding="utf-8")
    return len(rows)


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["export"]:
        print(__doc__)
        return 2
    from bot.db import get_sessionmaker

    before = len(read())
    with get_sessionmaker().begin() as s:
        total = export(s)
    if total != before:
        print(f"reviewed: {total - before:+d} labelled shopper messages -> {REVIEWED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
