import pytest

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
