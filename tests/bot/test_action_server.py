"""The action server stays light: it needs rasa-sdk, not Rasa (0.5 GB more resident memory per process)."""

import subprocess
import sys

from bot.settings import ROOT


def test_the_action_server_does_not_load_rasa() -> None:
    probe = ("import sys, bot.action_server, actions.orders, actions.after_sales, actions.handoff; "
             "heavy = sorted(m for m in sys.modules if m.startswith(('rasa.', 'tensorflow')) and m != 'rasa'); "
             "print(len(heavy), heavy[:5])")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.startswith("0 "), out
