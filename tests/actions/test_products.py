from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.products import ActionAnswerProduct, ActionCheckStock, asked_attributes
from tests.actions.conftest import msg


async def ask(text: str, entities=None, lang: str = "zh", intent: str = "ask_product",  # type: ignore[no-untyped-def]
              sender: str = "u1001", **slots):
    tracker = Tracker(
        sender, {"language": lang, **slots}, msg(text, intent, entities), [], False, None, {}, "action_listen"
    )
    dispatcher = CollectingDispatcher()
    action = ActionAnswerProduct() if intent == "ask_product" else ActionCheckStock()
    events = await action.run(dispatcher, tracker, {})
    return events, dispatcher.messages


def test_attribute_words() -> None:
    assert asked_attributes("羽绒服是什么材质的") == ["material"]
    assert asked_attributes("what colours and sizes") == ["colors", "sizes"]
    assert asked_attributes("我120斤穿什么码") == ["size_for_weight"]
    assert asked_attributes("is it waterproof") == ["unknown"]
    assert asked_attributes("tell me about it") == []


async def test_material_from_the_catalogue(seeded) -> None:  # type: ignore[no-untyped-def]
    events, messages = await ask("羽绒服是什么材质的", [("product", "羽绒服")])
    assert events == [SlotSet("product_code", "P001")]
    assert messages[0]["response"] == "utter_product_material"
    assert messages[0]["product"] == "轻薄羽绒服"
    assert messages[0]["value"] == "面料 100% 锦纶，填充 90% 白鸭绒"


async def test_colours_in_english(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask("what colours does the hoodie come in", [("product", "hoodie")], lang="en")
    assert messages[0]["response"] == "utter_product_colors"
    assert messages[0]["product"] == "Hooded sweatshirt"
    assert messages[0]["value"] == "grey, black, pink"


async def test_size_for_weight_follows_the_chart(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask("我120斤穿羽绒服选什么码", [("product", "羽绒服")])
    assert messages[0]["response"] == "utter_product_size_for_weight"
    assert (messages[0]["weight"], messages[0]["size"]) == ("60", "M")
    _, messages = await ask("I weigh 150kg, what size puffer", [("product", "puffer")], lang="en")
    assert messages[0]["response"] == "utter_size_out_of_chart"
    _, messages = await ask("羽绒服穿什么码", [("product", "羽绒服")])
    assert messages[0]["response"] == "utter_ask_weight"
    _, messages = await ask("60kg穿多大的托特包", [("product", "托特包")])
    assert messages[0]["response"] == "utter_product_no_size_chart"
    assert messages[0]["value"] == "均码"


async def test_what_the_catalogue_lacks_is_never_invented(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask("羽绒服防水吗", [("product", "羽绒服")])
    assert [m["response"] for m in messages] == ["utter_product_attribute_unknown"]
    # ... and the question goes to a person (WORKFLOWS.md) with what was asked.
    assert messages[0]["custom"]["handoff"] == {
        "reason": "product_question", "intent": "ask_product", "facts": {"product_code": "P001", "message": "羽绒服防水吗"}}
    _, messages = await ask("独角兽睡衣什么面料", [("product", "独角兽睡衣")])
    assert messages == [{**messages[0], "response": "utter_product_not_found", "product": "独角兽睡衣"}]


async def test_follow_up_uses_the_product_under_discussion(seeded) -> None:  # type: ignore[no-untyped-def]
    events, messages = await ask("how much is it", lang="en", product_code="P009")
    assert events == [SlotSet("product_code", "P009")]
    assert (messages[0]["response"], messages[0]["value"]) == ("utter_product_price", "699.00")
    _, messages = await ask("多少钱")
    assert messages[0]["response"] == "utter_ask_which_product"


async def test_overview_comes_with_a_product_card(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask("介绍一下雪地靴", [("product", "雪地靴")])
    assert messages[0]["response"] == "utter_product_overview"
    card = messages[1]["custom"]["card"]
    assert card["type"] == "product" and card["title"] == "雪地靴 · ¥329.00"


async def test_special_price_and_discontinued(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask("T恤多少钱", [("product", "T恤")])
    assert (messages[0]["response"], messages[0]["value"]) == ("utter_product_price_special", "79.00")
    _, messages = await ask("皮衣什么皮", [("product", "皮衣")])
    assert [m["response"] for m in messages] == ["utter_product_material", "utter_product_discontinued"]


async def test_stock_for_one_variant(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask(
        "轻薄羽绒服黑色M码有货吗", [("product", "轻薄羽绒服"), ("color", "黑色"), ("size", "M")], intent="ask_stock"
    )
    assert messages[0]["response"] == "utter_stock_available"
    assert (messages[0]["variant"], messages[0]["count"]) == ("黑色/M", "12")


async def test_colour_and_size_read_from_text_when_no_entity(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask("is the down jacket in navy L", [("product", "down jacket")], lang="en", intent="ask_stock")
    assert [m["response"] for m in messages] == [
        "utter_stock_sold_out", "utter_restock_wish_recorded", "utter_stock_other_variants"]
    assert messages[0]["product"] == "Light down jacket (navy/L)"
    assert "black/M" in messages[2]["value"] and "navy/L" not in messages[2]["value"]


async def test_sold_out_suggests_in_stock_items_of_the_category(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask("长款羽绒服有货吗", [("product", "长款羽绒服")], intent="ask_stock")
    assert [m["response"] for m in messages] == [
        "utter_stock_sold_out", "utter_restock_wish_recorded", "utter_stock_alternatives"]
    buttons = messages[2]["buttons"]
    assert 1 <= len(buttons) <= 3
    assert all(b["payload"].startswith('/ask_stock{"product":') for b in buttons)
    assert "加厚长款羽绒服" not in messages[2]["value"]


async def test_sold_out_for_a_signed_in_shopper_not_on_record(seeded) -> None:  # type: ignore[no-untyped-def]
    # The shop's site may sign a shopper our records do not hold yet: the stock answer still comes, no wish.
    _, messages = await ask("长款羽绒服有货吗", [("product", "长款羽绒服")], intent="ask_stock", sender="new-shopper-1")
    assert [m["response"] for m in messages] == ["utter_stock_sold_out", "utter_stock_alternatives"]


async def test_stock_summary_lists_what_is_left(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask("羽绒服还有货吗", [("product", "羽绒服")], intent="ask_stock")
    assert messages[0]["response"] == "utter_stock_summary"
    assert "黑色/M" in messages[0]["value"] and "藏青色/L" in messages[0]["sold_out"]


async def test_unknown_variant_and_discontinued_stock(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask("羽绒服紫色有吗", [("product", "羽绒服"), ("color", "紫色")], intent="ask_stock")
    assert messages[0]["response"] == "utter_stock_variant_unknown"
    assert messages[0]["colors"] == "黑色、藏青色、米色"
    _, messages = await ask("can I still buy the leather jacket", [("product", "leather jacket")], lang="en",
                            intent="ask_stock")
    assert [m["response"] for m in messages] == ["utter_product_discontinued", "utter_stock_alternatives"]


async def test_noise_entities_are_ignored(seeded) -> None:  # type: ignore[no-untyped-def]
    _, messages = await ask("'; DROP TABLE products; --", [("product", "; --")])
    assert [m["response"] for m in messages] == ["utter_ask_which_product"]
