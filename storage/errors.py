"""Storage errors; each message is fit to show a labeler."""


def database_reason(exc: Exception) -> str:
    """The first line of what the database driver said (SQLAlchemy keeps it as `orig`)."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]


class StorageError(RuntimeError):
    """Something outside the process (disk, database, S3) failed."""


class ImageNotFound(StorageError):
    """The image key is not in the source (or tries to leave it)."""


class UnreadableImage(StorageError):
    """The file exists but cannot be decoded as an image."""


class SaveFailed(StorageError):
    """The annotation store could not write a change."""


class SourceUnavailable(StorageError):
    """The image source cannot be reached or refuses us (credentials, bucket, network)."""


class EditConflict(StorageError):
    """A change was made on an older version of a shape (another tab saved first)."""


class NothingToUndo(StorageError):
    """Undo was asked for, but the person has no change left to undo there."""
