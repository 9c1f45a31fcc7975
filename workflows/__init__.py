"""Use cases that join the pure packages (formats, later analysis) to storage; used by
callbacks and cli.py alike."""
