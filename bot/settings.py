"""Process-wide settings read from the environment (one place, no scattering)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = ROOT / "var" / "shop.db"


def database_url() -> str:
    """`DATABASE_URL` wins; the embedded default is a SQLite file under var/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    DEFAULT_DB_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DB_PATH}"


DEMO = "demo"


def is_demo() -> bool:
    """Only `SHOP_ENV=demo` (which `make run` and the test stacks set) turns the demo conveniences on:
    demo tokens for any shopper, demo passwords, cookies over plain HTTP."""
    return os.environ.get("SHOP_ENV", "").strip().lower() == DEMO


def is_production() -> bool:
    """Anything but a process told it is a demo: a deployment that forgets SHOP_ENV fails closed."""
    return not is_demo()


def service_host() -> str:
    """Where Rasa and the action server listen: only this machine unless configured."""
    return os.environ.get("SERVICE_HOST", "127.0.0.1").strip() or "127.0.0.1"


def trusted_proxies() -> list[str]:
    """`TRUSTED_PROXIES`: addresses or networks (comma-separated) of the reverse proxies whose
    X-Forwarded-For names the client. Default none: the address is the connection's, so a client
    cannot pick the key its rate limits are counted under."""
    return [p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]


def gateway_port() -> int:
    return int(os.environ.get("GATEWAY_PORT", "8000"))


def public_url() -> str:
    """`PUBLIC_URL`: where browsers reach the gateway (https://chat.example-shop.com); images sent to
    widgets on another origin are linked from here."""
    return os.environ.get("PUBLIC_URL", "").strip().rstrip("/") or f"http://127.0.0.1:{gateway_port()}"


def widget_origins() -> list[str]:
    """Pages allowed to embed the widget: `WIDGET_ORIGINS` (comma-separated), else the gateway's own."""
    listed = [o.strip().rstrip("/") for o in os.environ.get("WIDGET_ORIGINS", "").split(",") if o.strip()]
    own = [f"http://127.0.0.1:{gateway_port()}", f"http://localhost:{gateway_port()}"]
    return list(dict.fromkeys(own + listed))


def outreach_seconds() -> float:
    """How often the gateway looks for what the bot should say first (0 turns outreach off)."""
    return float(os.environ.get("OUTREACH_SECONDS", "30"))


def redis_url() -> str:
    """`REDIS_URL`: shared rate limits, socket.io fan-out, conversation locks and Rasa's lock store."""
    return os.environ.get("REDIS_URL", "").strip()


def redis_prefix() -> str:
    """What every Redis key and channel of this deployment starts with (two deployments may share a Redis)."""
    return os.environ.get("REDIS_PREFIX", "shop-assist").strip() or "shop-assist"


def rasa_urls() -> list[str]:
    """`RASA_URL`: one Rasa, or several (comma-separated) sharing a tracker store and a lock store."""
    listed = [u.strip().rstrip("/") for u in os.environ.get("RASA_URL", "").split(",") if u.strip()]
    return listed or ["http://127.0.0.1:5005"]


def is_scaled(db_url: str, redis: str) -> bool:
    """The scale-out shape: records and trackers on PostgreSQL, locks and fan-out on Redis."""
    return db_url.startswith("postgresql") and bool(redis)
