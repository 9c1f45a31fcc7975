"""Where a shape came from: a person ("human"), or a detector, whose shapes are kept under
the annotator model:<name> with the source model:<name>@<version>."""

from __future__ import annotations

MODEL_PREFIX = "model:"


def model_annotator(name: str) -> str:
    """The annotator a detector's stored shapes belong to: model:<name>."""
    return (MODEL_PREFIX + name)[:64]


def model_source(name: str, version: str) -> str:
    """Where a shape came from: model:<name>@<version>."""
    return f"{MODEL_PREFIX}{name}@{version}"[:128]


def is_model(annotator: str) -> bool:
    """True for a detector's annotator name (model:<name>)."""
    return annotator.startswith(MODEL_PREFIX)


HUMAN = "human"  # the source of a shape a person drew
EDITED = "+edited"  # appended to a suggestion's source once a person changed it
_SOURCE_LENGTH = 128  # the stored column's width


def edited_source(source: str) -> str:
    """Where a shape came from once a person changed it: a model's source (an accepted
    suggestion, model:<name>@<version>) gets "+edited", once; "human" stays "human"."""
    if source == HUMAN or source.endswith(EDITED):
        return source
    return source[: _SOURCE_LENGTH - len(EDITED)] + EDITED


def is_unchanged_suggestion(source: str) -> bool:
    """True for a person's shape accepted from a detector's suggestion and never changed."""
    return source.startswith(MODEL_PREFIX) and not source.endswith(EDITED)


GOLD = "gold"  # the annotator of an image's reviewed annotation (adjudicated by a reviewer)


def is_gold(annotator: str) -> bool:
    """True for the reviewed ground truth's annotator name."""
    return annotator == GOLD


def is_person(annotator: str) -> bool:
    """True for a person's own work: not a detector's shapes and not gold."""
    return not is_model(annotator) and not is_gold(annotator)
