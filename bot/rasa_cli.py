"""Rasa's command line with shop-assist's speedups to Rasa's training installed.

`bot.train` runs `python -m bot.rasa_cli train ...` instead of `rasa train`:
the same command and arguments, with what training gains from installed
(`rasa_training.install_speedups`, which names each) and the graph's
independent nodes trained side by side (bot/rasa_training.py). Nothing the
model learns from changes.
"""

from __future__ import annotations

from bot import rasa_training


def main() -> None:
    rasa_training.install_speedups()
    rasa_training.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
