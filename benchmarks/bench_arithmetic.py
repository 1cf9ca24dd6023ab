"""Arithmetic coding throughput: compiled path vs constriction, the reference and the floor.

Run:  python benchmarks/bench_arithmetic.py   (times the simulator of this checkout)

Workload: the engine's K = 256 Zipf pair, coded (a) as 1000 messages of 10^4 symbols
and (b) as one message of 10^7 symbols, whole or (c) streamed in chunks of 10^5
(``ArithmeticStreamEncoder`` pushes; ``ArithmeticStreamDecoder`` fed each push's bits and
pulling every chunk whose ``need_bits`` is covered), beside the whole message. Peers: constriction's RangeEncoder /
RangeDecoder with a Categorical model (Rust; ``pip install -e ".[bench]"``), when
installed; xentsim's own pure-Python ReferenceCoder; and the floor, numpy computing
the ideal length ``take(-log2 q^, x).sum()`` (what a formula would report instead).
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

# Measure this checkout's simulator, not whichever one is installed.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from _common import P, Q, best_of, print_table
from simulator.codes.arithmetic import (ArithmeticStreamDecoder, ArithmeticStreamEncoder,
                                        ReferenceCoder, decode, encode)
from simulator.models import AdaptiveModel, ConditionalModel, StaticModel
from simulator.distributions import sample

try:
    import constriction
except ImportError:  # optional peer
    constriction = None


def run():
    model = StaticModel(Q)
    neglog = model.precision - np.log2(model.freqs.astype(float))
    rng = np.random.default_rng(0)
    one = sample(P, 10**7, rng)
    many = [sample(P, 10**4, r) for r in rng.spawn(1000)]
    encode(one[:10], model)
    decode(encode(one[:10], model), model, 10)
    rows = []
    if constriction is not None:
        cat = constriction.stream.model.Categorical(Q.probs.astype(np.float32), perfect=False)

    for label, msgs in (("1000 x 1e4", many), ("1 x 1e7", [one])):
        n = sum(m.size for m in msgs)
        mega = n / 1e6
        streams = [encode(m, model) for m in msgs]
        t_enc = best_of(lambda: [encode(m, model) for m in msgs])
        t_dec = best_of(lambda: [decode(b, model, m.size) for b, m in zip(streams, msgs)])
        t_floor = best_of(lambda: [np.take(neglog, m).sum() for m in msgs])
        if constriction is not None:
            ints = [m.astype(np.int32) for m in msgs]

            def c_enc():
                out = []
                for m in ints:
                    e = constriction.stream.queue.RangeEncoder()
                    e.encode(m, cat)
                    out.append(e.get_compressed())
                return out

            comp = c_enc()
            t_cenc = best_of(c_enc)
            t_cdec = best_of(lambda: [constriction.stream.queue.RangeDecoder(c).decode(cat, m.size)
                                      for c, m in zip(comp, ints)])
            rows.append((f"static encode {label}", n, mega / t_enc, "constriction", mega / t_cenc, 2.0))  # issue 14: >= 2x encode
            rows.append((f"static decode {label}", n, mega / t_dec, "constriction", mega / t_cdec, 3.0))  # and >= 3x decode
            bits_ours = sum(len(b) for b in streams) / n
            bits_c = sum(c.size * 32 for c in comp) / n
            print(f"  {label}: bits/symbol xentsim {bits_ours:.6f}, constriction {bits_c:.6f}, "
                  f"H(p,q^) {model.cross_entropy(P):.6f}")
        rows.append((f"static encode {label}", n, mega / t_enc, "floor: take(-log2 q^).sum", mega / t_floor, None))

    # streamed: the 10^7-symbol message in chunks of 10^5, decoded in step
    chunk = 10**5
    n = one.size

    def s_enc():
        enc = ArithmeticStreamEncoder(model)
        parts, needs = [], []
        for a in range(0, n, chunk):
            parts.append(enc.push(one[a:a + chunk]))
            needs.append(enc.need_bits)
        parts.append(enc.finish())
        return parts, needs

    parts, needs = s_enc()

    def s_dec():
        dec = ArithmeticStreamDecoder(model, n)
        fed = j = 0
        for i, part in enumerate(parts):
            dec.feed(part, last=i == len(parts) - 1)
            fed += len(part)
            while j < len(needs) and (needs[j] <= fed or i == len(parts) - 1):
                dec.pull(min(chunk, n - j * chunk))
                j += 1
        dec.close()

    whole = encode(one, model)
    t_se, t_we = best_of(s_enc), best_of(lambda: encode(one, model))
    t_sd, t_wd = best_of(s_dec), best_of(lambda: decode(whole, model, n))
    rows.append(("static encode 1 x 1e7, 1e5-chunks", n, n / 1e6 / t_se, "whole message", n / 1e6 / t_we, None))
    rows.append(("static decode 1 x 1e7, 1e5-chunks", n, n / 1e6 / t_sd, "whole message", n / 1e6 / t_wd, None))

    # the readable reference coder, on a small message
    small = one[:20_000]
    t_ref = best_of(lambda: ReferenceCoder.encode(small, model), repeat=1)
    t_fast = best_of(lambda: encode(small, model))
    rows.append(("static encode 1 x 2e4", small.size, small.size / 1e6 / t_fast,
                 "ReferenceCoder (Python)", small.size / 1e6 / t_ref, None))

    # Adaptive and conditional models: the same coder with another model, each beside
    # the static model on the same alphabet. The conditional workload is a classifier's:
    # K = 10 labels, a different predicted distribution at each of 10^6 positions.
    x = one[:10**6]
    kt = AdaptiveModel(P.n_symbols, "kt")
    rng10 = np.random.default_rng(10)
    rows10 = rng10.dirichlet(np.ones(10), size=10**6)
    x10 = (rows10.cumsum(axis=1) < rng10.random((10**6, 1))).sum(axis=1).astype(np.uint8)
    cond = ConditionalModel(rows10)
    static10 = StaticModel(rows10.mean(axis=0))
    for name, m, xs, base in (("adaptive kt, K=256", kt, x, model),
                              ("conditional, K=10", cond, xs10 := x10, static10)):
        bits, bits0 = encode(xs, m), encode(xs, base)
        t_e, t_e0 = best_of(lambda: encode(xs, m)), best_of(lambda: encode(xs, base))
        t_d = best_of(lambda: decode(bits, m, xs.size))
        t_d0 = best_of(lambda: decode(bits0, base, xs.size))
        mega = xs.size / 1e6
        rows.append((f"{name} encode 1 x 1e6", xs.size, mega / t_e, "static model, same K", mega / t_e0, None))
        rows.append((f"{name} decode 1 x 1e6", xs.size, mega / t_d, "static model, same K", mega / t_d0, None))
    return rows


if __name__ == "__main__":
    if constriction is None:
        print("constriction is not installed: pip install -e '.[bench]' to compare with it")
    print_table("Arithmetic coding throughput, K = 256 Zipf workload, one core", run())
