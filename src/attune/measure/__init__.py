"""Measurement: KPIs beside the emotional layer, experiments (definitions, assignment,
frequentist/Bayesian/sequential read-outs, SRM, CUPED, segments), hard stops, ROI, emotion
heatmaps, churn early warning and model quality. The statistics are a pure core; ``load``,
``registry``, ``reports`` and ``stopper`` are the only modules that touch the store."""
