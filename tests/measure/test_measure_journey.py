"""The journey map: state transitions per step and channel, the Sankey SVG and the table."""

from __future__ import annotations

from attune.measure.journey import JourneySession, journey, journey_by_channel
from attune.measure.reports import render_html
from attune.measure.sankey import sankey

STEPS = ["/cart", "/checkout/delivery", "/checkout/payment"]


def _sessions() -> list[JourneySession]:
    out = []
    for i in range(60):
        states = {"/checkout/payment": "frustrated"} if i % 3 == 0 else {}
        if i % 10 == 1:
            states = {"/cart": "confused", "/checkout/delivery": "neutral"}
        visits = [*STEPS]
        if i % 20 == 0:
            visits.insert(1, "/help")  # a rare detour: left out, its state carried on
            states = {"/help": "confused"}
        dropped = "/checkout/payment" if i % 3 == 0 else None
        out.append(JourneySession(f"s{i}", "chat" if i % 2 else "web", visits, states, dropped))
    return out


def test_transitions_per_step_say_where_states_turn() -> None:
    rep = journey(_sessions())
    assert rep["steps"] == STEPS  # /help is a detour under the 20 % rule
    pay = rep["table"][2]
    assert pay["step"] == "/checkout/payment" and pay["sessions"] == 60
    assert pay["turned_negative"] == 20 - 3 + 0  # neutral -> frustrated (3 arrive confused)
    assert pay["dropped_here"] == 20
    delivery = rep["table"][1]
    assert delivery["recovered"] == 6  # confused at /cart, neutral at delivery
    carried = [
        ln
        for ln in rep["links"]
        if ln["from_step"] == "/cart"
        and ln["to_step"] == "/checkout/delivery"
        and ln["to_state"] == "confused"
    ]
    assert carried and carried[0]["sessions"] == 3  # the detour's confusion carried on


def test_per_channel_maps_and_a_sankey_with_numbers() -> None:
    rep = journey_by_channel(_sessions())
    assert set(rep["by_channel"]) == {"chat", "web"}
    only_web = journey_by_channel(_sessions(), channel="web")
    assert only_web["sessions"] == 30 and only_web["by_channel"] == {}
    svg = sankey(rep)
    assert svg.startswith("<svg") and "frustrated 17" in svg and "dropped 20" in svg
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org", "")
    html = render_html("journey", rep, "Journey map")
    assert "turned negative" in html and html.count("<svg") == 3
    empty = render_html("journey", journey_by_channel([]), "Journey map")
    assert "No journey yet" in empty
