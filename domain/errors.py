"""Errors raised by domain rules; each carries a message fit to show a labeler."""


class DomainError(ValueError):
    """A rule of the domain was broken by some input."""


class ShapeError(DomainError):
    """A shape from the browser or the grid cannot be turned into an annotation."""


class LabelError(DomainError):
    """A label is unknown to the project or the label list is malformed."""


class AnnotatorNameError(DomainError):
    """An annotator name is empty or too long."""


class AccountError(DomainError):
    """A users file or USERS entry, a role or a password cannot be used."""


class ReviewError(DomainError):
    """A review action that cannot be taken: empty comment, nobody to send back to, ..."""
