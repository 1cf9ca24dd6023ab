"""The measurement: real bits, checked round trips, intervals centred where theory says."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from simulator._validate import UnencodableSymbolError, XentsimError
from simulator.distributions import mix_uniform, zipf
from simulator.engine import simulate
from wrappers import FlipPulled, Whole

ROOT = Path(__file__).resolve().parents[1]
P_A, Q_A = [0.1, 0.9], [0.9, 0.1]  # THEORY example A: p = Bern(.9), q = Bern(.1)


@pytest.mark.parametrize("code, block", [("huffman", None), ("shannon", None), ("block-huffman", 6)])
def test_bits_per_symbol_lies_in_its_99_interval_around_the_exact_expected_length(code, block):
    p = zipf(256, 1.1)
    q = mix_uniform(zipf(256, 0.8), 0.1) if code != "block-huffman" else Q_A
    p = p if code != "block-huffman" else P_A
    m = simulate(p, q, code, n=200_000, trials=2, block=block, rng=np.random.default_rng(11))
    assert m.roundtrip_ok
    lo, hi = m.ci99
    assert lo <= m.expected_bits_per_symbol <= hi


def test_interval_half_width_is_bernstein_with_the_exact_variance_for_example_a():
    # The Shannon code's lengths (1 and 4 bits) under p = Bern(.9) have mean 3.7,
    # Var = 9 * 0.9 * 0.1 = 0.81 and largest deviation 2.7. Bernstein at delta = 0.01
    # for m = 10^4 units: m t^2 = (2 Var + 2 (2.7) t / 3) ln(200), solved for t.
    m = simulate(P_A, Q_A, "shannon", n=10_000, rng=np.random.default_rng(3))
    c = math.log(200)
    a = 2 * 2.7 * c / 3
    t = (a + math.sqrt(a * a + 8 * 10_000 * 0.81 * c)) / (2 * 10_000)
    half = (m.ci99[1] - m.ci99[0]) / 2
    assert half == pytest.approx(t, rel=1e-12)
    assert m.ci99[0] < m.bits_per_symbol < m.ci99[1]
    assert m.expected_bits_per_symbol == 3.7  # 0.9 * 4 + 0.1 * 1
    assert m.ci_method == "bernstein"


def test_measurement_reports_theory_beside_the_bits():
    m = simulate([0.7, 0.2, 0.1], [0.2, 0.3, 0.5], "huffman", n=1000, rng=np.random.default_rng(0))
    assert m.entropy_bits == pytest.approx(1.156780, abs=1e-6)
    assert m.cross_entropy_bits == pytest.approx(2.072743, abs=1e-6)
    assert m.kl_bits == pytest.approx(2.072743 - 1.156780, abs=2e-6)
    assert m.excess_bits == pytest.approx(m.bits_per_symbol - m.entropy_bits)
    assert m.total_bits == sum(m.trial_bits)
    d = m.to_dict()
    for key in ("code", "n_symbols", "trials", "seed", "total_bits", "bits_per_symbol",
                "entropy_bits", "cross_entropy_bits", "kl_bits", "excess_bits",
                "expected_bits_per_symbol", "ci99", "roundtrip_ok", "encode_seconds",
                "decode_seconds"):
        assert key in d


def test_same_seed_same_bits_and_different_seed_different_bits():
    kw = dict(n=50_000, trials=3)
    a = simulate(zipf(50, 1.0), zipf(50, 0.5), "huffman", rng=np.random.default_rng(5), **kw)
    b = simulate(zipf(50, 1.0), zipf(50, 0.5), "huffman", rng=np.random.default_rng(5), **kw)
    c = simulate(zipf(50, 1.0), zipf(50, 0.5), "huffman", rng=np.random.default_rng(6), **kw)
    assert a.trial_bits == b.trial_bits
    assert a.trial_bits != c.trial_bits


def test_trials_are_independent_messages():
    m = simulate(zipf(50, 1.0), zipf(50, 0.5), "shannon", n=10_000, trials=4, rng=np.random.default_rng(1))
    assert len(set(m.trial_bits)) == 4


def test_a_symbol_q_cannot_code_is_a_clear_error():
    with pytest.raises(UnencodableSymbolError, match="H\\(p,q\\) is infinite"):
        simulate([0.5, 0.5], [1.0, 0.0], "huffman", n=100, rng=np.random.default_rng(0))


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(code="lz77"), "code is 'lz77'"),
    (dict(code="huffman", block=3), "block size is only for block-huffman"),
    (dict(code="block-huffman"), "needs a block size"),
    (dict(code="huffman", n=0), "n is 0"),
    (dict(code="huffman", trials=0), "trials is 0"),
])
def test_bad_arguments_are_named(kwargs, fragment):
    args = dict(n=10, rng=np.random.default_rng(0))
    args.update(kwargs)
    with pytest.raises(XentsimError, match=fragment):
        simulate([0.5, 0.5], [0.5, 0.5], **args)


def test_an_rng_is_required_and_must_be_a_generator():
    with pytest.raises(XentsimError, match="numpy Generator"):
        simulate([0.5, 0.5], [0.5, 0.5], "huffman", n=10, rng=1)


# --------------------------------------------------------------------------- coverage

def _miss_threshold(reps: int, rate: float = 0.01, level: float = 1e-3) -> int:
    """Smallest c with P(Binomial(reps, rate) > c) <= level: with a true miss rate of
    at most 1%, a count above c happens with probability at most 0.1%."""
    cdf = 0.0
    for c in range(reps + 1):
        cdf += math.comb(reps, c) * rate**c * (1 - rate) ** (reps - c)
        if 1 - cdf <= level:
            return c
    return reps


def test_miss_threshold_is_the_binomial_quantile():
    assert _miss_threshold(400) == 11  # P(Bin(400, .01) > 11) = 0.00085, > 10: 0.0027
    assert _miss_threshold(300) == 10  # P(Bin(300, .01) > 10) = 0.00026, > 9: 0.00102


SKEWED_P, SKEWED_Q = [0.999, 0.001], [1 - 2.0**-20, 2.0**-20]


@pytest.mark.parametrize("code, p, q, n, block", [
    ("shannon", SKEWED_P, SKEWED_Q, 1000, None),  # the normal interval covered 63% here
    ("huffman", SKEWED_P, SKEWED_Q, 1000, None),  # zero variance: lengths (1, 1)
    ("arithmetic", SKEWED_P, SKEWED_Q, 1000, None),
    ("block-huffman", [0.9, 0.1], [0.1, 0.9], 1001, 3),  # a partial final block
    ("shannon", zipf(64, 1.5), zipf(64, 0.5), 200, None),
], ids=["shannon-skewed", "huffman-zero-variance", "arithmetic-skewed", "block-tail", "zipf"])
def test_ci99_covers_the_exact_expectation_at_least_99_percent_of_the_time(code, p, q, n, block):
    reps = 400
    rng = np.random.default_rng(20261130)
    misses = 0
    for _ in range(reps):
        m = simulate(p, q, code, n=n, block=block, rng=rng)
        assert m.ci_method == "bernstein"
        misses += not (m.ci99[0] <= m.expected_bits_per_symbol <= m.ci99[1])
    assert misses <= _miss_threshold(reps)


def test_a_zero_variance_code_has_its_exact_expectation_inside_its_interval():
    # Huffman on uniform(16): every length is 4. p = 0.1 ten times sums to
    # 0.9999999999999999 in binary64, so a plain dot product gives 3.9999999999999996.
    p = [0.1] * 10 + [0.0] * 6
    m = simulate(p, [1 / 16] * 16, "huffman", n=1000, trials=3, rng=np.random.default_rng(0))
    assert m.bits_per_symbol == 4.0 and m.expected_bits_per_symbol == 4.0
    assert m.ci99[0] <= 4.0 <= m.ci99[1]
    assert m.ci99[1] - m.ci99[0] < 1e-14


def test_the_arithmetic_interval_includes_the_coders_slack_asymmetrically():
    # slack [-8, +1] bits per message: the interval reaches 1/n below and 8/n above
    # the Bernstein interval around the measured value.
    m = simulate([0.5, 0.5], [0.5, 0.5], "arithmetic", n=1000, rng=np.random.default_rng(1))
    # q^ = (1/2, 1/2): every ideal length is 1 bit, zero variance.
    assert m.expected_bits_per_symbol == 1.0
    assert m.ci99[0] == pytest.approx(m.bits_per_symbol - 1 / 1000, abs=1e-12)
    assert m.ci99[1] == pytest.approx(m.bits_per_symbol + 8 / 1000, abs=1e-12)


# --------------------------------------------------------------------------- dependent sources

class StickyChain:
    """A toy dependent source: a Markov chain on 3 symbols that keeps its symbol with
    probability ``stay`` and otherwise moves to one of the other two, equally likely.
    The stationary law is uniform and the chain starts in it."""

    independent = False
    n_symbols = 3

    def __init__(self, stay: float):
        self.stay = stay

    def sample(self, n, *, rng):
        move = rng.random(n) >= self.stay
        step = np.where(move, rng.integers(1, 3, n), 0)
        step[0] = rng.integers(0, 3)
        return (np.cumsum(step) % 3).astype(np.uint8)

    def marginal(self):
        return np.full(3, 1 / 3)

    def block_law(self, k):
        P = np.full((3, 3), (1 - self.stay) / 2)
        np.fill_diagonal(P, self.stay)
        law = np.full(3, 1 / 3)
        for _ in range(k - 1):  # extend each tuple t by x with P(last symbol of t, x)
            law = (law[:, None] * P[np.arange(law.size) % 3]).reshape(-1)
        return law

    def entropy_rate_bits(self):
        a = self.stay
        return -(a * math.log2(a) + (1 - a) * math.log2((1 - a) / 2))


def test_the_sticky_chain_laws_are_consistent():
    s = StickyChain(0.9)
    law = s.block_law(2)
    assert law.sum() == pytest.approx(1.0) and law[0] == pytest.approx(0.3)  # P(0, 0)
    assert s.block_law(3)[0] == pytest.approx(0.27) and s.block_law(3)[1] == pytest.approx(0.015)
    x = s.sample(1000, rng=np.random.default_rng(0))
    assert (np.diff(x.astype(int)) == 0).mean() > 0.8


@pytest.mark.parametrize("trials, n, method", [(1, 20_000, "batch-means"), (20, 1000, "trials")])
def test_a_dependent_source_gets_a_dependent_interval_that_covers(trials, n, method):
    # Huffman lengths for q = (1/2, 1/4, 1/4) are (1, 2, 2); the chain is stationary
    # uniform, so the expectation is exactly 5/3. The chain's correlation time is
    # (1 + 0.85) / (1 - 0.85) = 12 symbols, far below the 1000-symbol batches.
    reps = 300
    rng = np.random.default_rng(7)
    misses = 0
    for _ in range(reps):
        m = simulate(StickyChain(0.9), [0.5, 0.25, 0.25], "huffman", n=n, trials=trials, rng=rng)
        assert m.ci_method == method
        misses += not (m.ci99[0] <= 5 / 3 <= m.ci99[1])
    assert m.expected_bits_per_symbol == pytest.approx(5 / 3, rel=1e-15)
    assert misses <= _miss_threshold(reps)


def test_an_interval_assuming_independence_would_be_too_narrow_for_the_sticky_chain():
    # The batch-means interval is wider than the i.i.d. Bernstein one on the same bits,
    # because runs of equal symbols make the lengths positively correlated.
    m = simulate(StickyChain(0.9), [0.5, 0.25, 0.25], "huffman", n=20_000,
                 rng=np.random.default_rng(3))
    iid = simulate([1 / 3] * 3, [0.5, 0.25, 0.25], "huffman", n=20_000, rng=np.random.default_rng(3))
    assert (m.ci99[1] - m.ci99[0]) > 1.5 * (iid.ci99[1] - iid.ci99[0])


# --------------------------------------------------------------------------- no unit law

def test_an_adaptive_code_uses_trials_and_one_message_gives_an_infinite_interval():
    one = simulate([0.9, 0.1], [0.5, 0.5], "arithmetic", model="kt", n=500, rng=np.random.default_rng(0))
    assert one.ci_method == "none" and one.ci99 == (-math.inf, math.inf)
    many = simulate([0.9, 0.1], [0.5, 0.5], "arithmetic", model="kt", n=500, trials=10,
                    rng=np.random.default_rng(0))
    assert many.ci_method == "trials" and math.isfinite(many.ci99[1] - many.ci99[0])
    y = np.array(many.trial_bits) / 500
    half = 3.2498355416 * y.std(ddof=1) / math.sqrt(10)  # t_{0.995, 9}
    assert many.ci99[0] == pytest.approx(many.bits_per_symbol - half - 1 / 500, abs=1e-12)
    assert many.ci99[1] == pytest.approx(many.bits_per_symbol + half + 8 / 500, abs=1e-12)


# --------------------------------------------------------------------------- JSON

@pytest.mark.parametrize("kwargs", [
    dict(p=[0.5, 0.5], q=[0.5, 0.5], code="huffman", n=1),
    dict(p=[0.9, 0.1], q=[0.5, 0.5], code="arithmetic", model="kt", n=50),
    dict(p=[0.5, 0.5], q=[0.5, 0.5], code="block-huffman", block=2, n=1),
])
def test_to_dict_is_strict_json_and_non_finite_numbers_follow_one_rule(kwargs):
    m = simulate(rng=np.random.default_rng(0), **kwargs)
    d = m.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    for lo_hi in (d["ci99"],):
        assert all(v in ("inf", "-inf") or isinstance(v, float) for v in lo_hi)
    if kwargs.get("model") == "kt":
        assert d["ci99"] == ["-inf", "inf"] and d["expected_bits_per_symbol"] is None


# --------------------------------------------------------------------------- registry

def test_code_names_are_the_registry_and_a_registered_code_needs_no_engine_change(monkeypatch):
    from simulator.codes import ShannonCode

    from simulator import engine
    from test_bounds import InterfaceOnly

    assert engine.CODE_NAMES == tuple(engine.CODES)
    monkeypatch.setitem(engine.CODES, "shannon-wrapped",
                        engine.CodeEntry(lambda q: InterfaceOnly(ShannonCode(q))))
    a = simulate(P_A, Q_A, "shannon-wrapped", n=5000, rng=np.random.default_rng(2))
    b = simulate(P_A, Q_A, "shannon", n=5000, rng=np.random.default_rng(2))
    assert a.trial_bits == b.trial_bits and a.ci99 == b.ci99
    assert a.expected_bits_per_symbol == b.expected_bits_per_symbol == 3.7


def test_simulate_accepts_a_source_for_p():
    from simulator.sources import IIDSource

    a = simulate(IIDSource(P_A), Q_A, "huffman", n=2000, rng=np.random.default_rng(4))
    b = simulate(P_A, Q_A, "huffman", n=2000, rng=np.random.default_rng(4))
    assert a.trial_bits == b.trial_bits


# --------------------------------------------------------------------------- memory

def test_a_message_too_large_for_memory_is_refused_naming_n_and_the_limit():
    # messages are coded in chunks: n = 10^12 needs a few MiB, so only a limit below
    # that refuses it
    with pytest.raises(XentsimError, match=r"n = 1000000000000 symbols per message needs about "
                                           r".* above the memory limit of 2 MiB \(the memory_limit"):
        simulate([0.5, 0.5], [0.5, 0.5], "huffman", n=10**12, rng=np.random.default_rng(0),
                 memory_limit="2M")
    with pytest.raises(XentsimError, match=r"trials = 1000000000000 messages needs"):
        simulate([0.5, 0.5], [0.5, 0.5], "huffman", n=10, trials=10**12,
                 rng=np.random.default_rng(0))


def test_the_memory_limit_comes_from_the_environment_variable(monkeypatch):
    monkeypatch.setenv("XENTSIM_MEMORY_LIMIT", "4M")
    with pytest.raises(XentsimError, match=r"above the memory limit of 4 MiB \(XENTSIM_MEMORY_LIMIT\)"):
        simulate([0.5, 0.5], [0.5, 0.5], "huffman", n=10**6, rng=np.random.default_rng(0))
    m = simulate([0.5, 0.5], [0.5, 0.5], "huffman", n=10**6, rng=np.random.default_rng(0),
                 memory_limit="1G")
    assert m.total_bits == 10**6


@pytest.mark.parametrize("code, block", [("huffman", None), ("block-huffman", 3), ("arithmetic", None)])
def test_the_memory_estimate_bounds_the_real_peak(code, block):
    # The peak of everything numpy, bitarray and Python allocate during one call (traced
    # by tracemalloc) must stay below the estimate the refusal compares with the limit.
    import simulator.engine
    from simulator.engine import build_code, estimate_peak_bytes
    from simulator.sources import IIDSource

    p, q = zipf(8, 1.1), mix_uniform(zipf(8, 0.8), 0.1)
    n = 2_000_001
    simulate(p, q, code, n=1000, block=block, rng=np.random.default_rng(0))  # compile first
    tracemalloc.start()
    try:
        simulate(p, q, code, n=n, block=block, rng=np.random.default_rng(0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    est = estimate_peak_bytes(build_code(q, code, block=block), IIDSource(p), n, 1,
                              unit_arrays=block is not None)
    # symbols, decoded copy and comparison mask of one chunk at least
    assert 3 * min(n, simulator.engine.CHUNK) <= peak <= est


# --------------------------------------------------------------------------- compiled kernels

def test_kernels_work_without_a_writable_home_or_package_folder_and_timings_exclude_compiling(tmp_path):
    # A copy of the package whose __pycache__ folders cannot be created (a file is in
    # the way; also read-only for non-root users), HOME pointing at a file, no
    # NUMBA_CACHE_DIR: numba alone cannot cache there and fails at import. A fresh
    # TMPDIR forces a real compilation, which must land in warmup_seconds.
    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "simulator", pkg / "simulator",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for folder in [p for p in (pkg / "simulator").rglob("*") if p.is_dir()] + [pkg / "simulator"]:
        (folder / "__pycache__").write_text("not a folder")
    for path in (pkg / "simulator").rglob("*"):
        path.chmod(0o444 if path.is_file() else 0o555)
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(pkg))
    script = (
        "import os, numpy as np\n"
        "from simulator import simulate\n"
        "m = simulate([0.7, 0.2, 0.1], [0.2, 0.3, 0.5], 'huffman', n=1000,"
        " rng=np.random.default_rng(0))\n"
        "print(os.environ['NUMBA_CACHE_DIR'], m.total_bits, m.encode_seconds, m.decode_seconds,"
        " m.sample_seconds, m.warmup_seconds)\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                       cwd=tmp_path)
    try:
        assert r.returncode == 0, r.stderr
        cache, bits, enc, dec, smp, warm = r.stdout.split()
        assert cache.startswith(str(tmp)) and os.listdir(cache)  # kernels were cached there
        assert int(bits) > 0
        # compiling the kernels takes far longer than drawing and coding 1000 symbols
        assert float(warm) > 10 * max(float(enc), float(dec), float(smp))
    finally:
        for path in [pkg, *pkg.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)


# --------------------------------------------------------------------------- Markov sources

STAY = 0.95
#: A 3-symbol chain that keeps its symbol with probability 0.95 (stationary law uniform).
STICKY95 = np.full((3, 3), (1 - STAY) / 2) + np.eye(3) * (STAY - (1 - STAY) / 2)


class ClaimsIndependence:
    """The same chain, but claiming to be i.i.d.: the engine then builds the Bernstein
    interval that assumes independent code lengths."""

    independent = True

    def __init__(self, source):
        self.source = source
        self.n_symbols = source.n_symbols

    def sample(self, n, *, rng):
        return self.source.sample(n, rng=rng)

    def marginal(self):
        return self.source.marginal()

    def block_law(self, k):
        return self.source.block_law(k)

    def entropy_rate_bits(self):
        return self.source.entropy_rate_bits()


def _coverage(source, q, code, n, reps, seed, expected=None, **kw):
    rng = np.random.default_rng(seed)
    misses, methods = 0, set()
    for _ in range(reps):
        m = simulate(source, q, code, n=n, rng=rng, **kw)
        methods.add(m.ci_method)
        theta = m.expected_bits_per_symbol if expected is None else expected
        misses += not (m.ci99[0] <= theta <= m.ci99[1])
    return misses, methods


def test_one_message_of_a_sticky_chain_gets_a_batch_means_interval_that_covers():
    # Huffman lengths (1, 2, 2) on the stay-0.95 chain: E = 5/3 exactly. The lengths'
    # correlation time is (1 + 0.925) / (1 - 0.925) ~ 26 symbols; batches of 1000.
    from simulator.sources import MarkovSource

    misses, methods = _coverage(MarkovSource(STICKY95), [0.5, 0.25, 0.25], "huffman",
                                n=20_000, reps=300, seed=12, expected=5 / 3)
    assert methods == {"batch-means"}
    assert misses <= _miss_threshold(300)


def test_an_iid_interval_on_the_same_sticky_chain_misses_far_more_than_one_percent():
    # The same messages with the Bernstein interval for independent lengths: the
    # variance of the mean is about 26 times larger than it assumes, and a valid 99%
    # interval would miss at most _miss_threshold(300) = 10 times (with probability 99.9%).
    from simulator.sources import MarkovSource

    misses, methods = _coverage(ClaimsIndependence(MarkovSource(STICKY95)), [0.5, 0.25, 0.25],
                                "huffman", n=20_000, reps=300, seed=12, expected=5 / 3)
    assert methods == {"bernstein"}
    assert misses > 5 * _miss_threshold(300)


def test_a_context_model_on_a_sticky_chain_covers_its_exact_expectation_with_one_message():
    # Arithmetic coding with the order-1 context model of a mismatched chain: the
    # lengths -log2 q^(x_t | x_{t-1}) are dependent; the expectation counts the first
    # symbol's zero-padded context exactly.
    from simulator.sources import MarkovSource

    Q = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    misses, methods = _coverage(MarkovSource(STICKY95), Q, "arithmetic", n=20_000, reps=200,
                                seed=13)
    assert methods == {"batch-means"}
    assert misses <= _miss_threshold(200)


def test_a_context_code_on_an_iid_source_uses_a_dependent_interval():
    # one Huffman code per context: a length depends on the previous symbol, so the
    # lengths are dependent even though the symbols are not
    Q = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    m = simulate([0.5, 0.3, 0.2], Q, "huffman", n=10_000, rng=np.random.default_rng(0))
    assert m.ci_method == "batch-means" and m.model_order == 1 and m.source_order == 0
    assert m.ci99[0] <= m.expected_bits_per_symbol <= m.ci99[1]


def test_a_markov_source_reports_rates_and_the_marginal_decomposition():
    P = [[0.9, 0.1], [0.2, 0.8]]  # pi = (2/3, 1/3)
    m = simulate(P, [0.5, 0.5], "arithmetic", n=50_000, rng=np.random.default_rng(1))
    rate = 2 / 3 * -(0.9 * math.log2(0.9) + 0.1 * math.log2(0.1)) \
        + 1 / 3 * -(0.2 * math.log2(0.2) + 0.8 * math.log2(0.8))
    h_pi = -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    assert m.entropy_rate_bits == pytest.approx(rate, rel=1e-13) == m.entropy_bits
    assert m.cross_entropy_rate_bits == pytest.approx(1.0, rel=1e-14)
    assert m.marginal_entropy_bits == pytest.approx(h_pi, rel=1e-13)
    assert m.memory_bits == pytest.approx(h_pi - rate, rel=1e-12)
    assert m.marginal_kl_bits == pytest.approx(1 - h_pi, rel=1e-12)
    # H(pi, q) = rate + memory + marginal KL, and the coder pays it (q^ = q exactly here)
    assert m.entropy_rate_bits + m.memory_bits + m.marginal_kl_bits == pytest.approx(1.0, rel=1e-14)
    assert m.expected_bits_per_symbol == 1.0 and m.source_order == 1 and m.model_order == 0
    d = m.to_dict()
    for key in ("entropy_rate_bits", "cross_entropy_rate_bits", "kl_rate_bits",
                "marginal_entropy_bits", "memory_bits", "marginal_kl_bits"):
        assert key in d
    # an order-1 q: rates only (no marginal decomposition), exact expectation with start
    Q = [[0.7, 0.3], [0.4, 0.6]]
    c = simulate(P, Q, "arithmetic", n=50_000, rng=np.random.default_rng(1))
    assert c.cross_entropy_rate_bits == pytest.approx(0.709194, abs=1e-6)
    assert c.kl_rate_bits == pytest.approx(0.709194 - rate, abs=1e-6)
    assert "memory_bits" not in c.to_dict() and c.model_order == 1
    assert c.model_cross_entropy_bits == pytest.approx(c.cross_entropy_rate_bits, abs=1e-6)
    assert c.ci99[0] <= c.expected_bits_per_symbol <= c.ci99[1]


def test_the_expectation_of_a_context_code_counts_the_zero_padded_start():
    # n = 2, order 1, from the stationary chain: E = E[l(x0 | 0)] + E[l(x1 | x0)], by hand
    P = np.array([[0.9, 0.1], [0.2, 0.8]])
    Q = np.array([[0.5, 0.5], [0.25, 0.75]])
    m = simulate(P, Q, "arithmetic", n=2, rng=np.random.default_rng(0))
    pi = np.array([2 / 3, 1 / 3])
    first = -(pi @ np.log2(Q[0]))
    second = -sum(pi[a] * P[a, b] * math.log2(Q[a, b]) for a in range(2) for b in range(2))
    assert m.expected_bits_per_symbol == pytest.approx((first + second) / 2, rel=1e-12)


def test_adaptive_kt_with_contexts_learns_the_chain():
    P = [[0.95, 0.05], [0.05, 0.95]]
    m0 = simulate(P, [0.5, 0.5], "arithmetic", model="kt", n=20_000, trials=20,
                  rng=np.random.default_rng(2))
    m1 = simulate(P, [0.5, 0.5], "arithmetic", model="kt", order=1, n=20_000, trials=20,
                  rng=np.random.default_rng(2))
    assert m1.model_order == 1 and m1.ci_method == "trials"
    # order 0 cannot see the memory: about H(pi) = 1 bit; order 1 reaches the rate 0.286
    assert m0.bits_per_symbol > 0.99
    assert m1.bits_per_symbol < 0.29 + 20 * math.log2(20_000) / 20_000


def test_a_model_on_another_alphabet_or_a_bad_combination_is_refused():
    P = [[0.9, 0.1], [0.2, 0.8]]
    with pytest.raises(XentsimError, match="p has 2 symbols but q has 3"):
        simulate(P, [[1 / 3] * 3] * 3, "huffman", n=10, rng=np.random.default_rng(0))
    with pytest.raises(XentsimError, match="order-1 model .* shannon is built from a pmf"):
        simulate(P, P, "shannon", n=10, rng=np.random.default_rng(0))
    with pytest.raises(XentsimError, match="--order sets the context order of the adaptive"):
        simulate(P, P, "arithmetic", order=2, n=10, rng=np.random.default_rng(0))
    with pytest.raises(XentsimError, match="order .* is only for arithmetic coding"):
        simulate(P, P, "huffman", order=2, n=10, rng=np.random.default_rng(0))


def test_the_memory_estimate_bounds_the_real_peak_of_a_context_code():
    from simulator.engine import build_code, estimate_peak_bytes
    from simulator.sources import MarkovSource

    src = MarkovSource(STICKY95)
    Q = STICKY95
    n = 400_001
    for code in ("huffman", "arithmetic"):
        simulate(src, Q, code, n=1000, rng=np.random.default_rng(0))  # compile first
        tracemalloc.start()
        try:
            simulate(src, Q, code, n=n, rng=np.random.default_rng(0))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        est = estimate_peak_bytes(build_code(Q, code), src, n, 1, unit_arrays=True)
        assert 3 * n <= peak <= est, code


@pytest.mark.parametrize("code, extra", [("huffman", {}), ("shannon", {}),
                                         ("block-huffman", {"block": 2})])
def test_a_prefix_code_that_cannot_encode_a_symbol_p_can_emit_expects_infinity(code, extra):
    # p gives symbol 2 probability 1e-12, q none: the sampled message (almost surely)
    # avoids it and codes, but the exact expectation is H(p,q) = inf, never a finite number
    import math

    m = simulate([0.5, 0.499999999999, 1e-12], [0.5, 0.5, 0.0], code, n=1000,
                 rng=np.random.default_rng(0), **extra)
    assert m.cross_entropy_bits == math.inf
    assert m.expected_bits_per_symbol == math.inf

# --------------------------------------------------------------------------- mutation kills
# Properties found unprotected by mutation testing (README, "Testing").

from simulator.engine import _json_value  # noqa: E402


def test_simulate_builds_the_arithmetic_coder_with_the_requested_precision_and_model():
    m = simulate([0.5, 0.3, 0.2], [0.5, 0.3, 0.2], "arithmetic", n=50,
                 rng=np.random.default_rng(1), precision=12)
    assert (m.precision, m.model) == (12, "static")
    d = m.to_dict()
    assert (d["precision"], d["model"]) == (12, "static") and "block" not in d
    m = simulate([0.5, 0.3, 0.2], [0.5, 0.3, 0.2], "arithmetic", n=50,
                 rng=np.random.default_rng(1), model="laplace")
    d = m.to_dict()
    assert (d["precision"], d["model"], d["ci_method"]) == (None, "laplace", "none")
    # one message of an adaptive code: no interval (+-inf) and no closed form (NaN)
    assert d["ci99"] == ["-inf", "inf"] and d["expected_bits_per_symbol"] is None
    json.dumps(d, allow_nan=False)


def test_json_value_maps_every_non_finite_float_and_recurses_into_sequences():
    assert _json_value(-math.inf) == "-inf"
    assert _json_value(math.inf) == "inf"
    assert _json_value(math.nan) is None
    assert _json_value((1.5, (math.nan, -math.inf))) == [1.5, [None, "-inf"]]
    assert _json_value(3) == 3 and _json_value("x") == "x"


# --------------------------------------------------------------------------- workers, in process
# The worker tasks (_run_trials, _run_piece) normally run in other processes; here the
# pool is a one-thread executor in this process, so the tasks themselves are tested and
# their results compared with the one-process run.

import concurrent.futures  # noqa: E402

import simulator.engine as engine_mod  # noqa: E402


class _InProcessPool(concurrent.futures.ThreadPoolExecutor):
    """One worker thread in this process; like a process pool, a task receives pickled
    copies of its arguments and returns a pickled copy of its result."""

    def submit(self, fn, *args):
        import pickle
        copied = pickle.loads(pickle.dumps(args))
        return super().submit(lambda: pickle.loads(pickle.dumps(fn(*copied))))


def _in_process_pool(jobs, initializer=None, initargs=()):
    return _InProcessPool(max_workers=1, initializer=initializer, initargs=initargs)


def _same_measurement(a, b):
    da, db = a.to_dict(), b.to_dict()
    for key in ("encode_seconds", "decode_seconds", "sample_seconds", "warmup_seconds"):
        da.pop(key), db.pop(key)
    assert da == db


@pytest.mark.parametrize("code, block, p", [
    ("huffman", None, [0.5, 0.3, 0.2]),
    ("block-huffman", 3, [0.6, 0.3, 0.1]),
    ("arithmetic", None, [0.7, 0.2, 0.1]),
    ("huffman", None, [[0.9, 0.1], [0.3, 0.7]]),
])
def test_trials_coded_by_the_worker_task_equal_the_one_process_run(monkeypatch, code, block, p):
    q = [0.4, 0.4, 0.2] if np.ndim(p) == 1 else [0.5, 0.5]
    kw = dict(n=3000, trials=7, block=block, chunk=512)
    one = simulate(p, q, code, rng=np.random.default_rng(5), **kw)
    monkeypatch.setattr(engine_mod, "worker_pool", _in_process_pool)
    many = simulate(p, q, code, rng=np.random.default_rng(5), jobs=3, **kw)
    _same_measurement(one, many)
    assert len(many.trial_bits) == 7


@pytest.mark.parametrize("code, block, n", [("huffman", None, 10_000), ("shannon", None, 9_999),
                                            ("block-huffman", 2, 10_001)])
def test_one_message_cut_into_pieces_by_the_worker_task_equals_the_one_process_run(
        monkeypatch, code, block, n):
    p, q = [0.6, 0.25, 0.15], [0.3, 0.3, 0.4]
    one = simulate(p, q, code, n=n, block=block, chunk=1024, rng=np.random.default_rng(9))
    monkeypatch.setattr(engine_mod, "worker_pool", _in_process_pool)
    calls = []
    real = engine_mod._run_piece
    monkeypatch.setattr(engine_mod, "_run_piece",
                        lambda *a: calls.append(a[1:3]) or real(*a))
    cut = simulate(p, q, code, n=n, block=block, chunk=1024, rng=np.random.default_rng(9),
                   jobs=2)
    _same_measurement(one, cut)
    # pieces of whole chunks, in order, covering the message exactly once
    starts = [a for a, _ in calls]
    assert starts == sorted(starts) and starts[0] == 0 and len(calls) >= 2
    assert all(a % 1024 == 0 for a in starts)
    assert sum(c for _, c in calls) == n and all(a + c == b for (a, c), b in zip(calls, starts[1:]))


def test_a_worker_asks_to_die_with_its_parent_and_exits_if_the_parent_is_gone(monkeypatch):
    asked = []

    class FakeLibc:
        def prctl(self, *args):
            asked.append(args)
            return 0

    monkeypatch.setattr(engine_mod.ctypes, "CDLL", lambda *a, **k: FakeLibc())
    monkeypatch.setattr(engine_mod.sys, "platform", "linux")
    engine_mod.die_with_parent(os.getppid())  # parent alive and still the parent
    assert asked == [(1, int(signal.SIGKILL), 0, 0, 0)]

    def gone(pid, sig):
        raise ProcessLookupError

    exits = []
    monkeypatch.setattr(engine_mod.os, "kill", gone)
    monkeypatch.setattr(engine_mod.os, "_exit", lambda code: exits.append(code))
    engine_mod.die_with_parent(os.getppid() + 10**6)  # re-parented: the run died
    assert exits == [1]
    # a parent that is alive but not ours to signal (PermissionError) is not a death
    monkeypatch.setattr(engine_mod.os, "kill", lambda pid, sig: (_ for _ in ()).throw(PermissionError()))
    engine_mod.die_with_parent(os.getppid() + 10**6)
    assert exits == [1]
    # elsewhere than Linux nothing is asked of the kernel (three asks so far, one per call)
    assert len(asked) == 3
    monkeypatch.setattr(engine_mod.sys, "platform", "darwin")
    engine_mod.die_with_parent(os.getppid())
    assert len(asked) == 3


def test_a_pool_made_with_an_initializer_runs_it_after_the_parent_check(monkeypatch):
    seen = []
    monkeypatch.setattr(engine_mod, "die_with_parent", lambda pid: seen.append(("die", pid)))
    engine_mod._chain_init(123, lambda a, b: seen.append(("init", a, b)), (4, 5))
    assert seen == [("die", 123), ("init", 4, 5)]
    engine_mod._init_worker({"x": 1})
    assert engine_mod._WORKER_STATE == {"x": 1}
    engine_mod._init_worker({"y": 2})
    assert engine_mod._WORKER_STATE == {"y": 2}


def test_a_whole_message_handed_out_in_chunks_copies_its_position():
    s = engine_mod._ArrayStream(np.arange(10), 2)
    assert s.next(3).tolist() == [2, 3, 4]
    c = s.copy()
    assert s.next(2).tolist() == [5, 6] and c.next(2).tolist() == [5, 6]
    assert c.next(10).tolist() == [7, 8, 9]


# --------------------------------------------------------------------------- exact sums, bars, pools

from fractions import Fraction  # noqa: E402


def test_scaled_sum_is_the_exact_sum_times_2_to_the_scale():
    rng = np.random.default_rng(3)
    values = np.concatenate([
        rng.random(500) * 20,                      # typical unit lengths
        np.ldexp(rng.random(50), rng.integers(-1070, 60, 50)),  # wide exponents
        [0.0, 1.0, 0.5, 2.0, 3.0, 1.5, 5e-324, 2.0**-1022, 1e300],  # mantissas with low halves 0
        -rng.random(20) * 7,                       # negative values are exact too
    ])
    want = sum(Fraction(float(v)) for v in values) * (1 << engine_mod._SCALE)
    assert want.denominator == 1
    assert engine_mod._scaled_sum(values) == want.numerator
    # powers of two only: every mantissa's low half is 0
    twos = np.array([1.0, 0.5, 0.25, 4.0, 1.0])
    assert engine_mod._scaled_sum(twos) == int(Fraction(6.75) * (1 << engine_mod._SCALE))
    assert engine_mod._scaled_sum(np.zeros(0)) == 0


def test_scaled_sums_over_several_blocks_equal_one_block(monkeypatch):
    values = np.random.default_rng(4).random(1000) * 13
    whole = engine_mod._scaled_sum(values)
    monkeypatch.setattr(engine_mod, "_BLOCK", 7)
    assert engine_mod._scaled_sum(values) == whole


def test_unit_sums_add_units_arriving_in_any_pieces_into_their_bins():
    starts = np.array([0, 4, 9])  # bins: units 0-3, 4-8, 9-
    units = np.arange(1, 15, dtype=np.float64)  # 14 units
    for integer in (True, False):
        want = [units[0:4].sum(), units[4:9].sum(), units[9:].sum()]
        for cuts in ([14], [3, 11], [1] * 14, [4, 5, 5], [9, 5]):
            s = engine_mod._UnitSums(starts, integer)
            first = 0
            for size in cuts:
                s.add(units[first:first + size], first)
                first += size
            s.add(units[:0], first)
            assert s.floats() == want, (integer, cuts)
    # non-integer lengths: each bin rounded once, correctly
    s = engine_mod._UnitSums(np.array([0]), False)
    tenth = np.full(10, 0.1)
    s.add(tenth, 0)
    assert s.floats() == [float(sum(Fraction(0.1) for _ in range(10)))]
    assert s.floats([0]) == [0.0]


def test_integer_lengths_are_summed_as_integers_only_while_sums_stay_below_2_to_53():
    from simulator.engine import _integer_lengths, build_code
    from simulator.sources import IIDSource
    uniform = IIDSource([1 / 256] * 256)
    huff = build_code([1 / 256] * 256, "huffman")  # every length 8
    assert _integer_lengths(huff, uniform, 10)
    assert _integer_lengths(huff, uniform, 2**50 - 2)  # 8 (2^50 - 1) < 2^53
    assert not _integer_lengths(huff, uniform, 2**50 - 1)  # 8 2^50 = 2^53
    block = build_code([0.5, 0.5], "block-huffman", block=2)  # every block 2 bits
    two = IIDSource([0.5, 0.5])
    assert _integer_lengths(block, two, 2**53 - 4)  # 2 (2^52 - 2 + 1) < 2^53
    assert not _integer_lengths(block, two, 2**53 - 2)
    assert not _integer_lengths(build_code([0.3, 0.7], "arithmetic"), IIDSource([0.3, 0.7]), 10)
    assert not _integer_lengths(build_code([0.3, 0.7], "arithmetic", model="kt"),
                                IIDSource([0.3, 0.7]), 10)


class _Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_the_progress_bar_waits_then_reports_percent_and_rate_at_most_five_times_a_second(
        monkeypatch):
    import io
    clock = _Clock()
    monkeypatch.setattr(engine_mod.time, "perf_counter", clock)
    out = io.StringIO()
    bar = engine_mod.ProgressBar(4_000_000, out, after=2.0, eager=10**8)
    bar(1_000_000)
    assert out.getvalue() == "" and not bar.shown  # quick runs print nothing
    clock.t += 2.0
    bar(2_000_000)  # 2 s in: appears
    assert out.getvalue() == "\rsimulate:  50.0%       1.0 Msym/s" and bar.shown
    clock.t += 0.125
    bar(3_000_000)  # 1/8 s later: not rewritten
    assert out.getvalue().count("\r") == 1
    clock.t += 0.125
    bar(3_000_000)  # 1/4 s after the last line: rewritten
    assert out.getvalue().endswith("\rsimulate:  75.0%       1.3 Msym/s")
    clock.t += 0.0625
    bar(4_000_000)  # the end is always shown
    assert out.getvalue().endswith("\rsimulate: 100.0%       1.7 Msym/s")
    bar.close()
    assert out.getvalue().endswith("\r" + " " * 40 + "\r")


def test_the_progress_bar_of_a_huge_run_shows_at_once_and_a_hidden_bar_closes_silently(
        monkeypatch):
    import io
    clock = _Clock()
    monkeypatch.setattr(engine_mod.time, "perf_counter", clock)
    out = io.StringIO()
    bar = engine_mod.ProgressBar(10**8, out)
    clock.t += 1.0
    bar(10**6)
    assert out.getvalue() == "\rsimulate:   1.0%       1.0 Msym/s"
    quiet = io.StringIO()
    small = engine_mod.ProgressBar(10**8 - 1, quiet)
    clock.t += 1.0
    small(10)
    small.close()
    assert quiet.getvalue() == ""
    empty = engine_mod.ProgressBar(0, quiet, after=0.0)
    assert empty.total == 1
    assert engine_mod.ProgressBar(5).stream is sys.stderr


def _death_signal():
    import ctypes
    sig = ctypes.c_int(-1)
    ctypes.CDLL(None, use_errno=True).prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG
    return sig.value, os.getppid(), dict(engine_mod._WORKER_STATE)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_pool_workers_are_set_to_die_with_the_run_and_get_their_state():
    with engine_mod.worker_pool(2) as pool:
        assert pool._max_workers == 2
        sig, ppid, _ = pool.submit(_death_signal).result()
    assert sig == signal.SIGKILL and ppid == os.getpid()
    with engine_mod.worker_pool(3, engine_mod._init_worker, ({"k": 7},)) as pool:
        assert pool._max_workers == 3
        sig, ppid, state = pool.submit(_death_signal).result()
    assert sig == signal.SIGKILL and ppid == os.getpid() and state == {"k": 7}


# --- mutation: engine pieces, workers and arithmetic
# The jobs > 1 paths on the in-process pool above, compared with one process; the pool
# factory records how many workers it was asked for (``jobs`` is that number).

from simulator.codes import HuffmanCode  # noqa: E402
from simulator.engine import CODES, build_code  # noqa: E402
from simulator.errors import RoundTripError  # noqa: E402
from simulator.models import DEFAULT_PRECISION  # noqa: E402
from simulator.sources import IIDSource  # noqa: E402


def _recording_pool(sizes, log=None):
    def make(jobs, initializer=None, initargs=()):
        sizes.append(jobs)
        pool = _InProcessPool(max_workers=1, initializer=initializer, initargs=initargs)
        if log is not None:
            submit = pool.submit

            def counted(fn, *args):
                log.append("submit")
                return submit(fn, *args)

            pool.submit = counted
        return pool
    return make


@pytest.mark.parametrize("code, block, n, chunk, jobs, trials, per", [
    # 51 chunks of 100 on 3 workers, four pieces per worker: ceil(51 / 12) = 5 chunks a
    # piece, the last of one symbol; n is odd, so each message ends in a partial block
    ("block-huffman", 2, 5001, 100, 3, 2, 500),
    # fewer symbols than workers: pieces of one symbol
    ("huffman", None, 3, 1, 4, 1, 1),
])
def test_split_messages_equal_one_process_report_progress_per_piece_and_warm_each_worker_once(
        monkeypatch, code, block, n, chunk, jobs, trials, per):
    p, q = [0.6, 0.25, 0.15], [0.3, 0.3, 0.4]
    kw = dict(n=n, trials=trials, block=block, chunk=chunk)
    one = simulate(p, q, code, rng=np.random.default_rng(11), **kw)
    sizes, pieces, seen = [], [], []
    monkeypatch.setattr(engine_mod, "worker_pool", _recording_pool(sizes))
    real = engine_mod._run_piece
    monkeypatch.setattr(engine_mod, "_run_piece", lambda *a: pieces.append(a[1:]) or real(*a))
    cut = simulate(p, q, code, rng=np.random.default_rng(11), jobs=jobs,
                   progress=lambda done, total: seen.append((done, total)), **kw)
    _same_measurement(one, cut)
    assert sizes == [jobs]  # that many workers, even with fewer messages
    starts = range(0, n, per)
    # (start, count, warm): every message in pieces, in order; the first `jobs` pieces of
    # the first message (one per worker) compile the coder before timing, no other does
    assert pieces == [(a, min(per, n - a), j == 0 and i < jobs)
                      for j in range(trials) for i, a in enumerate(starts)]
    # progress after each piece: symbols done of all messages, out of trials * n
    assert seen == [(j * n + min(a + per, n), trials * n) for j in range(trials) for a in starts]


def test_a_split_message_reports_the_sums_of_its_pieces_timings(monkeypatch):
    monkeypatch.setattr(engine_mod, "worker_pool", _in_process_pool)
    real, calls = engine_mod._run_piece, []

    def timed(*a):
        rec = real(*a)
        calls.append(a[1])
        rec.enc_s, rec.dec_s, rec.smp_s, rec.warm_s = 1.0, 2.0, 4.0, 8.0
        return rec

    monkeypatch.setattr(engine_mod, "_run_piece", timed)
    m = simulate([0.6, 0.25, 0.15], [0.3, 0.3, 0.4], n=2000, chunk=100, jobs=2,
                 rng=np.random.default_rng(4))
    k = len(calls)
    assert k >= 2
    assert (m.encode_seconds, m.decode_seconds, m.sample_seconds) == (k * 1.0, k * 2.0, k * 4.0)
    assert k * 8.0 <= m.warmup_seconds < k * 8.0 + 1.0  # + this process's sampler warm-up


@pytest.mark.parametrize("code, block, p, n, trials, jobs, chunk, seed, bad", [
    # the first symbol 1 (no codeword) at 763, in the second piece (from 700) of the
    # message: the piece's own encoder counts from its start, one process from 0
    ("huffman", None, [0.9995, 0.0005], 5001, 1, 2, 100, 0, (0, 763)),
    ("block-huffman", 2, [0.9995, 0.0005], 5001, 1, 2, 100, 0, (0, 763)),
    # at 15: within the prefix the first worker compiles its coder on
    ("huffman", None, [0.99, 0.01], 500, 1, 2, 50, 0, (0, 15)),
    # in message 1 at 31 (message 0 has none): message 1's worker compiles on it
    ("huffman", None, [0.999, 0.001], 300, 3, 3, 50, 24, (1, 31)),
])
def test_a_symbol_without_codeword_is_named_as_one_process_names_it_with_workers(
        monkeypatch, code, block, p, n, trials, jobs, chunk, seed, bad):
    kids = np.random.default_rng(seed).spawn(trials)
    firsts = [np.flatnonzero(IIDSource(p).sample(n, rng=c) == 1) for c in kids]
    t, pos = bad
    assert all(f.size == 0 for f in firsts[:t]) and firsts[t][0] == pos
    kw = dict(n=n, trials=trials, block=block, chunk=chunk)
    with pytest.raises(UnencodableSymbolError) as alone:
        simulate(p, [1.0, 0.0], code, rng=np.random.default_rng(seed), **kw)
    monkeypatch.setattr(engine_mod, "worker_pool", _in_process_pool)
    with pytest.raises(UnencodableSymbolError) as workers:
        simulate(p, [1.0, 0.0], code, rng=np.random.default_rng(seed), jobs=jobs, **kw)
    assert str(workers.value) == str(alone.value)
    assert str(alone.value).endswith(
        f"(position within the chunk starting at symbol {pos - pos % chunk})")


@pytest.mark.parametrize("n, trials, jobs, group", [
    (300, 7, 3, 1),  # fewer than 4 messages per worker: groups of one message
    (3, 520, 2, 64),  # 520 // (4 * 2) = 65 messages per group, capped at 64
])
def test_messages_on_workers_equal_one_process_in_groups_with_progress_and_a_bounded_queue(
        monkeypatch, n, trials, jobs, group):
    p, q = [0.5, 0.3, 0.2], [0.4, 0.4, 0.2]
    one = simulate(p, q, n=n, trials=trials, rng=np.random.default_rng(3))
    sizes, log, groups = [], [], []
    monkeypatch.setattr(engine_mod, "worker_pool", _recording_pool(sizes, log))
    real = engine_mod._run_trials
    monkeypatch.setattr(engine_mod, "_run_trials", lambda first, kids, warm: groups.append(
        (first, len(kids), warm)) or real(first, kids, warm))
    many = simulate(p, q, n=n, trials=trials, rng=np.random.default_rng(3), jobs=jobs,
                    progress=lambda done, total: log.append((done, total)))
    _same_measurement(one, many)
    assert sizes == [jobs]
    firsts = range(0, trials, group)
    # (first trial, messages, warm): consecutive groups; the first group of each worker
    # compiles the coder before timing
    assert groups == [(f, min(group, trials - f), f < jobs * group) for f in firsts]
    # progress once per group, in messages done times n
    assert [e for e in log if e != "submit"] == [(min(f + group, trials) * n, trials * n)
                                                 for f in firsts]
    # two groups per worker are queued before the first result is awaited, never more
    assert log.index((min(group, trials) * n, trials * n)) == min(2 * jobs, len(firsts))
    queued = 0
    for e in log:
        queued += 1 if e == "submit" else -1
        assert queued <= 2 * jobs


def test_the_arithmetic_entry_alone_builds_the_static_code_of_q():
    q = np.array([0.5, 0.3, 0.2])
    x = np.array([0, 1, 2, 2, 1, 0, 0, 1], dtype=np.uint8)
    alone = CODES["arithmetic"].factory(q)
    assert alone.report() == {"precision": DEFAULT_PRECISION, "model": "static"}
    assert alone.encode(x) == build_code(q, "arithmetic").encode(x)


@pytest.mark.parametrize("kwargs, message", [
    (dict(model="bogus"), "model is 'bogus'; choose one of static, laplace, kt"),
    (dict(order=2), "order is 2: --order sets the context order of the adaptive models "
                    "(kt, laplace); a static model takes its order from q (a markov: spec)"),
    (dict(model="kt", precision=12), "precision applies to the static model only, not kt"),
    (dict(model="laplace", order=-1), "order is -1, must be >= 0"),
    (dict(model="kt", order="2"), "order must be an integer, got '2'"),
])
def test_arithmetic_options_are_refused_with_a_message_naming_them(kwargs, message):
    with pytest.raises(XentsimError) as info:
        build_code([0.5, 0.3, 0.2], "arithmetic", **kwargs)
    assert str(info.value) == message


def test_arithmetic_on_an_order_m_q_keeps_its_precision_or_only_its_alphabet():
    chain = [[0.9, 0.1], [0.2, 0.8]]
    # static: a context code with the rows quantised at the requested precision
    assert build_code(chain, "arithmetic", precision=12).report() == {
        "precision": 12, "model": "static", "order": 1}
    # adaptive of order 0 (the default, or asked for): counts over q's alphabet only
    x = np.array([0, 1, 1, 0, 0, 0, 1, 1, 1, 0], dtype=np.uint8)
    kt = [build_code(chain, "arithmetic", model="kt"),
          build_code(chain, "arithmetic", model="kt", order=0),
          build_code([0.5, 0.5], "arithmetic", model="kt")]
    assert [c.report() for c in kt] == [{"precision": None, "model": "kt"}] * 3
    assert kt[0].encode(x) == kt[1].encode(x) == kt[2].encode(x)
    # the tables of an adaptive context model are checked against the given limit
    with pytest.raises(XentsimError, match=r"^order = 4 \(3\^4 contexts of 3 symbols\) needs "
                                           r"about 7\.59 KiB, above the memory limit of 1 KiB"):
        build_code([0.5, 0.3, 0.2], "arithmetic", model="kt", order=4, memory_limit="1K")
    assert build_code([0.5, 0.3, 0.2], "arithmetic", model="kt", order=4,
                      memory_limit="8K").report()["order"] == 4


def test_one_process_first_error_is_raised_even_when_the_pieces_meet_only_a_later_one(
        monkeypatch):
    # one message of 5001 symbols in pieces of 700 on two workers: no piece decodes 1000
    # symbols, so none meets the decoder's fault, but the piece from 1400 holds the first
    # symbol without codeword (1734); one process meets the fault first, at 1000
    p, n = [0.9995, 0.0005], 5001
    x = IIDSource(p).sample(n, rng=np.random.default_rng(1).spawn(1)[0])
    assert int(np.flatnonzero(x == 1)[0]) == 1734
    monkeypatch.setitem(engine_mod.CODES, "wrong",
                        engine_mod.CodeEntry(lambda qq: FlipPulled(HuffmanCode(qq), 1000)))
    errors = []
    for jobs in (1, 2):
        if jobs == 2:
            monkeypatch.setattr(engine_mod, "worker_pool", _in_process_pool)
        with pytest.raises(RoundTripError) as info:
            simulate(p, [1.0, 0.0], "wrong", n=n, chunk=100, jobs=jobs,
                     rng=np.random.default_rng(1))
        errors.append(str(info.value))
    assert errors == ["wrong: decoded message differs from the input at 1000"] * 2


# --- mutation: simulate and memory estimate
# The memory estimate is pinned byte for byte to the parts its docstring lists, with
# the numbers worked out by hand below; simulate's fields on small exact cases.

from simulator.codes import BlockHuffmanCode as _EstBlock  # noqa: E402
from simulator.codes import HuffmanCode as _EstHuffman  # noqa: E402
from simulator.codes.arithmetic import ArithmeticCode as _EstArith  # noqa: E402
from simulator.engine import (BASE_BYTES as _EST_BASE, SNAPSHOT_BYTES as _EST_SNAP,  # noqa: E402
                              TRIAL_BYTES as _EST_TRIAL, _max_bits_per_symbol as _est_max_bits,
                              build_code as _est_build, estimate_peak_bytes as _est_peak)
from simulator.sources import IIDSource as _EstIID  # noqa: E402
import re as _est_re  # noqa: E402


class _EstNoStream:
    """A source seen without ``stream`` (simulate samples its messages whole)."""

    def __init__(self, source):
        self._source = source

    def __getattr__(self, name):
        if name == "stream":
            raise AttributeError(name)
        return getattr(self._source, name)


def _est_prefix():
    # Huffman lengths [1, 2, 3, 3]; p never emits the two 3-bit symbols
    return _EstHuffman([0.5, 0.25, 0.125, 0.125]), _EstIID([0.5, 0.5, 0.0, 0.0])


def _est_block():
    # k = 2 over q = (3/4, 1/4): pair lengths 1, 2, 3, 3 (the longest, 3, has p > 0)
    return _EstBlock([0.75, 0.25], 2), _EstIID([0.5, 0.5])


def test_max_bits_per_symbol_is_the_longest_codeword_p_can_emit_per_symbol():
    code, src = _est_prefix()
    assert _est_max_bits(code, src, 1000) == 2.0  # 3-bit codewords have p = 0: not counted
    code, src = _est_block()
    assert _est_max_bits(code, src, 1001) == 3 / 2 + 1.0  # + 1: a partial unit costs more
    k3 = _EstBlock([0.75, 0.25], 3)  # triples: longest codeword 5 bits
    assert _est_max_bits(k3, src, 10) == float(np.max(k3.unit_law(src)[1])) / 3 + 1.0 == 5 / 3 + 1
    # adaptive counts (no unit law): log2(2n + K) + 1; 2 * 127 + 2 = 2^8
    kt = _est_build([0.5, 0.5], "arithmetic", model="kt")
    assert kt.unit_law(src) is None
    assert _est_max_bits(kt, src, 127) == 9.0
    assert _est_max_bits(kt, _EstIID([0.25, 0.25, 0.25, 0.25]), 6) == 5.0  # log2(16) + 1
    # a source that emits only symbols q cannot code: no codeword can be emitted at all
    assert _est_max_bits(_EstHuffman([0.5, 0.5, 0.0]), _EstIID([0.0, 0.0, 1.0]), 10) == 0.0


@pytest.mark.parametrize("make, n", [(_est_prefix, 1000), (_est_block, 1001)])
def test_max_bits_per_symbol_bounds_the_worst_real_message(make, n):
    code, src = make()
    w, lengths = code.unit_law(src)
    k = code.symbols_per_unit
    worst = int(np.argmax(np.where(np.asarray(w) > 0, lengths, -1)))  # the longest unit p emits
    unit = [(worst // 2**(k - 1 - i)) % 2 for i in range(k)] if k > 1 else [worst]
    x = np.array((unit * (n // k + 1))[:n], dtype=np.uint8)
    bits = len(code.encode(x))
    assert bits <= n * _est_max_bits(code, src, n)
    if k == 1:  # a unit law of single symbols: the bound is reached
        assert bits == n * _est_max_bits(code, src, n)


def test_a_source_emitting_only_symbols_q_cannot_code_is_refused_by_the_coder_not_the_estimate():
    with pytest.raises(UnencodableSymbolError, match="symbol 2 .*H\\(p,q\\) is infinite"):
        simulate([0.0, 0.0, 1.0], [0.5, 0.5, 0.0], "huffman", n=100, rng=np.random.default_rng(0))


# Each expected number below: 2 c item (symbols and decoded copy) + c (mask)
# + 3 * ((c * max_bits + max(hi, 0)) / 8 + 64) (the bitstream three times, sized in bytes
# with a 64-byte allowance) + 8 (c // k) and 16 c for k > 1 (unit lengths, coder
# temporaries) + CONTEXT_BYTES c for a context code, truncated to an integer; a streaming
# code adds (LAG_CHUNKS + 1) c item + (LAG_CHUNKS + 2) SNAPSHOT_BYTES, a source without
# stream n item; then jobs * (work + BASE_BYTES) + TRIAL_BYTES * trials.
def test_memory_estimate_of_a_prefix_code_coded_whole_is_the_sum_of_its_parts():
    code, src = _est_prefix()  # K = 4: uint8 symbols; max bits 2
    # 2000 + 1000 + 3 * (1000 * 2 / 8 + 64) = 3942
    assert _est_peak(code, src, 1000, 3, unit_arrays=False, chunk=None) == \
        3942 + _EST_BASE + 3 * _EST_TRIAL
    # + 8 bytes per unit length
    assert _est_peak(code, src, 1000, 3, unit_arrays=True, chunk=None) == \
        3942 + 8000 + _EST_BASE + 3 * _EST_TRIAL
    # a code that does not stream is coded whole whatever the chunk
    assert _est_peak(Whole(code), src, 1000, 3, unit_arrays=False, chunk=100) == \
        3942 + _EST_BASE + 3 * _EST_TRIAL


def test_memory_estimate_of_a_block_code_with_a_partial_unit_is_the_sum_of_its_parts():
    code, src = _est_block()  # K = 2: uint8; max bits 3/2 + 1 = 2.5; n = 1001 = 2 * 500 + 1
    # whole: 2002 + 1001 + 3 * (2502.5 / 8 + 64) + 8 * 500 + 16 * 1001 = 24149.4375
    assert _est_peak(code, src, 1001, 1, unit_arrays=True, chunk=None) == \
        24149 + _EST_BASE + _EST_TRIAL
    # without unit arrays the coder temporaries remain: 24149.4375 - 4000
    assert _est_peak(code, src, 1001, 1, unit_arrays=False, chunk=None) == \
        20149 + _EST_BASE + _EST_TRIAL
    # chunk 101 -> c = 100 (a multiple of k): 200 + 100 + 3 * (250 / 8 + 64) + 400 + 1600
    # = 2585.75 -> 2585; + 5 * 100 (waiting chunks) + 6 * 4096 (sampler copies)
    work = 2585 + 500 + 6 * _EST_SNAP
    assert _est_peak(code, src, 1001, 5, unit_arrays=True, chunk=101) == \
        work + _EST_BASE + 5 * _EST_TRIAL
    assert _est_peak(code, src, 1001, 5, unit_arrays=True, chunk=101, jobs=2) == \
        2 * (work + _EST_BASE) + 5 * _EST_TRIAL
    # a source without stream is sampled whole: n more symbols
    assert _est_peak(code, _EstNoStream(src), 1001, 5, unit_arrays=True, chunk=101) == \
        work + 1001 + _EST_BASE + 5 * _EST_TRIAL
    # a chunk below k is raised to one unit, and c never exceeds n
    # c = 2: 4 + 2 + 3 * (5 / 8 + 64) + 8 + 32 = 239.875; + 5 * 2
    assert _est_peak(code, src, 1001, 1, unit_arrays=True, chunk=1) == \
        239 + 10 + 6 * _EST_SNAP + _EST_BASE + _EST_TRIAL
    # c = n = 3: 6 + 3 + 3 * (7.5 / 8 + 64) + 8 + 48 = 259.8125; + 5 * 3
    assert _est_peak(code, src, 3, 1, unit_arrays=True, chunk=1000) == \
        259 + 15 + 6 * _EST_SNAP + _EST_BASE + _EST_TRIAL
    # at k = 3 the coder temporaries (16 c) are there too, with unit arrays or not:
    # max bits 5/3 + 1; c = 9: 18 + 9 + 3 * (24 / 8 + 64) + 8 * 3 + 144 = 396
    k3 = _EstBlock([0.75, 0.25], 3)
    assert _est_peak(k3, src, 9, 1, unit_arrays=True, chunk=None) == 396 + _EST_BASE + _EST_TRIAL
    assert _est_peak(k3, src, 9, 1, unit_arrays=False, chunk=None) == 372 + _EST_BASE + _EST_TRIAL


def test_memory_estimate_of_arithmetic_codes_counts_the_slack_and_the_adaptive_bound():
    src = _EstIID([0.5, 0.5])
    # static q = (1/2, 1/2): 1 bit per symbol, hi = +1 bit of slack
    # 2000 + 1000 + 3 * ((1000 + 1) / 8 + 64) = 3567.375
    assert _est_peak(_EstArith([0.5, 0.5]), src, 1000, 1, unit_arrays=False, chunk=None) == \
        3567 + _EST_BASE + _EST_TRIAL
    # adaptive kt, no unit law: log2(2 * 127 + 2) + 1 = 9 bits per symbol
    # 254 + 127 + 3 * ((127 * 9 + 1) / 8 + 64) = 381 + 621 = 1002
    kt = _est_build([0.5, 0.5], "arithmetic", model="kt")
    assert _est_peak(kt, src, 127, 2, unit_arrays=False, chunk=None) == \
        1002 + _EST_BASE + 2 * _EST_TRIAL
    # in chunks of 50 the bound still uses the message length n = 127 (9 bits):
    # 100 + 50 + 3 * ((50 * 9 + 1) / 8 + 64) = 511.125; + 5 * 50 + 6 sampler copies
    assert _est_peak(kt, src, 127, 2, unit_arrays=False, chunk=50) == \
        511 + 250 + 6 * _EST_SNAP + _EST_BASE + 2 * _EST_TRIAL


def test_memory_estimate_counts_two_bytes_per_symbol_above_256_symbols():
    u = np.full(300, 1 / 300)  # K = 300: uint16 symbols; Huffman lengths 8 and 9
    code, src = _EstHuffman(u), _EstIID(u)
    # 4000 + 1000 + 3 * (1000 * 9 / 8 + 64) = 8567
    assert _est_peak(code, src, 1000, 1, unit_arrays=False, chunk=None) == \
        8567 + _EST_BASE + _EST_TRIAL
    # c = 100: 400 + 100 + 3 * (900 / 8 + 64) = 1029.5; + 5 * 100 * 2 + 6 copies + 1000 * 2
    assert _est_peak(code, _EstNoStream(src), 1000, 1, unit_arrays=False, chunk=100) == \
        1029 + 1000 + 6 * _EST_SNAP + 2000 + _EST_BASE + _EST_TRIAL


def test_memory_estimate_of_a_context_code_adds_its_context_temporaries():
    code = _est_build([[0.9, 0.1], [0.2, 0.8]], "huffman")  # order 1, every length 1 bit
    src = _EstIID([0.5, 0.5])
    # 1600 + 800 + 3 * (800 / 8 + 64) + 8 * 800 + 40 * 800 = 41292
    assert _est_peak(code, src, 800, 1, unit_arrays=True, chunk=None) == \
        41292 + _EST_BASE + _EST_TRIAL


def test_simulate_names_a_bad_chunk_or_jobs_and_refuses_too_many_trials_under_the_given_limit():
    args = dict(n=100, rng=np.random.default_rng(0))
    with pytest.raises(XentsimError, match="^chunk is 0, must be >= 1"):
        simulate([0.5, 0.5], [0.5, 0.5], "huffman", chunk=0, **args)
    with pytest.raises(XentsimError, match="^jobs is 0, must be >= 1"):
        simulate([0.5, 0.5], [0.5, 0.5], "huffman", jobs=0, **args)
    too_many = engine_mod.MAX_JOBS + 1
    with pytest.raises(XentsimError, match=f"^jobs is {too_many}, must be <= {too_many - 1}"):
        simulate([0.5, 0.5], [0.5, 0.5], "huffman", jobs=too_many, **args)
    # 100 records of TRIAL_BYTES = 6400 bytes > 1000: refused naming trials, not n
    with pytest.raises(XentsimError, match="^trials = 100 messages needs about 6.25 KiB, "
                                           "above the memory limit of 1000 bytes "
                                           r"\(the memory_limit argument\); use fewer trials, "
                                           "or raise the limit"):
        simulate([0.5, 0.5], [0.5, 0.5], "huffman", trials=100, memory_limit=1000, **args)


def test_check_model_q_returns_a_pmf_with_order_0_or_a_matrix_with_its_order():
    from simulator.distributions import Pmf
    from simulator.engine import check_model_q

    q, m = check_model_q(Pmf([0.25, 0.75]))
    assert m == 0 and q.tolist() == [0.25, 0.75]
    q, m = check_model_q([0.25, 0.75])
    assert m == 0 and q.tolist() == [0.25, 0.75]
    q, m = check_model_q([[0.25, 0.75]])  # a (1, K) matrix is the order-0 pmf: 1-D
    assert m == 0 and q.ndim == 1 and q.tolist() == [0.25, 0.75]
    q, m = check_model_q([[0.9, 0.1], [0.2, 0.8]])
    assert m == 1 and q.tolist() == [[0.9, 0.1], [0.2, 0.8]] and not q.flags.writeable
    q, m = check_model_q(np.full((4, 2), 0.5))  # order 2: K^2 rows
    assert m == 2 and q.shape == (4, 2)


@pytest.mark.parametrize("q, message", [
    ([0.5, 0.6], "q sums to 1.1, not 1"),
    ([[0.5, 0.5], [1.0]], "q is not a vector of numbers"),  # ragged: not a matrix
    ([[0.5, 0.6]], "q row 0 sums to 1.1, not 1"),
    ([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]], "q has 3 rows and 2 columns"),
])
def test_check_model_q_names_q_in_its_refusals(q, message):
    from simulator.engine import check_model_q

    with pytest.raises(XentsimError, match="^" + _est_re.escape(message)):
        check_model_q(q)


def test_build_code_defaults_to_huffman_and_passes_each_option_to_its_code():
    from simulator.codes import ContextArithmeticCode, ContextHuffmanCode

    assert type(_est_build([0.5, 0.25, 0.25])) is _EstHuffman
    assert _est_build([0.5, 0.5], "block-huffman", block=3).symbols_per_unit == 3
    a = _est_build([0.5, 0.5], "arithmetic", precision=12)
    assert a.report() == {"precision": 12, "model": "static"}
    assert _est_build([0.5, 0.5], "arithmetic", model="laplace").report()["model"] == "laplace"
    c = _est_build([0.5, 0.5], "arithmetic", model="kt", order=2, memory_limit=1000)
    assert isinstance(c, ContextArithmeticCode) and c.report()["order"] == 2
    assert isinstance(_est_build([[0.9, 0.1], [0.2, 0.8]]), ContextHuffmanCode)


@pytest.mark.parametrize("q, kwargs, message", [
    ([0.5, 0.5], dict(code="lz"), "code is 'lz'; choose one of huffman, shannon, "
                                  "block-huffman, arithmetic"),
    ([0.5, 0.5], dict(code=["huffman"]), "code is ['huffman']; choose one of"),
    ([0.5, 0.5], dict(code="huffman", block=2),
     "block size is only for block-huffman, not huffman"),
    ([0.5, 0.5], dict(code="huffman", precision=12),
     "precision and model are only for arithmetic coding, not huffman"),
    ([0.5, 0.5], dict(code="shannon", model="kt"),
     "precision and model are only for arithmetic coding, not shannon"),
    ([0.5, 0.5], dict(code="huffman", order=1),
     "order (of an adaptive context model) is only for arithmetic coding, not huffman"),
    ([0.5, 0.5], dict(code="block-huffman"), "block-huffman needs a block size k (--block K)"),
    ([[0.9, 0.1], [0.2, 0.8]], dict(code="shannon"),
     "q is an order-1 model (a markov: spec); shannon is built from a pmf: use huffman or "
     "arithmetic, or give an i.i.d. q"),
    ([[0.9, 0.1], [0.2, 0.8]], dict(code="block-huffman", block=2), "q is an order-1 model"),
    # 24 K^order (K + 1) = 24 * 8 * 3 = 576 bytes of tables, above the given 100
    ([0.5, 0.5], dict(code="arithmetic", model="kt", order=3, memory_limit=100),
     "order = 3 (2^3 contexts of 2 symbols) needs about 576 bytes, above the memory limit "
     "of 100 bytes"),
])
def test_build_code_refuses_a_bad_combination_with_its_exact_message(q, kwargs, message):
    with pytest.raises(XentsimError, match="^" + _est_re.escape(message)):
        _est_build(q, **kwargs)


def test_context_order_of_is_the_reported_order_and_0_for_other_codes():
    from simulator.engine import context_order_of

    assert context_order_of(_EstHuffman([0.5, 0.5])) == 0  # report() has no order
    assert context_order_of(_EstArith([0.5, 0.5])) == 0
    assert context_order_of(_est_build(np.full((4, 2), 0.5))) == 2
    assert context_order_of(_est_build([0.5, 0.5], "arithmetic", model="kt", order=1)) == 1

    class Reports:
        def __init__(self, report):
            self._report = report

        def report(self):
            return self._report

    assert context_order_of(Reports({"order": None})) == 0
    assert context_order_of(Reports({"order": 0})) == 0
    assert context_order_of(Reports({"order": 3})) == 3


def test_check_equal_names_the_first_differing_position_in_the_message():
    from simulator.engine import _check_equal
    from simulator.errors import RoundTripError

    x = np.array([0, 1, 2, 3, 4], dtype=np.uint8)
    _check_equal("c", x, x.copy(), 10)  # equal: silent
    y = np.array([0, 1, 7, 7, 4], dtype=np.uint8)  # first difference at index 2
    with pytest.raises(RoundTripError, match="^c: decoded message differs from the input at 12$"):
        _check_equal("c", x, y, 10)
    with pytest.raises(RoundTripError, match="at 2$"):
        _check_equal("c", x, y, 0)
    # a decoded message of another length: no position (-1)
    with pytest.raises(RoundTripError, match="^c: decoded message differs from the input at -1$"):
        _check_equal("c", x, x[:4], 10)


# ---- simulate's fields, recomputed from the messages themselves (each message is drawn
# again from its own generator of rng.spawn(trials), as simulate's docstring states)

def _est_messages(src, seed, trials, n):
    return [src.sample(n, rng=child) for child in np.random.default_rng(seed).spawn(trials)]


def _est_outward(lo, hi, *values):
    pad = 4 * math.ulp(max(abs(v) for v in (lo, hi, *values) if math.isfinite(v)))
    return lo - pad, hi + pad


def _est_batch_means(code, xs, n, batches):
    """Batch means as documented: each message's whole units cut into ``batches``
    consecutive batches (sizes equal up to one, the larger first); the partial unit and
    the slack (real length minus the unit lengths) go to the last batch."""
    k = code.symbols_per_unit
    nb, r = divmod(n, k)
    sizes = [nb // batches + (1 if j < nb % batches else 0) for j in range(batches)]
    means = []
    for x in xs:
        units = code.unit_bits(x)
        length = len(code.encode(x))
        start = 0
        for j, size in enumerate(sizes):
            s = float(np.sum(units[start:start + size]))
            sym = size * k
            if j == batches - 1:
                s += length - float(np.sum(units))
                sym += r
            means.append(s / sym)
            start += size
    return means


@pytest.mark.parametrize("seed, sign", [(0, -1), (1, +1)])
def test_bernstein_fields_with_a_partial_unit_follow_the_documented_recipe(seed, sign):
    from simulator.bounds import DELTA, bernstein_half_width
    from simulator.measures import cross_entropy, entropy

    p, q, n, trials = [0.2, 0.4, 0.4], [0.5, 0.25, 0.25], 11, 3  # k = 2: 5 units + 1 symbol
    m = simulate(p, q, "block-huffman", block=2, n=n, trials=trials, seed=seed,
                 rng=np.random.default_rng(seed))
    code, src = _EstBlock(q, 2), _EstIID(p)
    xs = _est_messages(src, seed, trials, n)
    bits = [len(code.encode(x)) for x in xs]
    assert m.trial_bits == tuple(bits) and m.total_bits == sum(bits)
    assert (m.code, m.alphabet_size, m.n_symbols, m.trials, m.seed, m.block) == \
        ("block-huffman", 3, n, trials, seed, 2)
    assert m.roundtrip_ok is True and (m.source_order, m.model_order) == (0, 0)
    bps = sum(bits) / (n * trials)
    assert m.bits_per_symbol == bps
    assert m.entropy_bits == pytest.approx(entropy(p), rel=1e-14)
    assert m.cross_entropy_bits == pytest.approx(cross_entropy(p, q), rel=1e-14)
    assert m.kl_bits == pytest.approx(cross_entropy(p, q) - entropy(p), rel=1e-12, abs=1e-15)
    assert m.excess_bits == pytest.approx(bps - entropy(p), rel=1e-14)
    assert (m.entropy_rate_bits, m.cross_entropy_rate_bits, m.kl_rate_bits) == \
        (m.entropy_bits, m.cross_entropy_bits, m.kl_bits)
    # pair lengths 2, 3, 4 bits; the partial symbol costs q's k = 1 lengths (1, 2, 2)
    w, lengths = (np.asarray(a) for a in code.unit_law(src))
    mean = float(np.sum(w * lengths))
    var = float(np.sum(w * (lengths - mean) ** 2))
    dev = float(np.max(np.abs(lengths - mean)))
    tail = 0.2 * 1 + 0.8 * 2
    assert m.expected_bits_per_symbol == pytest.approx((5 * mean + tail) / n, rel=1e-14)
    assert m.ci_method == "bernstein"
    half = bernstein_half_width(var, dev, 5 * trials, DELTA) * 5 / n
    excess = sum(bits) - sum(float(code.unit_bits(x).sum()) for x in xs) - trials * tail
    assert np.sign(excess) == sign  # this seed's partial symbols cost more / less
    lo = bps - half - max(0.0, excess) / (n * trials)
    hi = bps + half - min(0.0, excess) / (n * trials)
    assert m.ci99 == pytest.approx(_est_outward(lo, hi, bps), rel=1e-13)
    for t in (m.encode_seconds, m.decode_seconds, m.sample_seconds, m.warmup_seconds):
        assert 0.0 <= t < 60.0


def test_a_block_code_shorter_than_one_unit_expects_its_partial_unit_alone():
    # n = 2 < k = 3: no whole unit; theta = E[2 symbols of the k = 1 code] / 2
    m = simulate([0.2, 0.4, 0.4], [0.5, 0.25, 0.25], "block-huffman", block=3, n=2, trials=4,
                 rng=np.random.default_rng(2))
    assert m.expected_bits_per_symbol == pytest.approx(1.8, rel=1e-14)
    assert m.ci_method == "bernstein"
    lo, hi = m.ci99
    assert lo <= 1.8 <= hi and lo <= m.bits_per_symbol <= hi


def test_adaptive_code_intervals_come_from_the_messages_with_the_coders_slack():
    from simulator.bounds import LEVEL, t_half_width

    p, q, n = [0.7, 0.3], [0.5, 0.5], 200
    code = _est_build(q, "arithmetic", model="kt")
    lo_slack, hi_slack = code.slack_bits  # (-8, +1)
    for trials in (2, 3):
        m = simulate(p, q, "arithmetic", model="kt", n=n, trials=trials,
                     rng=np.random.default_rng(7))
        bits = [len(code.encode(x)) for x in _est_messages(_EstIID(p), 7, trials, n)]
        assert m.trial_bits == tuple(bits)
        assert m.ci_method == "trials"
        assert math.isnan(m.expected_bits_per_symbol)
        assert math.isnan(m.model_cross_entropy_bits) and m.quantisation_gap_bits is None
        bps = sum(bits) / (n * trials)
        half = t_half_width(np.array(bits, dtype=np.float64) / n, LEVEL)
        assert 0 < half < math.inf
        lo, hi = bps - half - hi_slack / n, bps + half - lo_slack / n
        assert m.ci99 == pytest.approx(_est_outward(lo, hi, bps), rel=1e-13)
    one = simulate(p, q, "arithmetic", model="kt", n=n, rng=np.random.default_rng(7))
    assert one.ci_method == "none" and one.ci99 == (-math.inf, math.inf)


_EST_CHAIN = [[0.8, 0.1, 0.1], [0.3, 0.5, 0.2], [0.2, 0.2, 0.6]]


@pytest.mark.parametrize("trials, method", [(19, "batch-means"), (20, "trials")])
def test_a_dependent_source_switches_to_trials_at_batches_messages(trials, method):
    from simulator.bounds import LEVEL, t_half_width
    from simulator.engine import BATCHES
    from simulator.sources import MarkovSource

    assert BATCHES == 20
    q, n = [0.5, 0.25, 0.25], 12
    m = simulate(_EST_CHAIN, q, "huffman", n=n, trials=trials, rng=np.random.default_rng(3))
    code, src = _EstHuffman(q), MarkovSource(_EST_CHAIN)
    xs = _est_messages(src, 3, trials, n)
    bits = [len(code.encode(x)) for x in xs]
    assert m.trial_bits == tuple(bits) and m.ci_method == method
    assert m.source_order == 1
    bps = sum(bits) / (n * trials)
    if method == "trials":
        values = np.array(bits, dtype=np.float64) / n
    else:  # ceil(20 / 19) = 2 batches of 6 units per message: 38 batch means
        values = _est_batch_means(code, xs, n, 2)
        assert len(values) == 38
    half = t_half_width(values, LEVEL)
    assert m.ci99 == pytest.approx(_est_outward(bps - half, bps + half, bps), rel=1e-13)
    pi = np.asarray(src.marginal())
    assert m.expected_bits_per_symbol == pytest.approx(float(pi @ [1, 2, 2]), rel=1e-14)


@pytest.mark.parametrize("code, opts, n, batches", [
    ("huffman", {}, 30, 20),  # 20 batches of 2 or 1 units (10 of each)
    ("huffman", {}, 5, 5),  # fewer units than BATCHES: one unit per batch
    ("huffman", {}, 2, 2),  # two batch means: still an interval
    ("block-huffman", {"block": 2}, 25, 12),  # 12 pairs; the last batch also holds the 25th symbol
    ("arithmetic", {}, 40, 20),  # lengths 1, 2, 2 exactly; the slack goes to the last batch
    ("arithmetic", {"q": [0.6, 0.3, 0.1]}, 40, 20),  # lengths that are not whole numbers
])
def test_one_message_of_a_chain_is_cut_into_batches_as_documented(code, opts, n, batches):
    from simulator.bounds import LEVEL, t_half_width
    from simulator.sources import MarkovSource

    opts = dict(opts)
    q = opts.pop("q", [0.5, 0.25, 0.25])
    m = simulate(_EST_CHAIN, q, code, n=n, rng=np.random.default_rng(4), **opts)
    c = _est_build(q, code, **opts)
    xs = _est_messages(MarkovSource(_EST_CHAIN), 4, 1, n)
    means = _est_batch_means(c, xs, n, batches)
    bps = len(c.encode(xs[0])) / n
    lo_slack, hi_slack = c.slack_bits
    half = t_half_width(means, LEVEL)
    assert m.ci_method == "batch-means" and math.isfinite(half)
    lo, hi = bps - half - hi_slack / n, bps + half - lo_slack / n
    assert m.ci99 == pytest.approx(_est_outward(lo, hi, bps), rel=1e-13)


def test_one_batch_mean_is_no_interval():
    m = simulate(_EST_CHAIN, [0.5, 0.25, 0.25], "huffman", n=1, rng=np.random.default_rng(4))
    assert m.ci_method == "none" and m.ci99 == (-math.inf, math.inf)


@pytest.mark.parametrize("p, q, code, opts, n, trials, chunk, unit_arrays", [
    ([0.2, 0.4, 0.4], [0.5, 0.25, 0.25], "huffman", {}, 1000, 1, None, False),  # bernstein
    ([0.2, 0.4, 0.4], [0.5, 0.25, 0.25], "block-huffman", {"block": 2}, 1000, 2, None, False),
    # a partial unit: its excess needs the unit lengths
    ([0.2, 0.4, 0.4], [0.5, 0.25, 0.25], "block-huffman", {"block": 2}, 1001, 2, 101, True),
    (_EST_CHAIN, [0.5, 0.25, 0.25], "huffman", {}, 500, 1, 64, True),  # batch-means
    (_EST_CHAIN, [0.5, 0.25, 0.25], "huffman", {}, 50, 20, None, False),  # trials
    ([0.7, 0.3], [0.5, 0.5], "arithmetic", {"model": "kt"}, 300, 2, None, False),  # trials
    ([0.7, 0.3], [0.5, 0.5], "arithmetic", {"model": "kt"}, 300, 1, None, False),  # none
])
def test_simulate_runs_within_exactly_its_estimated_peak_and_refuses_one_byte_less(
        p, q, code, opts, n, trials, chunk, unit_arrays):
    from simulator._validate import format_bytes as _est_format_bytes
    from simulator.engine import CHUNK, as_source

    # chunk=None is CHUNK; the chunk is rounded down to a multiple of k
    need = _est_peak(_est_build(q, code, **opts), as_source(p), n, trials,
                     unit_arrays=unit_arrays, chunk=CHUNK if chunk is None else chunk)
    args = dict(n=n, trials=trials, chunk=chunk, rng=np.random.default_rng(0), **opts)
    message = (f"n = {n} symbols per message needs about {_est_format_bytes(need)}, above "
               f"the memory limit of {_est_format_bytes(need - 1)} (the memory_limit "
               "argument); use a smaller n and more trials (messages are coded one at a time), "
               "or raise the limit")
    with pytest.raises(XentsimError, match="^" + _est_re.escape(message)):
        simulate(p, q, code, memory_limit=need - 1, **args)
    assert simulate(p, q, code, memory_limit=need, **args).n_symbols == n


def test_more_workers_than_messages_are_not_counted_in_the_estimate():
    from simulator.engine import as_source

    p, q, n = [0.2, 0.4, 0.4], [0.5, 0.25, 0.25], 1000
    one = _est_peak(_EstHuffman(q), as_source(p), n, 1, unit_arrays=False)
    # one message, a message too short to cut into pieces: one worker's working set
    m = simulate(p, q, "huffman", n=n, jobs=3, memory_limit=one, rng=np.random.default_rng(0))
    assert m.trial_bits == simulate(p, q, "huffman", n=n, rng=np.random.default_rng(0)).trial_bits
    # two messages on two workers: two working sets, refused below that
    two = _est_peak(_EstHuffman(q), as_source(p), n, 2, unit_arrays=False, jobs=2)
    with pytest.raises(XentsimError, match=f"^n = {n} symbols per message"):
        simulate(p, q, "huffman", n=n, trials=2, jobs=2, memory_limit=two - 1,
                 rng=np.random.default_rng(0))


# ---- timings: a fake clock that moves only while the code or the sampler works, by a
# power of two per call (sampling 1, encoding 2^8, decoding 2^16), so that every timing
# field is an exact count of the work done in it

class _EstClock:
    COST = {"sample": 1.0, "encode": 2.0**8, "decode": 2.0**16}

    def __init__(self):
        self.now = 2.0**30
        self.calls = {"sample": 0, "encode": 0, "decode": 0}

    def __call__(self):
        return self.now

    def work(self, kind):
        self.now += self.COST[kind]
        self.calls[kind] += 1

    def seconds(self, sample=0, encode=0, decode=0):
        return sample * 1.0 + encode * 2.0**8 + decode * 2.0**16


class _EstTimed:
    """Delegates to ``inner``; the listed methods charge the clock, and the listed
    factories return timed wrappers too."""

    def __init__(self, inner, clock, charge, wrap=()):
        self._inner, self._clock, self._charge, self._wrap = inner, clock, charge, wrap

    def __getattr__(self, name):
        value = getattr(self._inner, name)
        if name in self._charge:
            def charged(*a, **kw):
                self._clock.work(self._charge[name])
                return value(*a, **kw)
            return charged
        if name in self._wrap:
            charge, wrap = self._wrap[name]
            return lambda *a, **kw: _EstTimed(value(*a, **kw), self._clock, charge, wrap)
        return value


def _est_timed_code(code, clock):
    return _EstTimed(code, clock, {"encode": "encode", "decode": "decode"},
                     {"encoder": ({"push": "encode", "finish": "encode"}, {}),
                      "decoder": ({"feed": "decode", "pull": "decode"}, {})})


def _est_timed_source(source, clock):
    stream = ({"next": "sample"}, {})
    stream[1]["copy"] = stream  # copies of the sampler are timed too
    return _EstTimed(source, clock, {"sample": "sample"}, {"stream": stream})


# warming up: encode + decode of the prefix whole, then push, feed, finish, feed, pull
_EST_WARM = dict(encode=3, decode=4)


@pytest.mark.parametrize("warm", [False, True])
def test_each_timing_of_a_chunked_message_counts_exactly_its_own_work(monkeypatch, warm):
    from types import SimpleNamespace

    clock = _EstClock()
    monkeypatch.setattr(engine_mod, "time", SimpleNamespace(perf_counter=clock))
    q = [0.5, 0.25, 0.25]
    code, src = _est_timed_code(_EstHuffman(q), clock), _est_timed_source(_EstIID(q), clock)
    rec = engine_mod._code_message("h", code, src, np.random.default_rng(0), 10, 4, None, warm)
    # 3 chunks (4 + 4 + 2): 3 draws; 3 pushes + finish; 3 feeds + the last feed + 3 pulls
    assert rec.smp_s == clock.seconds(sample=3)
    assert rec.enc_s == clock.seconds(encode=4)
    assert rec.dec_s == clock.seconds(decode=7)
    assert rec.warm_s == (clock.seconds(**_EST_WARM) if warm else 0.0)
    assert rec.held_max == 4  # a prefix code's chunk is compared as soon as it is coded
    assert rec.length == len(_EstHuffman(q).encode(
        _EstIID(q).sample(10, rng=np.random.default_rng(0))))


def test_each_timing_of_a_message_coded_whole_counts_exactly_its_own_work(monkeypatch):
    from types import SimpleNamespace

    clock = _EstClock()
    monkeypatch.setattr(engine_mod, "time", SimpleNamespace(perf_counter=clock))
    q = [0.5, 0.25, 0.25]
    code = Whole(_est_timed_code(_EstHuffman(q), clock))
    src = _EstNoStream(_est_timed_source(_EstIID(q), clock))  # sampled whole: one draw
    rec = engine_mod._code_message("h", code, src, np.random.default_rng(0), 10, 4, None, True)
    assert (rec.smp_s, rec.enc_s, rec.dec_s) == (clock.seconds(sample=1),
                                                 clock.seconds(encode=1), clock.seconds(decode=1))
    assert rec.warm_s == clock.seconds(encode=1, decode=1)
    assert rec.held_max == 10
    # a streaming source with a code coded whole: the message is drawn in one call
    src = _est_timed_source(_EstIID(q), clock)
    rec = engine_mod._code_message("h", code, src, np.random.default_rng(0), 10, 4, None, False)
    assert (rec.smp_s, rec.enc_s, rec.dec_s, rec.warm_s) == (clock.seconds(sample=1),
                                                             clock.seconds(encode=1),
                                                             clock.seconds(decode=1), 0.0)


def test_redrawn_chunks_count_as_sampling_time(monkeypatch):
    # a low-entropy arithmetic stream holds its bits back: waiting chunks are dropped
    # and drawn again from a copy of the sampler; every draw is sampling time
    from types import SimpleNamespace

    clock = _EstClock()
    monkeypatch.setattr(engine_mod, "time", SimpleNamespace(perf_counter=clock))
    p = [1 - 1e-9, 1e-9]
    code, src = _est_timed_code(_EstArith(p), clock), _est_timed_source(_EstIID(p), clock)
    n, chunk = 100_000, 1000
    rec = engine_mod._code_message("a", code, src, np.random.default_rng(6), n, chunk, None,
                                   False)
    assert clock.calls["sample"] > n // chunk  # some chunks were drawn twice
    # the bound of LAG_CHUNKS + 1 waiting chunks (the memory estimate's) is reached
    assert rec.held_max == (engine_mod.LAG_CHUNKS + 1) * chunk
    assert rec.smp_s == clock.seconds(sample=clock.calls["sample"])
    assert rec.enc_s == clock.seconds(encode=clock.calls["encode"])
    assert rec.dec_s == clock.seconds(decode=clock.calls["decode"])


@pytest.mark.parametrize("trials", [1, 3])
def test_simulate_sums_the_timings_of_its_messages_and_reports_warming_apart(monkeypatch, trials):
    from types import SimpleNamespace

    clock = _EstClock()
    monkeypatch.setattr(engine_mod, "time", SimpleNamespace(perf_counter=clock))
    build = engine_mod.build_code
    monkeypatch.setattr(engine_mod, "build_code",
                        lambda *a, **kw: _est_timed_code(build(*a, **kw), clock))
    q = [0.5, 0.25, 0.25]
    m = simulate(_est_timed_source(_EstIID(q), clock), q, "huffman", n=10, trials=trials,
                 chunk=4, rng=np.random.default_rng(0))
    # per message as above; warming: the sampler once (a draw) and the first message's coder
    assert m.sample_seconds == clock.seconds(sample=trials * 3)
    assert m.encode_seconds == clock.seconds(encode=trials * 4)
    assert m.decode_seconds == clock.seconds(decode=trials * 7)
    assert m.warmup_seconds == clock.seconds(sample=1, **_EST_WARM)


def test_a_source_without_stream_or_a_code_without_encoder_gives_the_same_measurement(
        monkeypatch):
    p, q = [0.2, 0.4, 0.4], [0.5, 0.25, 0.25]
    args = dict(n=1001, trials=2, block=2, chunk=100, rng=np.random.default_rng(9))
    ref = simulate(p, q, "block-huffman", **args)
    whole = simulate(_EstNoStream(_EstIID(p)), q, "block-huffman",
                     **dict(args, rng=np.random.default_rng(9)))
    assert (whole.trial_bits, whole.ci99, whole.expected_bits_per_symbol) == \
        (ref.trial_bits, ref.ci99, ref.expected_bits_per_symbol)
    build = engine_mod.build_code
    monkeypatch.setattr(engine_mod, "build_code", lambda *a, **kw: Whole(build(*a, **kw)))
    seen = []
    coded_whole = simulate(p, q, "block-huffman", **dict(args, rng=np.random.default_rng(9)),
                           progress=lambda done, total: seen.append((done, total)))
    assert (coded_whole.trial_bits, coded_whole.ci99) == (ref.trial_bits, ref.ci99)
    assert seen == [(1001, 2002), (2002, 2002)]  # one step per message coded whole


def test_a_code_coded_whole_that_decodes_wrongly_is_named_with_the_position():
    from simulator.errors import RoundTripError

    class Wrong:  # decodes symbol 5 as another symbol
        def __init__(self, code):
            self._code = code

        def __getattr__(self, name):
            return getattr(self._code, name)

        def decode(self, bits, n):
            y = self._code.decode(bits, n).copy()
            y[5] = (y[5] + 1) % 3
            return y

    code, src = Whole(Wrong(_EstHuffman([0.5, 0.25, 0.25]))), _EstIID([0.2, 0.4, 0.4])
    with pytest.raises(RoundTripError, match="^w: decoded message differs from the input at 5$"):
        engine_mod._code_message("w", code, src, np.random.default_rng(0), 50, 8, None, False)


def test_progress_true_shows_a_bar_over_all_symbols_and_closes_it(monkeypatch):
    made = []

    class Bar:
        def __init__(self, total, stream=None, **kw):
            self.total, self.seen, self.closed = total, [], False
            made.append(self)

        def __call__(self, done, total=None):
            self.seen.append(done)

        def close(self):
            self.closed = True

    monkeypatch.setattr(engine_mod, "ProgressBar", Bar)
    simulate([0.5, 0.5], [0.5, 0.5], "huffman", n=100, trials=3, chunk=40, progress=True,
             rng=np.random.default_rng(0))
    assert len(made) == 1 and made[0].total == 300 and made[0].closed
    assert made[0].seen == [40, 80, 100, 140, 180, 200, 240, 280, 300]
    simulate([0.5, 0.5], [0.5, 0.5], "huffman", n=100, rng=np.random.default_rng(0))
    assert len(made) == 1  # no progress: no bar


def test_a_message_cut_across_workers_is_estimated_per_worker():
    # more workers than messages, an i.i.d. PCG64 source and a prefix code: one message is
    # cut into pieces, one per worker, and each worker holds its own working set
    from simulator.engine import as_source

    p, q, n, chunk = [0.2, 0.4, 0.4], [0.5, 0.25, 0.25], 4000, 1000
    code, src = _EstHuffman(q), as_source(p)
    three = _est_peak(code, src, n, 1, unit_arrays=False, chunk=chunk, jobs=3)
    with pytest.raises(XentsimError, match=f"^n = {n} symbols per message"):
        simulate(p, q, "huffman", n=n, chunk=chunk, jobs=3, memory_limit=three - 1,
                 rng=np.random.default_rng(0))
    # the same run on an MT19937 generator cannot jump: it stays whole, in one process
    one = _est_peak(code, src, n, 1, unit_arrays=False, chunk=chunk, jobs=1)
    mt = np.random.Generator(np.random.MT19937(0))
    m = simulate(p, q, "huffman", n=n, chunk=chunk, jobs=3, memory_limit=one, rng=mt)
    assert m.n_symbols == n


def test_simulate_checks_an_adaptive_models_tables_against_the_given_limit():
    with pytest.raises(XentsimError, match=r"^order = 3 \(2\^3 contexts of 2 symbols\) needs "
                                           "about 576 bytes, above the memory limit of 500 "
                                           "bytes"):
        simulate([0.5, 0.5], [0.5, 0.5], "arithmetic", model="kt", order=3, n=10,
                 memory_limit=500, rng=np.random.default_rng(0))


def test_a_source_with_an_invalid_marginal_is_refused_naming_p():
    class Bad:
        def __init__(self):
            self._src = _EstIID([0.5, 0.5])

        def __getattr__(self, name):
            return getattr(self._src, name)

        def marginal(self):
            return np.array([0.5, 0.6])

    with pytest.raises(XentsimError, match="^p sums to 1.1, not 1"):
        simulate(Bad(), [0.5, 0.5], "huffman", n=10, rng=np.random.default_rng(0))


def test_model_fields_of_static_arithmetic_codes_with_and_without_contexts():
    from simulator.bounds import unit_spread
    from simulator.sources import MarkovSource

    p, q = [0.5, 0.5], [0.9, 0.1]  # (at n = 11, n * H(p, q^) / n is not H(p, q^) in floats)
    m = simulate(p, q, "arithmetic", n=11, rng=np.random.default_rng(0))
    assert m.model_cross_entropy_bits == m.expected_bits_per_symbol  # order 0: the same
    assert (m.precision, m.model) == (24, "static")
    assert m.quantisation_gap_bits == pytest.approx(
        m.expected_bits_per_symbol - m.cross_entropy_bits, abs=1e-15)
    assert m.model_order == 0 and m.source_order == 0
    chain = np.array(_EST_CHAIN)
    c = simulate(chain, chain, "arithmetic", n=300, rng=np.random.default_rng(0))
    code = _est_build(chain, "arithmetic")
    h = unit_spread(code, MarkovSource(chain))[0]  # the stationary H(mu, q^)
    assert c.model_order == 1 and c.source_order == 1
    assert c.model_cross_entropy_bits == h
    assert c.quantisation_gap_bits == pytest.approx(h - c.cross_entropy_bits, abs=1e-15)
    assert 0 < abs(c.quantisation_gap_bits) < 1e-4
    # the expectation counts the zero-padded start, unlike the stationary cost
    e = code.expected_message_bits(MarkovSource(chain), 300) / 300
    assert c.expected_bits_per_symbol == e != h
    assert c.marginal_entropy_bits is None  # an order-1 q: no marginal decomposition
    # an order-0 q coded by an order-0 code on the chain: H(pi, q) decomposed
    z = simulate(chain, [0.5, 0.25, 0.25], "arithmetic", n=300, rng=np.random.default_rng(0))
    pi = MarkovSource(chain).marginal()
    from simulator.measures import entropy, kl_divergence
    assert z.marginal_entropy_bits == pytest.approx(entropy(pi), rel=1e-13)
    assert z.memory_bits == pytest.approx(entropy(pi) - z.entropy_rate_bits, rel=1e-12)
    assert z.marginal_kl_bits == pytest.approx(kl_divergence(pi, [0.5, 0.25, 0.25]), rel=1e-12)
    # adaptive counts with contexts are not an order-0 code: no decomposition either
    a = simulate(chain, [0.5, 0.25, 0.25], "arithmetic", model="kt", order=1, n=300,
                 rng=np.random.default_rng(0))
    assert a.model_order == 1 and a.marginal_entropy_bits is None and a.memory_bits is None


def test_simulate_codes_with_huffman_by_default_and_names_the_code_in_a_mismatch(monkeypatch):
    from simulator.errors import RoundTripError

    assert simulate([0.5, 0.5], [0.5, 0.5], n=10, rng=np.random.default_rng(0)).code == "huffman"

    build = engine_mod.build_code
    monkeypatch.setattr(engine_mod, "build_code", lambda *a, **kw: FlipPulled(build(*a, **kw), 5, 6))
    with pytest.raises(RoundTripError, match="^shannon: decoded message differs from the input "
                                             "at 5$"):
        simulate([0.5, 0.5], [0.5, 0.5], "shannon", n=10, chunk=4, rng=np.random.default_rng(0))


def test_a_zero_variance_code_gets_a_zero_width_interval_on_its_exact_value():
    u = [0.25] * 4  # every codeword 2 bits
    m = simulate(u, u, "huffman", n=100, trials=2, rng=np.random.default_rng(0))
    assert m.ci_method == "bernstein" and m.expected_bits_per_symbol == 2.0
    assert m.ci99 == _est_outward(2.0, 2.0, 2.0)


def test_rates_of_a_source_without_its_own_rate_methods_come_from_its_block_law():
    class Plain:  # an i.i.d. source that offers only the Source protocol
        def __init__(self, p):
            self._src = _EstIID(p)

        def __getattr__(self, name):
            if name in ("cross_entropy_rate_bits", "kl_rate_bits"):
                raise AttributeError(name)
            return getattr(self._src, name)

    p, q = [0.2, 0.4, 0.4], [0.5, 0.25, 0.25]
    a = simulate(Plain(p), q, "huffman", n=10, rng=np.random.default_rng(0))
    b = simulate(p, q, "huffman", n=10, rng=np.random.default_rng(0))
    assert a.cross_entropy_bits == pytest.approx(b.cross_entropy_bits, rel=1e-14)
    assert a.kl_bits == pytest.approx(b.kl_bits, rel=1e-12)


class _EstHoarding:
    """A prefix code whose encoder hands out its bits only every ``release`` pushes (and at
    the end), so coded chunks wait for their bits; ``need_bits`` stays the true count."""

    def __init__(self, code, release):
        self._code, self._release = code, release

    def __getattr__(self, name):
        return getattr(self._code, name)

    def encoder(self):
        inner, release = self._code.encoder(), self._release

        class Enc:
            def __init__(self):
                self.pushes, self.held = 0, []

            @property
            def need_bits(self):
                return inner.need_bits

            def push(self, x):
                self.held.append(inner.push(x))
                self.pushes += 1
                return self.flush() if self.pushes % release == 0 else self.held[0][:0]

            def flush(self):
                out = self.held[0][:0]
                for b in self.held:
                    out += b
                self.held = []
                return out

            def finish(self):
                self.held.append(inner.finish())
                return self.flush()

        return Enc()


@pytest.mark.parametrize("release, draws, copies", [
    # all bits at the end: the first chunk (drawn when none waited) and the last three
    # keep their symbols; the other 16 are drawn again; a copy for each of chunks 2..20
    (10**9, 20 + 16, 19),
    # bits every 8 chunks: chunks 2-4 and 10-12 are dropped when chunks 5-7 and 13-15
    # arrive (held > 4 chunks); chunks 8 and 16 bring the bits, and everything waiting is
    # compared before anything more is dropped; chunks 1, 9 and 17 are drawn when none
    # waits: no copy
    (8, 20 + 6, 17),
])
def test_chunks_waiting_for_their_bits_are_dropped_and_drawn_again_exactly(release, draws,
                                                                          copies):
    # uniform symbols, so a chunk drawn again from a wrong position would not match
    u = [1 / 3] * 3
    counted = {"next": 0, "copy": 0}

    class Counting:
        def __init__(self, stream):
            self._s = stream

        def next(self, count):
            counted["next"] += 1
            return self._s.next(count)

        def copy(self):
            counted["copy"] += 1
            return Counting(self._s.copy())

    class Src:
        def __init__(self):
            self._src = _EstIID(u)

        def __getattr__(self, name):
            return getattr(self._src, name)

        def stream(self, rng):
            return Counting(self._src.stream(rng))

    code = _EstHoarding(_EstHuffman(u), release)
    n, chunk = 1000, 50  # 20 chunks
    rec = engine_mod._code_message("h", code, Src(), np.random.default_rng(1), n, chunk, None,
                                   False)
    x = _EstIID(u).sample(n, rng=np.random.default_rng(1))
    assert rec.length == len(_EstHuffman(u).encode(x))
    assert rec.held_max == (engine_mod.LAG_CHUNKS + 1) * chunk
    assert counted["copy"] == copies  # a copy for every chunk drawn while another waited
    assert counted["next"] == draws


class _EstInProcessPool(concurrent.futures.ThreadPoolExecutor):
    """A one-thread pool in this process standing in for the worker processes; tasks get
    pickled copies of their arguments, as in a process pool."""

    def submit(self, fn, *args):
        import pickle
        copied = pickle.loads(pickle.dumps(args))
        return super().submit(lambda: fn(*copied))


@pytest.mark.parametrize("n, trials, chunk, steps", [
    (100, 4, 1024, [100, 200, 300, 400]),  # one message per group, reported per group
    (4096, 1, 1024, [1024, 2048, 3072, 4096]),  # one message cut into four pieces
])
def test_with_workers_progress_is_per_group_or_piece_and_a_mismatch_names_the_code(
        monkeypatch, n, trials, chunk, steps):
    from simulator.errors import RoundTripError

    monkeypatch.setattr(engine_mod, "worker_pool",
                        lambda jobs, init=None, initargs=(): _EstInProcessPool(
                            max_workers=1, initializer=init, initargs=initargs))
    seen = []
    simulate([0.5, 0.25, 0.25], [0.5, 0.25, 0.25], "shannon", n=n, trials=trials, chunk=chunk,
             jobs=2, rng=np.random.default_rng(0), progress=lambda d, t: seen.append((d, t)))
    assert seen == [(d, n * trials) for d in steps]
    build = engine_mod.build_code
    monkeypatch.setattr(engine_mod, "build_code", lambda *a, **kw: FlipPulled(build(*a, **kw), 5, 6))
    with pytest.raises(RoundTripError, match="^shannon: decoded message differs from the input "
                                             "at 5$"):
        simulate([0.5, 0.25, 0.25], [0.5, 0.25, 0.25], "shannon", n=n, trials=trials,
                 chunk=chunk, jobs=2, rng=np.random.default_rng(0))


def test_the_rounding_pad_is_4_ulps_of_the_largest_value_involved_the_expectation_included():
    # A chain that keeps its state w.p. 0.999, one message of 40 symbols: with this seed
    # the message never leaves symbol 0 (a 1-bit codeword), so all 20 batch means are 1
    # and the batch-means interval has zero width at 1 bit, far from theta = 2.25 bits
    # (batches this short are far too correlated: the documented asymptotic caveat)
    chain = np.full((4, 4), 0.001 / 3)
    np.fill_diagonal(chain, 0.999)
    m = simulate(chain, [0.5, 0.25, 0.125, 0.125], "huffman", n=40, rng=np.random.default_rng(18))
    assert m.bits_per_symbol == 1.0 and m.expected_bits_per_symbol == 2.25
    assert m.ci_method == "batch-means"
    pad = 4 * math.ulp(2.25)  # twice 4 ulps of 1.0
    assert m.ci99 == (1.0 - pad, 1.0 + pad)
