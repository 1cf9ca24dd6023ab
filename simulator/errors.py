"""The public exceptions: the bottom of the import graph, imported by every layer."""


class XentsimError(ValueError):
    """Bad input to xentsim: the message names the argument and the value."""


class UnencodableSymbolError(XentsimError):
    """A symbol occurred that the code, built from q, gives no codeword (q(x) = 0)."""


class RoundTripError(RuntimeError):
    """A decoded message differed from the encoded one: a bug in a coder, never data."""
