"""The rasa-sdk action server, answering only the local Rasa.

    python -m bot.action_server --port 5055      (make run starts it)

rasa-sdk trusts whatever tracker is posted to it, sender id included, so it
listens on `SERVICE_HOST` (127.0.0.1 unless configured) and refuses a webhook
call without `Authorization: Bearer <INTERNAL_TOKEN>`, which endpoints.yml
makes Rasa send.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any, Optional

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import heap, keys, timing
from bot.db import get_engine
from bot.keys import bearer_ok
from bot.settings import service_host


def build(token: str) -> Sanic:
    # No CORS: no browser page has any business here.
    app = create_app("actions", cors_origins=None)

    @app.middleware("request")
    async def authorise(request: Request) -> Optional[HTTPResponse]:
        if request.path != "/health" and not bearer_ok(request.headers.get("authorization"), token):
            return response.json({"error": "unauthorised"}, status=401)
        return None

    app.after_server_start(lambda app, loop: heap.settle())
    return app


def install_timing() -> None:
    """The action server's share of a message: running actions, and the database within."""
    timing.time_database(get_engine())
    run = ActionExecutor.run

    async def timed_run(self: ActionExecutor, action_call: Any) -> Any:
        return await timing.timed_async("run", run(self, action_call))

    ActionExecutor.run = timed_run  # type: ignore[method-assign]


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    app = build(keys.get("INTERNAL_TOKEN"))
    if timing.start("actions"):  # make bench: where a message's time goes
        install_timing()
    app.run(service_host(), args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
