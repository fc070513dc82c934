"""Rasa's model graph run in a plan worked out once, without dask's scheduler.

Profiled under load (py-spy --gil on `rasa run`, 20 shoppers), every parse
and every prediction went through `DaskGraphRunner.run`, which:
- recomputed the nodes its targets need (`GraphSchema._all_dependencies_schema`
  walks every path and re-walks the featurizers that several nodes share:
  5.6 % of Rasa's CPU on its own);
- rebuilt the dask graph from them and formatted a debug line holding the
  tracker, with debug logging off;
- then gave dask's local scheduler (task ordering, queues, its callbacks)
  about 10 % more, to run 5–15 nodes one after the other on one thread.

The nodes a set of targets needs never changes once the model is loaded, so
it is worked out once per set of targets: each node after everything it
needs, and nodes that only one node needs in the order that node lists them.
That runs the policies in config.yml's order, RulePolicy first, which
`bot.rasa_speedups.ted_predict` counts on. Each call runs those nodes in
turn, each given the outputs it names, as dask did. Rasa's nodes do all the
work; this only calls them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Optional

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

logger = logging.getLogger(__name__)

Plan = list[tuple[str, tuple[str, ...]]]  # (node, the nodes or inputs whose outputs it is given)
rasa_run = DaskGraphRunner.run


def plan(schema: GraphSchema, targets: Sequence[str]) -> Plan:
    """The nodes `targets` need, each after what it needs (depth first, in the order of `needs`)."""
    order: Plan = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        node = schema.nodes.get(name)
        if node is None:  # an input placeholder (the message, the tracker): given to run()
            return
        needs = tuple(node.needs.values())
        for need in needs:
            visit(need)
        order.append((name, needs))

    for target in targets:
        visit(target)
    return order


def run(self: DaskGraphRunner, inputs: Optional[dict[str, Any]] = None,
        targets: Optional[list[str]] = None) -> dict[str, Any]:
    """DaskGraphRunner.run: the same nodes called with the same inputs, in a kept plan."""
    run_targets = list(targets) if targets else self._graph_schema.target_names
    plans: dict[tuple[str, ...], Plan] = self.__dict__.setdefault("_kept_plans", {})
    key = tuple(run_targets)
    steps = plans.get(key)
    if steps is None:
        steps = plans[key] = plan(self._graph_schema, run_targets)
    # As dask was given them: an input is the pair (name, value) a node's output is.
    outputs: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and any(value == step for step, _ in steps):
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the input names "
                f"passed to the `run` method are the same as node names in the graph schema.")
        outputs[name] = (name, value)
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(f"Running graph with inputs: {inputs}, targets: {targets} and {self._execution_context}.")
    try:
        for name, needs in steps:
            if name in outputs:  # an input named like a node replaces it, as in dask's graph
                continue
            # An unresolved need reaches the node as its name, which GraphNode reports (as with dask).
            outputs[name] = self._instantiated_nodes[name](*(outputs.get(need, need) for need in needs))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(outputs[target] for target in run_targets)


def install() -> None:
    DaskGraphRunner.run = run  # type: ignore[method-assign]
