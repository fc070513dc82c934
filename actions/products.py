"""Product and stock questions, answered only from the catalogue."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import Events, ShopAction, latest_entity, pick, size_label
from bot import identity, policy, shop
from bot.models import Product, Sku
from bot.text import ATTRIBUTE_WORDS, UNKNOWN_WORDS, mentioned_colour, parse_weight_kg
from bot.words import word


def asked_attributes(text: str) -> list[str]:
    t = text.lower()
    if any(w in t for w in UNKNOWN_WORDS):
        return ["unknown"]
    found = [attr for attr, words in ATTRIBUTE_WORDS.items() if any(w in t for w in words)]
    # "sizes" words also appear in weight questions ("120斤穿什么码").
    if "size_for_weight" in found and "sizes" in found:
        found.remove("sizes")
    if parse_weight_kg(t) is not None and "size_for_weight" not in found:
        found.append("size_for_weight")
    return found


def product_name(p: Product, lang: str) -> str:
    return pick(lang, p.name_zh, p.name_en)


def colour_list(p: Product, lang: str) -> str:
    names: list[str] = []
    for sku in p.skus:
        name = pick(lang, sku.color_zh, sku.color_en)
        if name not in names:
            names.append(name)
    return word("list.sep", lang).join(names)


def size_list(p: Product, lang: str) -> str:
    sizes: list[str] = []
    for sku in p.skus:
        if sku.size not in sizes:
            sizes.append(sku.size)
    if sizes == ["F"]:
        return word("label.one_size", lang)
    return " / ".join(sizes)


def sku_label(sku: Sku, lang: str) -> str:
    size = size_label(sku.size, lang)
    return pick(lang, f"{sku.color_zh}/{size}", f"{sku.color_en}/{size}")


def products_in_context(s: Session, tracker: Tracker) -> tuple[list[Product], Optional[str]]:
    """The products this message names (entity first, then the words), else the one last talked
    about when it names none; and the name the shopper used, if any."""
    mentioned = latest_entity(tracker, "product")
    matches = shop.match_products(s, mentioned, tracker.latest_message.get("text") or "")
    if not matches and not mentioned:
        code = tracker.get_slot("product_code")
        last = shop.product_by_code(s, str(code)) if code else None
        matches = [last] if last is not None else []
    return matches, mentioned


def product_in_context(s: Session, tracker: Tracker) -> Optional[Product]:
    """The one product in context, without asking; None when it is unclear."""
    matches, _ = products_in_context(s, tracker)
    return matches[0] if len(matches) == 1 else None


def resolve_product(
    s: Session, dispatcher: CollectingDispatcher, tracker: Tracker, lang: str, intent: str
) -> tuple[Optional[Product], Events]:
    """The product asked about, or None after telling the shopper why."""
    matches, mentioned = products_in_context(s, tracker)
    if len(matches) > 1:
        dispatcher.utter_message(
            response="utter_which_product",
            buttons=[
                {
                    "title": product_name(p, lang),
                    "payload": f'/{intent}{{"product":"{product_name(p, lang)}"}}',
                }
                for p in matches[:5]
            ],
        )
        return None, []
    if not matches:
        if mentioned:
            dispatcher.utter_message(response="utter_product_not_found", product=mentioned[:60])
        else:
            dispatcher.utter_message(response="utter_ask_which_product")
        return None, []
    return matches[0], [SlotSet("product_code", matches[0].code)]


class ActionAnswerProduct(ShopAction):
    def name(self) -> str:
        return "action_answer_product"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        product, events = resolve_product(s, dispatcher, tracker, lang, "ask_product")
        if product is None:
            return events
        text = tracker.latest_message.get("text") or ""
        name = product_name(product, lang)
        attributes = asked_attributes(text) or ["overview"]
        for attr in attributes:
            self._answer(dispatcher, product, attr, name, lang, text)
        if not product.in_production:
            dispatcher.utter_message(response="utter_product_discontinued", product=name)
        return events

    def _answer(
        self,
        dispatcher: CollectingDispatcher,
        p: Product,
        attr: str,
        name: str,
        lang: str,
        text: str,
    ) -> None:
        field = {
            "material": pick(lang, p.material_zh or "", p.material_en or ""),
            "care": pick(lang, p.care_zh or "", p.care_en or ""),
            "selling_points": pick(lang, p.selling_points_zh or "", p.selling_points_en or ""),
        }
        if attr in field:
            if not field[attr]:
                self._ask_a_person(dispatcher, p, name, text)
            else:
                dispatcher.utter_message(response=f"utter_product_{attr}", product=name, value=field[attr])
        elif attr == "colors":
            dispatcher.utter_message(response="utter_product_colors", product=name, value=colour_list(p, lang))
        elif attr == "sizes":
            dispatcher.utter_message(response="utter_product_sizes", product=name, value=size_list(p, lang))
        elif attr == "price":
            response = "utter_product_price_special" if p.special_price else "utter_product_price"
            dispatcher.utter_message(response=response, product=name, value=f"{p.price}")
        elif attr == "size_for_weight":
            self._size_for_weight(dispatcher, p, name, lang, text)
        elif attr == "unknown":
            self._ask_a_person(dispatcher, p, name, text)
        else:
            dispatcher.utter_message(
                response="utter_product_overview",
                product=name,
                price=f"{p.price}",
                material=pick(lang, p.material_zh or "-", p.material_en or "-"),
                colors=colour_list(p, lang),
                sizes=size_list(p, lang),
            )
            dispatcher.utter_message(json_message={"card": {
                "type": "product", "title": f"{name} · ¥{p.price}",
                "lines": [pick(lang, p.selling_points_zh or "", p.selling_points_en or ""),
                          f"{colour_list(p, lang)} · {size_list(p, lang)}"],
            }})

    def _ask_a_person(self, dispatcher: CollectingDispatcher, p: Product, name: str, text: str) -> None:
        """WORKFLOWS: a question the catalogue cannot answer goes to a person, not a guess."""
        dispatcher.utter_message(
            response="utter_product_attribute_unknown",
            product=name,
            json_message={"handoff": {"reason": "product_question", "intent": "ask_product",
                                      "facts": {"product_code": p.code, "message": text[:500]}}},
        )

    def _size_for_weight(
        self, dispatcher: CollectingDispatcher, p: Product, name: str, lang: str, text: str
    ) -> None:
        if not p.size_chart:
            dispatcher.utter_message(response="utter_product_no_size_chart", product=name, value=size_list(p, lang))
            return
        weight = parse_weight_kg(text)
        if weight is None:
            dispatcher.utter_message(response="utter_ask_weight", product=name)
            return
        size = policy.size_for_weight(p.size_chart, weight)
        if size is None:
            dispatcher.utter_message(response="utter_size_out_of_chart", product=name, weight=f"{weight:g}")
        else:
            dispatcher.utter_message(
                response="utter_product_size_for_weight", product=name, weight=f"{weight:g}", size=size
            )


_SIZE_TOKEN = re.compile(r"(?<![A-Za-z0-9'’])(XXL|XL|XS|S|M|L|3[5-9]|4[0-5])(?![A-Za-z0-9])", re.IGNORECASE)


class ActionCheckStock(ShopAction):
    def name(self) -> str:
        return "action_check_stock"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, lang: str, now: datetime
    ) -> Events:
        product, events = resolve_product(s, dispatcher, tracker, lang, "ask_stock")
        if product is None:
            return events
        name = product_name(product, lang)
        text = tracker.latest_message.get("text") or ""
        color = latest_entity(tracker, "color")
        size = latest_entity(tracker, "size")
        if size is None:
            m = _SIZE_TOKEN.search(text)
            size = m.group(1) if m else None
        if color is None:
            color = mentioned_colour(text, [(sku.color_zh, sku.color_en) for sku in product.skus])
        if not product.in_production:
            dispatcher.utter_message(response="utter_product_discontinued", product=name)
            self._alternatives(dispatcher, s, product, lang)
            return events
        skus = shop.matching_skus(product, color, size)
        if not skus:
            dispatcher.utter_message(
                response="utter_stock_variant_unknown",
                product=name,
                colors=colour_list(product, lang),
                sizes=size_list(product, lang),
            )
            return events
        available = [sku for sku in skus if sku.stock > 0]
        if not available:
            asked = "/".join(v for v in (color, size) if v)
            label = f"{name} ({asked})" if lang == "en" and asked else f"{name}（{asked}）" if asked else name
            dispatcher.utter_message(response="utter_stock_sold_out", product=label)
            self._remember_wish(dispatcher, tracker, s, skus, lang, now)
            # The same style in another colour or size first, then similar items.
            others = [sku for sku in product.skus if sku.stock > 0]
            if others:
                dispatcher.utter_message(
                    response="utter_stock_other_variants",
                    product=name,
                    value=word("list.sep", lang).join(sku_label(k, lang) for k in others),
                )
            else:
                self._alternatives(dispatcher, s, product, lang)
            return events
        if len(skus) == 1:
            dispatcher.utter_message(
                response="utter_stock_available", product=name, variant=sku_label(skus[0], lang),
                count=str(skus[0].stock),
            )
        else:
            sep = word("list.sep", lang)
            dispatcher.utter_message(
                response="utter_stock_summary",
                product=name,
                value=sep.join(sku_label(k, lang) for k in available),
                sold_out=sep.join(sku_label(k, lang) for k in skus if k.stock == 0) or word("label.none", lang),
            )
        return events

    def _remember_wish(self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Session, skus: list[Sku],
                       lang: str, now: datetime) -> None:
        """Sold out but still made: the shopper is told in this chat when it is back (bot/outreach.py)."""
        if identity.is_visitor(tracker.sender_id):
            dispatcher.utter_message(response="utter_restock_wish_visitor")
            return
        if shop.get_shopper(s, tracker.sender_id) is None:
            # Signed in on the shop's site but not in our records yet: a wish needs a shopper row to hang on,
            # so nothing is promised (the sold-out answer and the alternatives still come).
            return
        for sku in skus:
            shop.record_restock_wish(s, tracker.sender_id, sku, lang, now)
        dispatcher.utter_message(response="utter_restock_wish_recorded")

    def _alternatives(self, dispatcher: CollectingDispatcher, s: Session, product: Product, lang: str) -> None:
        alternatives = shop.in_stock_alternatives(s, product)
        if not alternatives:
            dispatcher.utter_message(response="utter_stock_no_alternatives")
            return
        dispatcher.utter_message(
            response="utter_stock_alternatives",
            value=word("list.sep", lang).join(f"{product_name(a, lang)} ¥{a.price}" for a in alternatives),
            buttons=[
                {"title": product_name(a, lang), "payload": f'/ask_stock{{"product":"{product_name(a, lang)}"}}'}
                for a in alternatives
            ],
        )
