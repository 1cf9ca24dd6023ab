"""xentsim: cross-entropy made operational with real bits.

Codes are built from an assumed distribution q alone; symbols are drawn from the true
distribution p, encoded to real bitstreams, decoded and checked; the measured bits per
symbol are reported next to H(p), H(p,q) and KL(p||q). Sources with memory (Markov
chains of order m) and context models are measured against the entropy, cross-entropy
and KL rates.
"""

from ._jitcache import ensure_writable_cache

ensure_writable_cache()  # before any compiled kernel is defined

from .codes import (BlockHuffmanCode, ContextArithmeticCode, ContextHuffmanCode,  # noqa: E402
                    HuffmanCode, ShannonCode)
from .distributions import (Pmf, bernoulli, dirichlet, dyadic, from_counts,  # noqa: E402
                            geometric, mix_uniform, sample, uniform, zipf)
from .engine import Measurement, build_code, simulate  # noqa: E402
from .measures import (chain_block_law, cross_entropy, cross_entropy_rate, entropy,  # noqa: E402
                       entropy_rate, js_divergence, kl_divergence, kl_rate,
                       stationary_distribution)
from .models import AdaptiveContextModel, ContextModel  # noqa: E402
from .sources import IIDSource, MarkovSource  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "AdaptiveContextModel", "BlockHuffmanCode", "ContextArithmeticCode", "ContextHuffmanCode",
    "ContextModel", "HuffmanCode", "IIDSource", "MarkovSource", "Measurement", "Pmf",
    "ShannonCode", "bernoulli", "build_code", "chain_block_law", "cross_entropy",
    "cross_entropy_rate", "dirichlet", "dyadic", "entropy", "entropy_rate", "from_counts",
    "geometric", "js_divergence", "kl_divergence", "kl_rate", "mix_uniform", "sample",
    "simulate", "stationary_distribution", "uniform", "zipf",
]
