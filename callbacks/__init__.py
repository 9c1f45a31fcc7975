"""Thin @callback functions, one module per feature; importing them registers them."""

from callbacks import (
    activity,
    admin,
    agreement,
    annotations,
    exchange,
    history,
    identity,
    labels,
    model_jobs,
    navigation,
    suggestions,
    views,
)

__all__ = [
    "activity",
    "admin",
    "agreement",
    "annotations",
    "exchange",
    "history",
    "identity",
    "labels",
    "model_jobs",
    "navigation",
    "suggestions",
    "views",
]
