"""Codes seen through a wrapper, shared by the engine and streaming tests."""

import numpy as np


class Whole:
    """A code seen without its streaming methods: simulate codes its messages whole."""

    def __init__(self, code):
        self._code = code

    def __getattr__(self, name):
        if name in ("encoder", "decoder"):
            raise AttributeError(name)
        return getattr(self._code, name)


class FlipPulled:
    """A streaming code whose decoder hands out the symbols at message positions
    ``start`` <= t < ``stop`` wrong (their low bit flipped): a fault in the decoding that
    only a decoder reaching position ``start`` meets."""

    def __init__(self, code, start: int, stop: int | None = None):
        self._code, self._start, self._stop = code, start, stop

    def __getattr__(self, name):
        return getattr(self._code, name)

    def decoder(self, n_symbols):
        inner, pulled = self._code.decoder(n_symbols), [0]
        start, stop = self._start, self._stop

        class Decoder:
            def __getattr__(self, name):
                return getattr(inner, name)

            def pull(self, count):
                y = inner.pull(count).copy()
                t = pulled[0] + np.arange(y.size)
                y[(t >= start) & ((t < stop) if stop is not None else True)] ^= 1
                pulled[0] += y.size
                return y

        return Decoder()
