"""Throughput of sampling, prefix coding and the whole measurement, beside the peers.

Run:  python benchmarks/bench_engine.py [--sizes 1e6 1e7] [--pipeline]

``--pipeline`` measures only the whole Huffman measurement (sample, encode, decode,
compare; messages coded in chunks of ``simulator.engine.CHUNK`` symbols), by wall
clock and by this process's CPU time (the machine may be shared).

Peers: numpy's ``rng.choice`` (sampling), bitarray's C ``encode`` with a code dict and
``decode`` with a prebuilt ``decodetree`` (prefix coding), and the floor of the whole
pipeline: numpy sampling plus ``take(-log2 q, x).sum()``, the arithmetic a formula
would do instead of coding.

Sources with memory: an order-1 chain on the same K = 256 symbols (each row a
Dirichlet(0.1) draw, seed 0) is sampled and coded with its own context model; each row
sits beside the i.i.d. path doing the same job (the alias sampler, the order-0 code or
model), so the "ratio" column is the price of the context.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bitarray import bitarray
from bitarray import decodetree

from _common import K, P, Q, best_of, print_table
from simulator.codes import ContextArithmeticCode, ContextHuffmanCode, HuffmanCode
from simulator.codes.arithmetic import ArithmeticCode
from simulator.distributions import sample
from simulator.engine import simulate
from simulator.models import AdaptiveContextModel
from simulator.sources import MarkovSource

#: The order-1 chain of the Markov rows: K = 256, rows Dirichlet(0.1), seed 0.
CHAIN = np.random.default_rng(0).dirichlet(np.full(K, 0.1), size=K)


def run(sizes) -> list[tuple]:
    rows = []
    code = HuffmanCode(Q)
    table = code.code_dict()
    tree = decodetree(table)
    neglog = -np.log2(Q.probs)
    sample(P, 10, np.random.default_rng(0))  # compile outside the timings
    code.decode(code.encode(np.arange(256)), 256)
    for n in sizes:
        rng = np.random.default_rng(1)
        x = sample(P, n, rng)
        xl = x.tolist()
        bits = code.encode(x)
        mega = n / 1e6
        t_ours = best_of(lambda: sample(P, n, rng))
        t_peer = best_of(lambda: rng.choice(P.n_symbols, n, p=P.probs))
        rows.append(("sample from p", n, mega / t_ours, "rng.choice", mega / t_peer, 2.5))

        def peer_encode():
            b = bitarray(endian="big")
            b.encode(table, xl)

        t_ours = best_of(lambda: code.encode(x))
        t_peer = best_of(peer_encode)
        rows.append(("Huffman encode", n, mega / t_ours, "bitarray.encode", mega / t_peer, 2.0))
        t_ours = best_of(lambda: code.decode(bits, n))
        t_peer = best_of(lambda: list(bits.decode(tree)))
        rows.append(("Huffman decode", n, mega / t_ours, "bitarray.decode", mega / t_peer, 1.5))

        def floor():
            y = rng.choice(P.n_symbols, n, p=P.probs)
            return np.take(neglog, y).sum()

        t_ours = best_of(lambda: simulate(P, Q, "huffman", n=n, rng=np.random.default_rng(2)))
        t_peer = best_of(floor)
        rows.append(("whole simulate (huffman)", n, mega / t_ours, "floor: choice+take.sum",
                     mega / t_peer, None))
        print(f"  simulate, huffman, n={n:.0e}: {mega / t_ours:.1f} Msym/s (target >= 40)")
        rows += markov_rows(n)
    return rows


def markov_rows(n) -> list[tuple]:
    """Markov sampling and context-model coding, each beside its i.i.d. counterpart."""
    rows = []
    src = MarkovSource(CHAIN)
    pi = src.marginal()
    src.sample(10, rng=np.random.default_rng(0))
    rng = np.random.default_rng(3)
    mega = n / 1e6
    t_ours = best_of(lambda: src.sample(n, rng=rng))
    t_peer = best_of(lambda: sample(P, n, rng))
    rows.append(("sample Markov order 1", n, mega / t_ours, "i.i.d. alias sampler", mega / t_peer, None))
    print(f"  Markov sampling, K={K}, order 1, n={n:.0e}: {mega / t_ours:.1f} Msym/s (target >= 50)")
    x = src.sample(n, rng=rng)
    pairs = [
        ("context Huffman", ContextHuffmanCode(CHAIN), "Huffman from pi", HuffmanCode(pi)),
        ("context arithmetic", ContextArithmeticCode.from_chain(CHAIN), "arithmetic from pi",
         ArithmeticCode(pi)),
        ("adaptive kt order 1", ContextArithmeticCode(AdaptiveContextModel(K, "kt", 1)),
         "adaptive kt order 0", ArithmeticCode(pi, model="kt")),
    ]
    for name, ours, peer_name, peer in pairs:
        for code in (ours, peer):
            code.decode(code.encode(x[:1000]), 1000)  # compile outside the timings
        bits, pbits = ours.encode(x), peer.encode(x)
        t_ours = best_of(lambda: ours.encode(x))
        t_peer = best_of(lambda: peer.encode(x))
        rows.append((f"{name} encode", n, mega / t_ours, f"{peer_name} encode", mega / t_peer, None))
        t_ours = best_of(lambda: ours.decode(bits, n))
        t_peer = best_of(lambda: peer.decode(pbits, n))
        rows.append((f"{name} decode", n, mega / t_ours, f"{peer_name} decode", mega / t_peer, None))
    t_ours = best_of(lambda: simulate(src, CHAIN, "arithmetic", n=n, rng=np.random.default_rng(2)))
    t_peer = best_of(lambda: simulate(P, Q, "arithmetic", n=n, rng=np.random.default_rng(2)))
    rows.append(("whole simulate (chain, context arith.)", n, mega / t_ours,
                 "i.i.d. p, static arithmetic", mega / t_peer, None))
    return rows


def pipeline(sizes) -> None:
    """The Huffman measurement alone: best of 3 by wall clock and by CPU time."""
    simulate(P, Q, "huffman", n=1000, rng=np.random.default_rng(2))  # compile first
    for n in sizes:
        wall = cpu = float("inf")
        for _ in range(3):
            t, c = time.perf_counter(), time.process_time()
            simulate(P, Q, "huffman", n=n, rng=np.random.default_rng(2))
            wall = min(wall, time.perf_counter() - t)
            cpu = min(cpu, time.process_time() - c)
        print(f"  simulate, huffman, n={n:.0e}: {n / 1e6 / wall:.1f} Msym/s wall, "
              f"{n / 1e6 / cpu:.1f} Msym/s CPU (target >= 40)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    ap.add_argument("--pipeline", action="store_true",
                    help="only the whole Huffman measurement (wall and CPU rates)")
    args = ap.parse_args()
    if args.pipeline:
        pipeline([int(s) for s in args.sizes])
        raise SystemExit(0)
    rows = run([int(s) for s in args.sizes])
    print_table("Engine throughput, K = 256 Zipf workload, one core", rows)
