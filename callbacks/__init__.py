"""Thin @callback functions, one module per feature; importing them registers them."""

from callbacks import annotations, exchange, identity, labels, navigation, views

__all__ = ["annotations", "exchange", "identity", "labels", "navigation", "views"]
