"""Evidence photos from the widget: images only, checked by their bytes, size-limited.

The widget posts the raw image as the request body with the shopper's token
(`Authorization: Bearer …`) and, optionally, the case number (`X-Case-No`).
The size is enforced while the body streams in. A photo is served to logged-in
agents, and to its shopper through a signed link that only their own
conversation is ever sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional
from urllib.parse import quote
from uuid import uuid4

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response

from bot import conversations as conv
from bot import shop
from bot.gateway.store import db
from bot.gateway.texts import notice
from bot.models import Photo
from bot.settings import ROOT

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

MAX_BYTES = 5 * 1024 * 1024
LINK_AGE = 24 * 3600  # a shopper's photo link works this long; history hands out fresh ones
UPLOAD_DIR = ROOT / "var" / "uploads"
PREFIX = "/uploads/"
# The file's first bytes decide what it is, never its name or declared type.
SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"GIF87a", "gif", "image/gif"),
    (b"GIF89a", "gif", "image/gif"),
]


def sniff(head: bytes) -> Optional[tuple[str, str]]:
    for magic, ext, mime in SIGNATURES:
        if head.startswith(magic):
            return ext, mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", "image/webp"
    return None


class TooLarge(Exception):
    pass


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` bytes, whatever Content-Length claimed."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(code: str, status: int, **extra: object) -> JSONResponse:
    return JSONResponse({"error": code, **extra}, status_code=status)


class Uploads:
    def __init__(self, gateway: Gateway, secret: str) -> None:
        self.g = gateway
        self.links = URLSafeTimedSerializer(secret, salt="photo-link")
        UPLOAD_DIR.mkdir(parents=True, exist_ok=True)

    def link(self, src: str) -> str:
        """A stored photo path as its shopper may fetch it: signed, expiring."""
        if not src.startswith(PREFIX):
            return src
        name = src[len(PREFIX):]
        return f"{PREFIX}{quote(name)}?sig={self.links.dumps(name)}"

    async def upload(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        who = self.g.identities.from_token(header[7:] if header.startswith("Bearer ") else None)
        if who is None:
            return _error("login_required", 401, text=notice("login_needed", "zh"))
        if int(request.headers.get("content-length") or 0) > MAX_BYTES:
            return _error("too large", 413, max_bytes=MAX_BYTES)
        verdict = await self.g.limits.hit("upload", who.conversation_id)
        if not verdict.allowed:
            return _error("rate_limited", 429, retry_after=verdict.retry_after)
        try:
            data = await read_capped(request, MAX_BYTES)
        except TooLarge:
            return _error("too large", 413, max_bytes=MAX_BYTES)
        except ClientDisconnect:
            return _error("incomplete", 400)
        kind = sniff(data[:16])
        if kind is None:
            return _error("images only (PNG, JPEG, GIF, WebP)", 415)
        ext, mime = kind
        cid = who.conversation_id
        # Named by the shopper's id, as the shop files evidence (WORKFLOWS.md).
        filename = f"{cid}-{uuid4().hex[:12]}.{ext}"
        (UPLOAD_DIR / filename).write_bytes(data)
        case_no = request.headers.get("x-case-no", "")[:32]

        def record(s: Session) -> tuple[Optional[str], str]:
            c = conv.ensure(s, cid)
            case = shop.find_case(s, c.shopper_id, case_no) if case_no and c.shopper_id else None
            s.add(Photo(conversation_id=cid, case_id=case.id if case else None, filename=filename,
                        content_type=mime, size=len(data)))
            if case is not None:
                s.flush()
                count = s.execute(select(func.count(Photo.id)).where(Photo.case_id == case.id)).scalar_one()
                shop.evidence_arrived(s, case, count)  # "awaiting photos" ends when the evidence is in
            return (case.case_no if case else None), c.language

        linked_case, lang = await db(record)
        await self.g.shoppers.say(cid, "shopper", "", payload={"image": f"{PREFIX}{filename}"})
        extra = notice("photo_case", lang, case_no=linked_case) if linked_case else ""
        await self.g.shoppers.say(cid, "system", notice("photo_received", lang, case=extra))
        return JSONResponse({"ok": True, "url": self.link(f"{PREFIX}{filename}"), "case_no": linked_case})

    async def serve(self, request: Request) -> Response:
        name = Path(request.path_params["name"]).name
        allowed = await self.g.console.agent_of(request) is not None
        if not allowed:
            try:
                allowed = self.links.loads(request.query_params.get("sig", ""), max_age=LINK_AGE) == name
            except BadSignature:
                allowed = False
        path = UPLOAD_DIR / name
        # The same answer for "not yours" and "not there".
        if not allowed or not path.is_file():
            return _error("not found", 404)
        return FileResponse(path, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private"})
