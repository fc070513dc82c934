"""Product names, aliases, colours and sizes read from the live catalogue.

A tagger learned from annotated examples would miss a product added to the
shop until the next training, so DIET tags no entities here. This extractor, the
only source of product, colour and size entities, builds a spaCy
PhraseMatcher from the catalogue in the database (re-read every
`refresh_seconds`) and runs it on a blank Chinese pipeline, whose character
tokens let one matcher find "轻薄羽绒服" inside an unsegmented sentence and
"down jacket" in English. Its matches are authoritative: an earlier
extractor's product, colour or size entity that overlaps one is replaced by it.
Values are the text as typed; the actions match them to the catalogue.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.stateless import StatelessComponent

logger = logging.getLogger(__name__)

LABELS = ("product", "color", "size")
_LATIN = re.compile(r"[A-Za-z0-9]")
_WORDLIKE = re.compile(r"[A-Za-z0-9'’]")  # "it's" holds no size S


@dataclass(frozen=True)
class Term:
    label: str  # product / color / size
    surface: str  # how a shopper writes it


def size_surfaces(size: str) -> list[str]:
    """How shoppers write a size; a bare number would also be a quantity or part of an order number."""
    if size.isdigit():
        return [f"{size}码", f"{size}号", f"size {size}", f"eu {size}"]
    if size == "F":
        return ["均码", "free size", "one size"]
    return [size]


def catalogue_terms(products: Iterable[Any]) -> list[Term]:
    """Terms from Product rows (with their skus): names, aliases, colours, sizes."""
    terms: set[Term] = set()
    for p in products:
        for surface in (p.name_zh, p.name_en, *(p.aliases or [])):
            if surface and surface.strip():
                terms.add(Term("product", surface.strip()))
        for sku in p.skus:
            terms.update({Term("color", sku.color_zh), Term("color", sku.color_en)})
            terms.update(Term("size", surface) for surface in size_surfaces(sku.size))
    return sorted(terms, key=lambda t: (t.label, t.surface))


_SIZE_WRAPPING = re.compile(r"^(?:size |eu )|(?<=[0-9A-Za-z])[码号]$", re.IGNORECASE)


def load_terms() -> list[Term]:
    from bot import shop
    from bot.db import get_sessionmaker

    with get_sessionmaker()() as s:
        return catalogue_terms(shop.all_products(s))


class CatalogueMatcher:
    """A PhraseMatcher over character tokens; the longest match wins where matches overlap."""

    def __init__(self, terms: list[Term]) -> None:
        import spacy
        from spacy.matcher import PhraseMatcher

        self.nlp = spacy.blank("zh")  # character segmentation: no model, no pkuseg
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.terms: dict[str, Term] = {}
        for i, term in enumerate(terms):
            key = f"t{i}"
            self.terms[key] = term
            self.matcher.add(key, [self.nlp.make_doc(term.surface)])

    def find(self, text: str) -> list[dict[str, Any]]:
        from spacy.util import filter_spans

        doc = self.nlp.make_doc(text)
        spans = []
        for key, start, end in self.matcher(doc):
            span = doc[start:end]
            # "L" in "LOL" or "XL" in "XXL" is no size, "red" in "hundred" no colour.
            before = text[span.start_char - 1] if span.start_char else ""
            after = text[span.end_char] if span.end_char < len(text) else ""
            if (_LATIN.match(span.text[0]) and _WORDLIKE.match(before)) or (
                    _LATIN.match(span.text[-1]) and _WORDLIKE.match(after)):
                continue
            # A lone "s" or "m" is a word ending or a unit far more often than a size.
            if len(span.text) == 1 and span.text.islower() and after not in ("码", "号"):
                continue
            spans.append(doc.char_span(span.start_char, span.end_char, label=self.nlp.vocab.strings[key]))
        found = []
        for span in filter_spans([s for s in spans if s is not None]):
            label = self.terms[span.label_].label
            start, end = span.start_char, span.end_char
            if label == "size":  # the entity is "42" in "42码", as annotated in the training data
                core = _SIZE_WRAPPING.sub("", span.text)
                start += span.text.index(core)
                end = start + len(core)
            # The value is the text as typed: the actions match it against the catalogue.
            found.append({ENTITY_ATTRIBUTE_TYPE: label, ENTITY_ATTRIBUTE_START: start,
                          ENTITY_ATTRIBUTE_END: end, ENTITY_ATTRIBUTE_VALUE: text[start:end]})
        return found


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class CatalogueEntityExtractor(StatelessComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"refresh_seconds": 30}

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy"]

    def __init__(self, config: dict[str, Any], terms: Optional[list[Term]] = None) -> None:
        self._refresh = float(config["refresh_seconds"])
        self._matcher: Optional[CatalogueMatcher] = CatalogueMatcher(terms) if terms is not None else None
        self._fixed = terms is not None
        self._loaded_at = 0.0
        self._terms: list[Term] = terms or []

    def matcher(self) -> Optional[CatalogueMatcher]:
        if self._fixed or time.monotonic() - self._loaded_at < self._refresh:
            return self._matcher
        self._loaded_at = time.monotonic()
        try:
            terms = load_terms()
        except Exception:  # the shop's database down: keep what was read last time
            logger.exception("catalogue entities: could not read the catalogue")
            return self._matcher
        if terms != self._terms or self._matcher is None:
            self._terms, self._matcher = terms, CatalogueMatcher(terms)
        return self._matcher

    def process(self, messages: list[Message]) -> list[Message]:
        matcher = self.matcher()
        if matcher is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            if not text:
                continue
            found = matcher.find(text)
            if not found:
                continue
            kept = [
                e for e in message.get(ENTITIES, [])
                if e.get(ENTITY_ATTRIBUTE_TYPE) not in LABELS or not any(_overlap(e, f) for f in found)
            ]
            message.set(ENTITIES, kept + self.add_extractor_name(found), add_to_output=True)
        return messages


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a[ENTITY_ATTRIBUTE_START] < b[ENTITY_ATTRIBUTE_END] and b[ENTITY_ATTRIBUTE_START] < a[ENTITY_ATTRIBUTE_END]

