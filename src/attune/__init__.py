"""Attune: a self-hosted emotional-AI engine for customer experience."""

__version__ = "0.1.0"
