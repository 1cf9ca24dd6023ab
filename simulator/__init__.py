"""xentsim: cross-entropy made operational with real bits.

Codes are built from an assumed distribution q alone; symbols are drawn from the true
distribution p, encoded to real bitstreams, decoded and checked; the measured bits per
symbol are reported next to H(p), H(p,q) and KL(p||q).
"""

from ._jitcache import ensure_writable_cache

ensure_writable_cache()  # before any compiled kernel is defined

from .codes import BlockHuffmanCode, HuffmanCode, ShannonCode  # noqa: E402
from .distributions import (Pmf, bernoulli, dirichlet, dyadic, from_counts,  # noqa: E402
                            geometric, mix_uniform, sample, uniform, zipf)
from .engine import Measurement, build_code, simulate  # noqa: E402
from .measures import cross_entropy, entropy, js_divergence, kl_divergence  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "BlockHuffmanCode", "HuffmanCode", "Measurement", "Pmf", "ShannonCode", "bernoulli",
    "build_code", "cross_entropy", "dirichlet", "dyadic", "entropy", "from_counts",
    "geometric", "js_divergence", "kl_divergence", "mix_uniform", "sample", "simulate",
    "uniform", "zipf",
]
