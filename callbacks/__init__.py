"""Thin @callback functions, one module per feature; importing them registers them."""

from callbacks import (
    activity,
    admin,
    agreement,
    annotations,
    exchange,
    gallery,
    history,
    identity,
    labels,
    model_jobs,
    navigation,
    qa,
    review,
    suggestions,
    views,
)

__all__ = [
    "activity",
    "admin",
    "agreement",
    "annotations",
    "exchange",
    "gallery",
    "history",
    "identity",
    "labels",
    "model_jobs",
    "navigation",
    "qa",
    "review",
    "suggestions",
    "views",
]
