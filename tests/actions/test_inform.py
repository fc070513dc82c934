from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.inform import ActionHandleInform
from actions.language import ActionDetectLanguage
from tests.actions.conftest import msg


async def inform(text: str, entities=None, **slots):  # type: ignore[no-untyped-def]
    tracker = Tracker("u1002", {"language": "zh", **slots}, msg(text, "inform", entities), [], False, None, {},
                      "action_listen")
    dispatcher = CollectingDispatcher()
    events = await ActionHandleInform().run(dispatcher, tracker, {})
    return events, dispatcher.messages


async def test_a_bare_product_asks_what_about_it(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await inform("羽绒服", [("product", "羽绒服")])
    assert (messages[0]["response"], messages[0]["product"]) == ("utter_ask_what_about_product", "羽绒服")


async def test_nothing_to_continue(seeded) -> None:  # type: ignore[no-untyped-def]
    events, messages = await inform("黑色的", [("color", "黑色")])
    assert events == [] and messages[0]["response"] == "utter_how_can_i_help"


async def detect(text: str, current: str, widget: str | None = None):  # type: ignore[no-untyped-def]
    message = {**msg(text, "greet"), "metadata": {"language": widget} if widget else {}}
    tracker = Tracker("u1", {"language": current}, message, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = await ActionDetectLanguage().run(dispatcher, tracker, {})
    assert dispatcher.messages == []
    return events


async def test_language_follows_each_message() -> None:
    assert await detect("where is my 羽绒服", "zh") == [{"event": "slot", "timestamp": None, "name": "language", "value": "en"}]
    assert await detect("我的order到哪了", "en") == [{"event": "slot", "timestamp": None, "name": "language", "value": "zh"}]
    assert await detect("你好", "zh") == []
    assert await detect("🙂🙂", "en") == []
    assert await detect("👍", "zh", widget="en") == [{"event": "slot", "timestamp": None, "name": "language", "value": "en"}]
    assert await detect('/inform{"order_id":"812345678901"}', "zh") == []
