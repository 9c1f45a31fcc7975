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
    navigation,
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
    "navigation",
    "views",
]
