"""Agreement, bias and consensus: pandas/numpy/scipy; no Dash, no I/O."""
