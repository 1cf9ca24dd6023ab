"""The experiments behind every figure: one module per figure, run by ``xentsim reproduce``."""
