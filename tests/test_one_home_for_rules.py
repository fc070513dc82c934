"""The shop's numbers live in bot/policy.py; responses, notices, phrases and notes render them."""

from __future__ import annotations

from pathlib import Path

from bot import policy

ROOT = Path(__file__).resolve().parent.parent
WORDS = [*sorted((ROOT / "domain").glob("*.yml")), *sorted((ROOT / "actions").glob("*.py")),
         *sorted((ROOT / "bot" / "gateway").glob("*.py")), ROOT / "bot" / "words.py"]


def typed_forms() -> list[str]:
    """How a retyped number would read in a sentence or a note, in both languages."""
    f = policy.figures()
    return [
        f"{f['refund_days']} working days", f"{f['refund_days']} 个工作日", f"{f['refund_days']}个工作日",
        f"{f['ship_hours']} hours", f"{f['ship_hours']}-hour", f"{f['ship_hours']} 小时", f"{f['ship_hours']}小时",
        f"{f['extension_days']} days", f"{f['extension_days']}天", f"{f['extension_days']} 天",
        f['agent_hours'], f['agent_hours'].replace("–", "-"), f"{f['goodwill_percent']}%",
        f"{f['window_days']}-day", f"{f['window_days']} 天", f"{f['window_days']}天", "九折",
        f"{f['resolve_hours']} hours", f"{f['resolve_hours']} 小时", f"{f['bulk_percent']}% off",
        f"{f['bulk_items']} or more", f"{f['bulk_items']} 件以上",
    ]


def test_no_shop_number_is_typed_outside_the_policy_module() -> None:
    found = [(path.name, form) for path in WORDS for form in typed_forms() if form in path.read_text()]
    assert found == [], f"render these from bot.policy.figures(): {found}"


def test_figures_follow_the_rules() -> None:
    assert policy.figures() == {"ship_hours": "48", "refund_days": "1–2", "extension_days": "10",
                                "agent_hours": "08:30–23:00", "goodwill_percent": "30", "window_days": "7",
                                "quality_days": "3", "bulk_items": "5", "bulk_percent": "10", "gift_items": "3",
                                "resolve_hours": "48"}


def test_disputes_and_reviews_queue_first() -> None:
    assert policy.queue_priority("complaint") == policy.queue_priority("bad_review") == 1
    assert policy.queue_priority("complaint") < policy.queue_priority("needs_decision") < \
        policy.queue_priority("human_request") < policy.queue_priority("fallback") < policy.queue_priority("unknown")
