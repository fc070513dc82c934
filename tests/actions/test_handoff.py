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


def unsure(text: str, ranking: list[tuple[str, float]]) -> dict:
    return {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.45},
            "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.45}]
            + [{"name": n, "confidence": c} for n, c in ranking], "entities": []}


async def test_first_miss_offers_the_likely_intents_in_the_shoppers_language() -> None:
    ranking = [("order_status", 0.31), ("affirm", 0.2), ("refund_status", 0.12), ("urge_shipment", 0.06),
               ("cancel_order", 0.05), ("inform", 0.02)]
    for lang, first, person in [("zh", "查订单/物流", "转人工"), ("en", "Where is my order", "Talk to a person")]:
        tracker = Tracker("u1", {"language": lang}, unsure("包裹 呢 呢", ranking), [user("greet")], False, None,
                          {}, "action_listen")
        dispatcher = CollectingDispatcher()
        assert await ActionHandleFallback().run(dispatcher, tracker, {}) == []
        [message] = dispatcher.messages
        assert message["response"] == "utter_did_you_mean"
        # A bare "yes" (affirm) can't stand for anything as a button; at most three, then a person.
        assert [b["payload"] for b in message["buttons"]] == [
            "/order_status", "/refund_status", "/urge_shipment", "/human_handoff"]
        assert message["buttons"][0]["title"] == first and message["buttons"][-1]["title"] == person


async def test_first_miss_without_a_likely_intent_asks_to_rephrase_and_second_goes_to_a_person() -> None:
    weak = unsure("asdf qwer", [("greet", 0.5), ("order_status", 0.01)])
    tracker = Tracker("u1", {"language": "en"}, weak, [user("greet")], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    await ActionHandleFallback().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_default" and not dispatcher.messages[0]["buttons"]
    again = Tracker("u1", {"language": "en"}, weak, [user("nlu_fallback"), {"event": "bot"}, user("nlu_fallback")],
                    False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    await ActionHandleFallback().run(dispatcher, tracker=again, domain={})
    assert dispatcher.messages[0]["custom"]["handoff"]["reason"] == "fallback"
