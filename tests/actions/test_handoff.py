from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandleFallback, ActionRequestHandoff
from tests.actions.conftest import msg


async def test_complaint_hands_over_with_reason_and_facts() -> None:
    tracker = Tracker("u1001", {"language": "zh", "order_id": "873475193967", "case_no": "AS1"},
                      msg("我要投诉", "complain"), [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    assert await ActionRequestHandoff().run(dispatcher, tracker, {}) == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_complaint"
    handoff = message["custom"]["handoff"]
    assert handoff["reason"] == "complaint" and handoff["intent"] == "complain"
    assert handoff["facts"] == {"order_id": "873475193967", "case_no": "AS1", "language": "zh", "message": "我要投诉"}


async def test_bad_review_and_plain_request() -> None:
    for intent, response, reason in [("bad_review", "utter_handoff_review", "bad_review"),
                                     ("human_handoff", "utter_handoff", "human_request")]:
        tracker = Tracker("u1", {"language": "en"}, msg("x", intent), [], False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        await ActionRequestHandoff().run(dispatcher, tracker, {})
        assert dispatcher.messages[0]["response"] == response
        assert dispatcher.messages[0]["custom"]["handoff"]["reason"] == reason


def user(intent: str) -> dict:
    return {"event": "user", "text": "?", "parse_data": {"intent": {"name": intent}}}


async def test_second_fallback_in_a_row_hands_over() -> None:
    bot = {"event": "bot", "text": "?"}
    once = [user("greet"), bot, user("nlu_fallback")]
    twice = [user("nlu_fallback"), bot, user("nlu_fallback")]
    apart = [user("nlu_fallback"), bot, user("greet"), bot, user("nlu_fallback")]
    for events, expected in [(once, "utter_default"), (twice, "utter_handoff_fallback"), (apart, "utter_default")]:
        tracker = Tracker("u1", {"language": "zh"}, msg("🙂", "nlu_fallback"), events, False, None, {},
                          "action_listen")
        dispatcher = CollectingDispatcher()
        await ActionHandleFallback().run(dispatcher, tracker, {})
        assert dispatcher.messages[0]["response"] == expected, events
    assert "handoff" in dispatcher.messages[0].get("custom", {}) or expected == "utter_default"
