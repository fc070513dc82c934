"""The gateway alone, as a shop would run it: SHOP_ENV=production."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from bot import agents
from bot.db import make_engine
from bot.seed import seed
from tests.gateway.alone import gateway, status, wait_up


def test_production_refuses_demo_passwords_and_serves_no_demo_tokens(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = make_engine(db_url)
    seed(engine)
    # Not told it is a demo (SHOP_ENV unset, "production", anything else): production, which refuses to
    # start while agents have the demo password.
    for shop_env in ("", "production", "staging"):
        with gateway(tmp_path, db_url, {"SHOP_ENV": shop_env}) as (proc, url):
            assert proc.wait(timeout=60) == 2, shop_env
        log = (tmp_path / "gateway.log").read_text()
        assert "demo password" in log and "xiaomei" in log

    with Session(engine) as s, s.begin():
        for username in agents.on_demo_password(s):
            agents.set_password(s, username, f"{username}-a-long-real-password")
    for shop_env in ("", "production"):  # a deployment that forgot SHOP_ENV hands out no tokens either
        with gateway(tmp_path, db_url, {"SHOP_ENV": shop_env}) as (proc, url):
            assert wait_up(proc, url), (tmp_path / "gateway.log").read_text()[-2000:]
            assert status(f"{url}/demo/token?shopper=u1001") == 404, shop_env
            assert status(f"{url}/console") == 200
    with gateway(tmp_path, db_url, {"SHOP_ENV": "demo"}) as (proc, url):  # only a demo serves them
        assert wait_up(proc, url)
        assert status(f"{url}/demo/token?shopper=u1001") == 200
    engine.dispose()


def test_a_client_cannot_reset_its_limits_with_a_forwarded_header(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = make_engine(db_url)
    seed(engine)
    engine.dispose()
    limited = {"SHOP_ENV": "demo", "LIMIT_TOKEN": "3/minute"}
    # No trusted proxy (the default): the address is the connection's, whatever X-Forwarded-For says.
    with gateway(tmp_path, db_url, limited) as (proc, url):
        assert wait_up(proc, url)
        codes = [status(f"{url}/demo/token", {"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(5)]
        assert codes == [200, 200, 200, 429, 429], codes
    # Behind a proxy the shop names, that proxy's header is the client: each address has its own count.
    with gateway(tmp_path, db_url, {**limited, "TRUSTED_PROXIES": "127.0.0.1"}) as (proc, url):
        assert wait_up(proc, url)
        codes = [status(f"{url}/demo/token", {"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(5)]
        assert codes == [200] * 5, codes
        same = [status(f"{url}/demo/token", {"X-Forwarded-For": "198.51.100.7"}) for _ in range(4)]
        assert same == [200, 200, 200, 429], same
        # nginx's $proxy_add_x_forwarded_for appends the real address to what the client wrote: the
        # right-most address that is not a trusted proxy counts, so a client's own entries change nothing.
        spoofed = [status(f"{url}/demo/token", {"X-Forwarded-For": f"203.0.113.{i}, 198.51.100.9"})
                   for i in range(4)]
        assert spoofed == [200, 200, 200, 429], spoofed
    # A proxy not named is not believed.
    with gateway(tmp_path, db_url, {**limited, "TRUSTED_PROXIES": "10.1.2.3"}) as (proc, url):
        assert wait_up(proc, url)
        codes = [status(f"{url}/demo/token", {"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(4)]
        assert codes == [200, 200, 200, 429], codes
