"""Delivery: where a decision goes once it is made, the same in both modes. In the embedded
default the engine hands each changed decision over directly; in scale-out the API process
receives the decisions that workers publish on the stream and hands them over here.

A decision is delivered as its JSON form (a dict): live subscribers (SSE/WebSocket) get every
one; an escalation also goes to the webhooks (contact-centre systems)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from attune.delivery.hub import DecisionHub
from attune.delivery.webhooks import Webhooks

DecisionSink = Callable[[dict[str, Any]], None]


class Delivery:
    def __init__(self, hub: DecisionHub, webhooks: Webhooks) -> None:
        self.hub = hub
        self.webhooks = webhooks
        self.delivered = 0
        self.sinks: list[DecisionSink] = []  # further receivers (e.g. the handoff queue)

    def deliver(self, decision: dict[str, Any]) -> None:
        """``decision["route"]``, when present (escalations), is for the sinks only: who and
        where, which subscribers and webhooks never see."""
        self.delivered += 1
        public = {k: v for k, v in decision.items() if k != "route"}
        self.hub.publish(public)
        if decision.get("escalate"):
            with contextlib.suppress(RuntimeError):  # no running loop (a CLI, a bench)
                self.webhooks.fire("escalation", public)
        for sink in self.sinks:
            sink(decision)
