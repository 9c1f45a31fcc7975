"""Import/export codecs: pure functions, bytes/str in and out, no I/O."""
