"""Thin @callback functions, one module per feature; importing them registers them."""

from callbacks import agreement, annotations, exchange, identity, labels, navigation, views

__all__ = ["agreement", "annotations", "exchange", "identity", "labels", "navigation", "views"]
