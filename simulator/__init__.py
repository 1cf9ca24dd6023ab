"""xentsim: cross-entropy made operational with real bits."""
__version__ = "0.1.0"
