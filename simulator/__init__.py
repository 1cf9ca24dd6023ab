"""xentsim: cross-entropy made operational with real bits.

Codes are built from an assumed distribution q alone; symbols are drawn from the true
distribution p, encoded to real bitstreams, decoded and checked; the measured bits per
symbol are reported next to H(p), H(p,q) and KL(p||q). Sources with memory (Markov
chains of order m) and context models are measured against the entropy, cross-entropy
and KL rates.

``import simulator`` is light: the public names below are loaded from their modules on
first use (PEP 562), so the command line can print its help or refuse bad input without
importing the codes, the engine or numba. ``from simulator import X`` works as before for
every name in ``__all__``.
"""

from ._jitcache import ensure_writable_cache

ensure_writable_cache()  # before any compiled kernel is defined (they are all imported later)

__version__ = "0.1.0"

#: Where each public name lives: name -> submodule of ``simulator``.
_EXPORTS = {
    **dict.fromkeys(("BlockHuffmanCode", "ContextArithmeticCode", "ContextHuffmanCode",
                     "HuffmanCode", "ShannonCode"), "codes"),
    **dict.fromkeys(("Pmf", "bernoulli", "dirichlet", "dyadic", "from_counts", "geometric",
                     "mix_uniform", "sample", "uniform", "zipf"), "distributions"),
    **dict.fromkeys(("Measurement", "build_code", "simulate"), "engine"),
    **dict.fromkeys(("chain_block_law", "cross_entropy", "cross_entropy_rate", "entropy",
                     "entropy_rate", "js_divergence", "kl_divergence", "kl_rate",
                     "stationary_distribution"), "measures"),
    **dict.fromkeys(("AdaptiveContextModel", "ContextModel"), "models"),
    **dict.fromkeys(("IIDSource", "MarkovSource"), "sources"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Load a public name from its module on first use and keep it (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # Static imports (one per module), so the import-layer test sees every edge.
    if module == "codes":
        from . import codes as source
    elif module == "distributions":
        from . import distributions as source
    elif module == "engine":
        from . import engine as source
    elif module == "measures":
        from . import measures as source
    elif module == "models":
        from . import models as source
    else:
        from . import sources as source
    value = getattr(source, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
