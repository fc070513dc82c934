"""`make run`'s last step: both servers come up, and Ctrl-C stops both."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.run import answers
from tests.conftest import MODEL, ROOT, free_port


def test_runner_starts_both_servers_and_ctrl_c_stops_them(seeded: Engine, tmp_path: Path) -> None:
    assert MODEL.exists(), "no trained model: run `make train` (make test does it first)"
    rasa_port, action_port, gateway_port = free_port(), free_port(), free_port()
    env = {**os.environ, "RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port),
           "GATEWAY_PORT": str(gateway_port), "RUN_DIR": str(tmp_path)}
    runner = subprocess.Popen(
        [sys.executable, "-m", "bot.run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    urls = [f"http://127.0.0.1:{rasa_port}/", f"http://127.0.0.1:{action_port}/health",
            f"http://127.0.0.1:{gateway_port}/healthz"]
    try:
        output = ""
        deadline = time.time() + 240
        while "Ctrl-C stops everything." not in output and time.time() < deadline and runner.poll() is None:
            output += runner.stdout.readline()  # type: ignore[union-attr]
        assert "shop-assist is ready." in output, output
        assert f"http://127.0.0.1:{rasa_port}" in output and "make shell" in output and "curl" in output
        assert all(answers(u) for u in urls)

        runner.send_signal(signal.SIGINT)  # what Ctrl-C delivers
        assert runner.wait(timeout=30) == 0
        deadline = time.time() + 15
        while any(answers(u) for u in urls) and time.time() < deadline:
            time.sleep(0.5)
        assert not any(answers(u) for u in urls), "a server outlived Ctrl-C"
    finally:
        if runner.poll() is None:  # a failed assertion: still let the runner stop its servers
            runner.send_signal(signal.SIGINT)
            try:
                runner.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(runner.pid, signal.SIGKILL)
