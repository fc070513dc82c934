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
    urls = [f"http://127.0.0.1:{rasa_port}/webhooks/gateway/ready", f"http://127.0.0.1:{action_port}/health",
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


def test_a_rasa_whose_model_did_not_load_is_not_ready(tmp_path: Path) -> None:
    """Rasa's "/" answers without a model; `make run` and the tests wait for the gateway channel's /ready."""
    import io
    import tarfile

    from bot import keys
    from bot.run import server_environment

    port = free_port()
    # The trained model with one component renamed away, as a model trained before a rename is.
    broken = tmp_path / "renamed.tar.gz"
    with tarfile.open(MODEL, "r:gz") as source, tarfile.open(broken, "w:gz", compresslevel=1) as target:
        for member in source:
            data = source.extractfile(member) if member.isfile() else None
            if member.name.lstrip("/") == "metadata.json" and data is not None:
                text = data.read().replace(b"LinearIntentClassifier", b"NoSuchClassifier")
                assert b"NoSuchClassifier" in text
                member.size = len(text)
                data = io.BytesIO(text)
            target.addfile(member, data)
    rasa = subprocess.Popen(
        [str(Path(sys.executable).with_name("rasa")), "run", "-i", "127.0.0.1", "--port", str(port),
         "--model", str(broken), "--credentials", str(ROOT / "credentials.yml")],
        cwd=ROOT, env={**server_environment(), "INTERNAL_TOKEN": keys.get("INTERNAL_TOKEN")},
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 180
        while not answers(f"http://127.0.0.1:{port}/") and time.time() < deadline and rasa.poll() is None:
            time.sleep(0.5)
        assert answers(f"http://127.0.0.1:{port}/"), "Rasa did not start"
        assert not answers(f"http://127.0.0.1:{port}/webhooks/gateway/ready")
    finally:
        os.killpg(rasa.pid, signal.SIGTERM)
        rasa.wait(timeout=30)


def test_rasa_started_by_make_reports_nothing_to_rasas_servers(tmp_path: Path) -> None:
    """A user whose Rasa configuration opted in (Rasa's default on first use) still sends nothing:
    every process make starts runs with Rasa's telemetry and error reporting off."""
    opted_in = tmp_path / ".config" / "rasa" / "global.yml"
    opted_in.parent.mkdir(parents=True)
    opted_in.write_text("metrics:\n  enabled: true\n  rasa_user_id: test\n")
    env = {k: v for k, v in os.environ.items() if k != "RASA_TELEMETRY_ENABLED"}
    ask = f"{sys.executable} -c 'from rasa.telemetry import is_telemetry_enabled as e; print(e())'"
    as_rasa_sees_it = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", f"telemetry-check: ; @{ask}", "telemetry-check"],
        cwd=ROOT, env={**env, "HOME": str(tmp_path)}, capture_output=True, text=True, check=True)
    assert as_rasa_sees_it.stdout.strip() == "False"
    # The same check outside make reads the opted-in configuration: the test can tell the difference.
    outside = subprocess.run(["sh", "-c", ask], cwd=ROOT, env={**env, "HOME": str(tmp_path)},
                             capture_output=True, text=True, check=True)
    assert outside.stdout.strip() == "True"
