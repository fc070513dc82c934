"""The kept validator judges action server replies exactly as Rasa's own code does."""

import json

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


def test_events_resolve_to_the_class_rasas_own_walk_finds() -> None:
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet
    from rasa.shared.utils.common import all_subclasses

    from bot import rasa_speedups

    assert Event.resolve_by_type is rasa_speedups.resolve_by_type
    for cls in all_subclasses(Event):
        name = cls.type_name
        assert Event.resolve_by_type(name) is rasa_speedups.rasa_resolve_by_type(name), name
        assert Event.resolve_by_type(name) is rasa_speedups.rasa_resolve_by_type(name), f"{name}, kept"
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("no_such_event", default=ActionExecuted) is ActionExecuted, "a default is not kept"
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


def test_endpoint_calls_keep_one_session_and_connection() -> None:
    """Two calls to the action server go over one kept connection, with the endpoint's headers."""
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    from bot.rasa_speedups import close_sessions

    seen: list[tuple[object, str]] = []
    bodies: list[object] = []
    sent = {"text": "羽绒服/黑色 L", "confidence": 0.30000000000000004, "tiny": 1e-07, "none": None, "ok": True}

    async def webhook(request: web.Request) -> web.Response:
        seen.append((request.transport.get_extra_info("peername") if request.transport else None,
                     request.headers.get("Authorization", "")))
        bodies.append(await request.json())
        return web.json_response({"events": [], "responses": []})

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"Authorization": "Bearer t"})
        try:
            assert await endpoint.request(json={"a": 1}) == {"events": [], "responses": []}
            assert await endpoint.request(json=sent) == {"events": [], "responses": []}
            async with endpoint.session() as first, endpoint.session() as second:
                assert first is second and not first.closed
        finally:
            await close_sessions()
            await runner.cleanup()
        async with endpoint.session() as after:  # closed ones are replaced
            assert not after.closed
        await close_sessions()

    asyncio.run(scenario())
    assert len(seen) == 2 and seen[0][0] == seen[1][0]  # same client address and port: one connection
    assert seen[0][1] == "Bearer t"
    assert bodies == [{"a": 1}, sent]  # ujson's document reads back as what was sent


def test_the_action_server_gets_the_recent_history_and_the_same_answers() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig
    from rasa_sdk import Tracker

    from actions.handoff import fallbacks_in_a_row
    from actions.orders import user_texts_since
    from bot import policy, rasa_speedups
    from bot.settings import ROOT

    assert policy.FALLBACKS_BEFORE_PERSON < rasa_speedups.ACTION_HISTORY_TURNS  # actions see far enough back
    domain = Domain.load(str(ROOT / "domain"))
    action = RemoteAction("action_handle_fallback", EndpointConfig("http://x", enable_selective_domain=True))

    def turn(text: str, intent: str) -> list:
        return [UserUttered(text, {"name": intent, "confidence": 1.0}), ActionExecuted("utter_x"),
                ActionExecuted("action_listen")]

    short = DialogueStateTracker.from_events("s", [ActionExecuted("action_listen"), *turn("hi", "greet")],
                                             domain.slots)
    ours = rasa_speedups.action_call_format(action, short, domain)
    assert ours == rasa_speedups.rasa_action_call_format(action, short, domain)  # short: nothing left out
    assert "domain" not in ours  # selective: only for actions marked send_domain

    events = [ActionExecuted("action_listen"), SlotSet("language", "en")]
    for i in range(30):
        events += turn(f"chat {i}", "greet")
    events += [UserUttered("开发票", {"name": "request_invoice", "confidence": 1.0}),
               ActionExecuted("invoice_form"), ActiveLoop("invoice_form"), ActionExecuted("action_listen")]
    for i in range(12):  # a long form: it stays active
        events += [UserUttered(f"急 {i}" if i == 0 else f"form {i}", {"name": "inform", "confidence": 1.0}),
                   ActionExecuted("invoice_form"), ActionExecuted("action_listen")]
    events += turn("???", "nlu_fallback") + turn("?!", "nlu_fallback")
    long = DialogueStateTracker.from_events("s", events, domain.slots)
    sent = rasa_speedups.action_call_format(action, long, domain)["tracker"]
    whole = rasa_speedups.rasa_action_call_format(action, long, domain)["tracker"]
    assert len(sent["events"]) < len(whole["events"]) - 60
    assert {k: v for k, v in sent.items() if k != "events"} == {k: v for k, v in whole.items() if k != "events"}
    assert sent["events"][0]["event"] == "user" and sent["events"][0]["text"] == "开发票"  # back to the form's start
    recent, full = Tracker.from_dict(sent), Tracker.from_dict(whole)
    assert fallbacks_in_a_row(recent) == fallbacks_in_a_row(full) == 2
    assert user_texts_since(recent, "invoice_form") == user_texts_since(full, "invoice_form")
    assert user_texts_since(recent, "invoice_form")[:2] == ["开发票", "急 0"]
    assert recent.get_slot("language") == "en"  # slots come whole, whatever the history sent
    call = rasa_speedups.rasa_action_call_format(action, long, domain)
    assert json.loads(rasa_speedups.to_json(call)) == json.loads(json.dumps(call))  # the same document


def test_ted_is_skipped_only_where_the_ensemble_could_not_pick_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trained model, the same conversations with and without the skip: the same actions, chosen
    by the same policies with the same confidences; and most of TED's runs are skipped."""
    import asyncio

    import yaml
    from rasa.core.agent import load_agent
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.shared.core.events import ActionExecuted

    from bot import rasa_speedups
    from bot.settings import ROOT

    policies = yaml.safe_load((ROOT / "config.yml").read_text())["policies"]
    assert sorted(p["name"] for p in policies) == ["MemoizationPolicy", "RulePolicy", "TEDPolicy"]
    assert not any("priority" in p for p in policies)  # rule_decides counts on the default priorities
    model = ROOT / "models" / "shop-assist.tar.gz"
    assert model.exists(), "no trained model: run `make train` (make test does it first)"
    texts = ["你好", "我的订单到哪了", "能开发票吗", "个人", "where is my order?", "I want to return the hoodie",
             "asdfghjkl", "qwertyuiop", "转人工", "thanks!", "再见"]
    runs = {"ted": 0, "skipped": 0}
    ted = rasa_speedups.ted_predict

    def counting(self, tracker, domain, *args, **kwargs):  # type: ignore[no-untyped-def]
        verdict = rasa_speedups._rule_verdict[0]
        runs["skipped" if verdict and verdict[0] is tracker and verdict[1] == len(tracker.events) and verdict[2]
             else "ted"] += 1
        return ted(self, tracker, domain, *args, **kwargs)

    async def conversation(sender: str) -> list[tuple]:
        agent = await load_agent(str(model))
        for text in texts:
            await agent.handle_text(text, sender_id=sender)
        tracker = await agent.tracker_store.retrieve(sender)
        return [(e.action_name, e.policy, e.confidence) for e in tracker.events if isinstance(e, ActionExecuted)]

    monkeypatch.setattr(TEDPolicy, "predict_action_probabilities", counting)
    skipping = asyncio.run(conversation("skip"))
    monkeypatch.setattr(RulePolicy, "predict_action_probabilities", rasa_speedups.rasa_rule_predict)
    monkeypatch.setattr(TEDPolicy, "predict_action_probabilities", rasa_speedups.rasa_ted_predict)
    assert skipping == asyncio.run(conversation("skip"))
    assert len(skipping) > 20 and runs["skipped"] > runs["ted"] > 0, runs


def test_rule_decides_exactly_when_the_ensemble_must_pick_it() -> None:
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa_speedups import rule_decides
    from bot.settings import ROOT

    domain = Domain.load(str(ROOT / "domain"))
    form = domain.index_for_action("invoice_form")

    def rule(confidence: float, priority: int = 6, **flags: bool) -> PolicyPrediction:
        probabilities = [0.0] * len(domain.action_names_or_texts)
        probabilities[form] = confidence
        return PolicyPrediction(probabilities, "RulePolicy", priority, **flags)

    tracker = DialogueStateTracker.from_events("r", [ActionExecuted("action_listen")], domain.slots)
    rejected = DialogueStateTracker.from_events("r", [ActionExecuted("action_listen"),
                                                      ActionExecutionRejected("invoice_form")], domain.slots)
    assert rule_decides(rule(1.0), tracker, domain)
    assert not rule_decides(rule(0.3), tracker, domain)  # the core fallback: TED or memoization may win
    assert not rule_decides(rule(1.0, priority=3), tracker, domain)  # a tie it would not win
    assert not rule_decides(rule(1.0), rejected, domain)  # its action was just rejected: set to 0
    assert rule_decides(rule(0.5, is_no_user_prediction=True), rejected, domain)  # a form's happy path
    assert not rule_decides(rule(1.0, is_end_to_end_prediction=True), tracker, domain)


def _sample(schema: dict) -> object:
    """A value of the first type a property schema allows (its `const` when it has one)."""
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "string")
    kind = kind[0] if isinstance(kind, list) else kind
    return {"string": "x", "number": 1.5, "integer": 2, "boolean": True, "object": {}, "array": [],
            "null": None}[kind]


def _corpus() -> list[object]:
    """Replies of every event kind Rasa's schema names: whole, missing each field, each field of a wrong type."""
    from bot.rasa_speedups import event_validators

    spec = RemoteAction.action_response_format_spec()
    events: list[object] = [{"event": "no_such_event"}, {"event": 3}, {}, "slot", None, {"event": "user", "x": 1}]
    for branch in spec["properties"]["events"]["items"]["oneOf"]:
        props = branch.get("properties", {})
        whole = {k: _sample(v) for k, v in props.items()}
        events.append(whole)
        for key in props:
            if key == "event":
                continue
            events.append({k: v for k, v in whole.items() if k != key})
            for wrong in (42, "x", [1], {"a": 1}, None, True):
                events.append({**whole, key: wrong})
    assert len(event_validators()[1]) == len(spec["properties"]["events"]["items"]["oneOf"])
    replies: list[object] = [{"events": [e]} for e in events]
    replies += [{"events": events[6:9], "responses": [{"text": "x"}]}, {"events": [], "responses": [1]}, [], 7]
    return replies


def test_the_split_check_agrees_with_the_whole_schema_on_every_event_kind() -> None:
    from bot.rasa_speedups import response_validator, valid_reply

    corpus = _corpus()
    verdicts = [(valid_reply(r), response_validator().is_valid(r)) for r in corpus]
    assert all(fast == whole for fast, whole in verdicts), [r for r, v in zip(corpus, verdicts, strict=True) if v[0] != v[1]]
    # Both kinds occur, so agreeing is not agreeing on one answer.
    assert sum(whole for _, whole in verdicts) > 40 and sum(not whole for _, whole in verdicts) > 40


def test_features_combine_as_rasas_pairwise_stacking_does() -> None:
    import numpy as np
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message

    from bot import rasa_speedups

    assert Message._combine_features is rasa_speedups.combine_features
    rasas = rasa_speedups.rasa_combine_features
    sparse = [Features(scipy.sparse.random(5, n, density=0.2, random_state=n, format="coo"), "sequence", "text",
                       f"f{n}") for n in (3, 40, 7, 90)]
    sparse.append(Features(scipy.sparse.random(5, 9, density=0.5, random_state=1, format="csr", dtype=np.float32),
                           "sequence", "text", "csr"))  # another format and type: upcast as hstack does
    dense = [Features(np.random.default_rng(n).random((1, 5, n)), "sentence", "text", f"d{n}") for n in (4, 6)]
    for parts in (sparse, sparse[:2], sparse[:1], dense, dense[:1], []):
        ours, theirs = rasa_speedups.combine_features(parts, ["a"]), rasas(parts, ["a"])
        if theirs is None:
            assert ours is None
            continue
        assert (ours.type, ours.attribute, ours.origin) == (theirs.type, theirs.attribute, theirs.origin)
        a, b = ours.features, theirs.features
        if scipy.sparse.issparse(b):
            assert scipy.sparse.issparse(a) and a.shape == b.shape and a.dtype == b.dtype and (a != b).nnz == 0
        else:
            assert np.array_equal(a, b)
    with pytest.raises(ValueError):  # sparse and dense do not mix, in either
        rasa_speedups.combine_features([sparse[0], dense[0]], [])
    with pytest.raises(ValueError):  # nor do different lengths
        rasa_speedups.combine_features([sparse[0], Features(scipy.sparse.coo_matrix((4, 2)), "sequence", "text", "x")],
                                       [])


def test_the_language_slot_is_filled_in_process_as_the_action_server_fills_it() -> None:
    import asyncio

    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered, deserialise_events
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig
    from rasa_sdk.executor import ActionExecutor

    from actions.language import ActionDetectLanguage
    from bot import rasa_speedups
    from bot.settings import ROOT

    assert ActionExtractSlots._run_custom_action is rasa_speedups.run_slot_action
    domain = Domain.load(str(ROOT / "domain"))
    endpoint = EndpointConfig("http://127.0.0.1:9/never-called")  # nothing listens: a remote call would fail
    executor = ActionExecutor()
    executor.register_action(ActionDetectLanguage)

    async def remote(tracker: DialogueStateTracker) -> list:
        """What the action server answers (rasa-sdk's own executor, given Rasa's call as JSON)."""
        call = json.loads(json.dumps(RemoteAction("action_detect_language", endpoint)._action_call_format(
            tracker, domain)))
        reply = await executor.run(call)
        return [e for e in deserialise_events(reply["events"]) if isinstance(e, SlotSet | BotUttered)]

    cases = [  # (text, intent, entities, metadata, language slot before)
        ("你好", "greet", [], {}, "en"),
        ("where is my order?", "order_status", [], {}, "zh"),
        ("我的order到哪了", "order_status", [], {}, "en"),
        ("我的订单到哪了", "order_status", [], {}, "zh"),  # already zh: nothing to set
        ("👍", "affirm", [], {"language": "en"}, "zh"),
        ("12345", "inform", [], {}, "en"),
        ("12345", "inform", [], {"language": "klingon"}, "en"),
        ('/inform{"order_id":"1"}', "inform", [], {}, "en"),
        ("", "EXTERNAL_unpaid_reminder", [{"entity": "language", "value": "en", "start": 0, "end": 0}], {}, "zh"),
    ]
    outcomes = []
    for text, intent, entities, metadata, before in cases:
        tracker = DialogueStateTracker.from_events("t", [
            ActionExecuted("action_listen"), SlotSet("language", before),
            UserUttered(text, {"name": intent, "confidence": 1.0}, entities, metadata=metadata)], domain.slots)
        ours = asyncio.run(rasa_speedups.run_slot_action(ActionExtractSlots(endpoint), "action_detect_language",
                                                         None, None, tracker, domain))
        assert ours == asyncio.run(remote(tracker)), text
        outcomes.append([(e.key, e.value) for e in ours])
    assert outcomes[:3] == [[("language", "zh")], [("language", "en")], [("language", "zh")]]
    assert outcomes[3] == [] and outcomes[4] == [("language", "en")] and outcomes[8] == [("language", "en")]


def test_rules_see_only_as_far_back_as_the_longest_rule_and_predict_as_rasa_does() -> None:
    """The trained RulePolicy on every prefix of the test stories, and of all of them run together
    as one long conversation: the same prediction (action, confidences, events, hidden turn) from
    the last few states as from Rasa's whole history."""
    import asyncio

    from rasa.core.agent import load_agent
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import rasa_speedups
    from tests.conftest import MODEL, graph_component, story_conversations

    assert MODEL.exists(), "no trained model: run `make train` (make test does it first)"
    agent = asyncio.run(load_agent(str(MODEL)))
    policy = graph_component(agent, RulePolicy)
    domain = agent.domain
    history = rasa_speedups.rule_history(policy)
    assert 2 <= history <= 5 and policy.featurizer.max_history is None
    stories = story_conversations(domain)
    stories.append([event for story in stories for event in story])  # one conversation of every story
    checked = longest = 0
    for number, events in enumerate(stories):
        for k in range(1, len(events) + 1):
            if not isinstance(events[k - 1], UserUttered | ActionExecuted):
                continue
            tracker = DialogueStateTracker.from_events(f"rules-{number}", events[:k], domain.slots)
            policy.featurizer.max_history = None
            rasas = rasa_speedups.rasa_rule_predict(policy, tracker, domain)
            ours = rasa_speedups.rule_predict(policy, tracker, domain)
            assert policy.featurizer.max_history == history
            assert ours == rasas, (number, k)
            checked += 1
            longest = max(longest, sum(isinstance(e, UserUttered) for e in events[:k]))
    assert checked > 1000 and longest > 150, (checked, longest)
