"""Records and pure rules: annotations, geometry, labels, statuses. No Dash, no I/O."""
