import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text import detect_language, find_order_numbers, parse_weight_kg


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("我的订单到哪了", "zh"),
        ("where is my order", "en"),
        ("我的order到哪了", "zh"),
        ("where is my 羽绒服", "en"),
        ("羽绒服有货吗 size L", "zh"),
        ("ok", "en"),
        ("好", "zh"),
        ("🙂🙂", None),
        ("812345678901", None),
        ("91330100MA2B3C4D1X", None),  # a tax number keeps the conversation's language
        ("SF1234567890", None),
        ("税号91330100MA2B3C4D1X", "zh"),
        ("my tax number is 91330100MA2B3C4D1X", "en"),
        ("", None),
    ],
)
def test_language_per_message(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


def test_language_of_a_huge_message_looks_at_its_start_only() -> None:
    assert detect_language("买" * 100_000) == "zh"


def test_order_numbers_are_digit_runs() -> None:
    assert find_order_numbers("订单812345678901到哪了") == ["812345678901"]
    assert find_order_numbers("order 12345678 please") == ["12345678"]
    assert find_order_numbers("I weigh 60kg") == []
    assert find_order_numbers("1" * 25) == []  # too long to be an order number


@pytest.mark.parametrize(
    ("text", "kg"),
    [("我120斤", 60.0), ("60kg", 60.0), ("体重 55 公斤", 55.0), ("I'm 132 lbs", 59.9), ("size M", None)],
)
def test_weight_in_kg(text: str, kg: float | None) -> None:
    assert parse_weight_kg(text) == kg


def test_a_mobile_number_is_never_an_order_number() -> None:
    from bot.text import find_mobile

    text = "改成北京市海淀区中关村大街1号 电话13800001111"
    assert find_order_numbers(text) == [] and find_mobile(text) == "13800001111"
    assert find_order_numbers("订单 294010000001 电话 13800001111") == ["294010000001"]
    assert find_order_numbers("order 12800001111") == ["12800001111"]  # not a mobile: an attempt at an order


def test_what_shoppers_say_about_the_parcel_and_the_problem() -> None:
    from bot.text import describes_problem, says_received

    assert says_received("收到的时候包装破了") is True and says_received("I refused the parcel") is False
    assert says_received("我拒收了") is False and says_received("我想退货") is None
    assert says_received("my parcel arrived but the beanie is missing") is True
    assert describes_problem("the zipper on my down jacket broke after one day")
    assert describes_problem("收到的颜色不对 发来的是米色的") and describes_problem("M码太大了")
    assert not describes_problem("我想退货") and not describes_problem("I want to return my order")


@pytest.mark.parametrize("space", ["\u3000", "\xa0", "\x0b", "\x1c", " ", "\u2003", "\n"])
def test_no_space_of_any_kind_lets_a_typed_directive_through(space: str) -> None:
    from bot.text import without_directive

    for typed in (f"/{space}/agent_handback", f"{space}/agent_handback", f"//{space}{space}/order_status{{}}"):
        assert not without_directive(typed).strip().startswith("/"), repr(typed)
    assert without_directive(f"/{space}订单到哪了") == "订单到哪了"


@given(st.text())
def test_what_rasa_reads_after_the_gateway_is_never_a_directive(text: str) -> None:
    from bot.text import without_directive

    # Rasa strips with str.strip() before it checks for a leading "/".
    assert not without_directive(text).strip().startswith("/")


@given(st.text(alphabet=st.characters(blacklist_categories=())))
def test_any_text_can_be_stored_as_utf8(text: str) -> None:
    from bot.text import well_formed

    cleaned = well_formed(text)
    cleaned.encode("utf-8")  # a lone surrogate would raise here
    assert well_formed("订单\ud800到哪了") == "订单\ufffd到哪了" and well_formed("👍 好") == "👍 好"
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        assert cleaned == text
