"""The kept validator judges action server replies exactly as Rasa's own code does."""

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot import channel  # noqa: F401 - importing the channel installs the speed-up, as in `rasa run`
from bot.rasa_speedups import validate_action_result

GOOD = [
    {"events": [{"event": "slot", "name": "language", "value": "zh", "timestamp": None}],
     "responses": [{"text": "亲，在的"}]},
    {"events": [{"event": "active_loop", "name": "invoice_form"}, {"event": "action_execution_rejected",
                                                                   "name": "invoice_form"}], "responses": []},
    {"events": [], "responses": [{"custom": {"handoff": {"reason": "complaint"}}}]},
    {},
]
BAD = [
    {"events": [{"event": "slot"}]},  # a slot event without a name
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [42]},
]


def test_the_channel_installs_it() -> None:
    assert RemoteAction._validate_action_result is validate_action_result


@pytest.mark.parametrize("reply", GOOD)
def test_good_replies_pass_both(reply: dict) -> None:
    validate(reply, RemoteAction.action_response_format_spec())
    assert validate_action_result(RemoteAction("x", None), reply) is True


@pytest.mark.parametrize("reply", BAD)
def test_bad_replies_fail_both_with_rasas_message(reply: dict) -> None:
    with pytest.raises(ValidationError):
        validate(reply, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        validate_action_result(RemoteAction("x", None), reply)
