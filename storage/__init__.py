"""Everything that touches the outside: image sources, the annotation store, caches."""
