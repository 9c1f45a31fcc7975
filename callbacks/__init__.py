"""Thin @callback functions, one module per feature; importing them registers them."""

from callbacks import annotations, identity, labels, navigation, views

__all__ = ["annotations", "identity", "labels", "navigation", "views"]
