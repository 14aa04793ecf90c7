"""linkmesh shared library: what every linkmesh service repeats."""
