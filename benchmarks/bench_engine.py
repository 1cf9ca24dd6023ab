"""Throughput of sampling, prefix coding and the whole measurement, beside the peers.

Run:  python benchmarks/bench_engine.py [--sizes 1e6 1e7]

Peers: numpy's ``rng.choice`` (sampling), bitarray's C ``encode`` with a code dict and
``decode`` with a prebuilt ``decodetree`` (prefix coding), and the floor of the whole
pipeline: numpy sampling plus ``take(-log2 q, x).sum()``, the arithmetic a formula
would do instead of coding.
"""

from __future__ import annotations

import argparse

import numpy as np
from bitarray import bitarray
from bitarray import decodetree

from _common import P, Q, best_of, print_table
from simulator.codes import HuffmanCode
from simulator.distributions import sample
from simulator.engine import simulate


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
        print(f"  simulate, huffman, n={n:.0e}: {mega / t_ours:.1f} Msym/s (target >= 25)")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    args = ap.parse_args()
    rows = run([int(s) for s in args.sizes])
    print_table("Engine throughput, K = 256 Zipf workload, one core", rows)
