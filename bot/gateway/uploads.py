"""Evidence photos from the widget: images only, checked by their bytes, size-limited."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional
from uuid import uuid4

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from bot import conversations as conv
from bot.gateway.console import case_for
from bot.gateway.shopper import _SESSION_ID
from bot.gateway.store import db
from bot.gateway.texts import notice
from bot.models import Photo
from bot.settings import ROOT

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

MAX_BYTES = 5 * 1024 * 1024
UPLOAD_DIR = ROOT / "var" / "uploads"
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


class Uploads:
    def __init__(self, gateway: Gateway) -> None:
        self.g = gateway
        UPLOAD_DIR.mkdir(parents=True, exist_ok=True)

    async def upload(self, request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_BYTES + 64 * 1024:
            return JSONResponse({"error": "too large", "max_bytes": MAX_BYTES}, status_code=413)
        form = await request.form(max_files=1, max_fields=5)
        session_id = str(form.get("session_id") or "")
        upload = form.get("file")
        if not _SESSION_ID.match(session_id) or upload is None or isinstance(upload, str):
            return JSONResponse({"error": "session_id and file required"}, status_code=400)
        data = await upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return JSONResponse({"error": "too large", "max_bytes": MAX_BYTES}, status_code=413)
        kind = sniff(data[:16])
        if kind is None:
            return JSONResponse({"error": "images only (PNG, JPEG, GIF, WebP)"}, status_code=415)
        ext, mime = kind
        # Named by the shopper's id, as the shop files evidence (WORKFLOWS.md).
        filename = f"{session_id}-{uuid4().hex[:12]}.{ext}"
        (UPLOAD_DIR / filename).write_bytes(data)
        case_no = str(form.get("case_no") or "")[:32]

        def record(s: Session) -> tuple[Optional[str], str]:
            c = conv.ensure(s, session_id)
            case = case_for(s, c.shopper_id, case_no) if case_no and c.shopper_id else None
            s.add(Photo(conversation_id=session_id, case_id=case.id if case else None, filename=filename,
                        content_type=mime, size=len(data)))
            return (case.case_no if case else None), c.language

        linked_case, lang = await db(record)
        await self.g.shoppers.say(session_id, "shopper", "", payload={"image": f"/uploads/{filename}"})
        extra = notice("photo_case", lang, case_no=linked_case) if linked_case else ""
        await self.g.shoppers.say(session_id, "system", notice("photo_received", lang, case=extra))
        return JSONResponse({"ok": True, "url": f"/uploads/{filename}", "case_no": linked_case})

    async def serve(self, request: Request) -> Response:
        name = Path(request.path_params["name"]).name
        path = UPLOAD_DIR / name
        if not path.is_file():
            return JSONResponse({"error": "not found"}, status_code=404)
        return FileResponse(path, headers={"X-Content-Type-Options": "nosniff"})


