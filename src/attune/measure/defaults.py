"""The standard checkout experiment, used for the demo and when a stored session names an
experiment that was never registered (the report then says so)."""

from __future__ import annotations

from attune.measure.experiments import ExperimentDefinition, Guardrail, Metric


def checkout_definition(experiment_id: str = "demo-checkout") -> ExperimentDefinition:
    return ExperimentDefinition(
        id=experiment_id,
        hypothesis=(
            "Adapting the checkout to shoppers' frustration, confusion and anxiety "
            "(simpler view, guidance, reassurance, a human) lowers dropout without "
            "making more sessions frustrated."
        ),
        treatment_playbook="shop",
        moment="checkout",
        primary=Metric("dropout", higher_is_better=False),
        secondary=(
            Metric("conversion"),
            Metric("order_value", kind="mean"),
            Metric("negative_share", higher_is_better=False),
        ),
        guardrails=(
            Guardrail("dropout", max_relative_change=0.2, min_per_arm=200),
            Guardrail("frustrated_share", max_relative_change=0.3, min_per_arm=200),
        ),
        min_sample_per_arm=500,
        mde_relative=0.2,
        segments=("device", "intensity", "customer_type"),
    )
