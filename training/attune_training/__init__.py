"""attune-training: data builders, training runs, evaluation-set tools and model-card writers
for Attune's models. It depends on ``attune``; ``attune`` never imports it."""
