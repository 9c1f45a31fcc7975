"""Layout builders: pure functions returning Dash components or figure dicts."""
