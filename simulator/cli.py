"""The ``xentsim`` command line: argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from ._validate import XentsimError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse hook
        raise XentsimError(message)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed {text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed is {value}, must be >= 0")
    return value


def _positive(text: str) -> int:
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    from .engine import CODE_NAMES

    parser = _Parser(
        prog="xentsim",
        description="Cross-entropy with real bits: codes built from q, data drawn from p.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sim = sub.add_parser(
        "simulate",
        help="code samples from p with a code built from q and measure the bits",
        description=(
            "Build a code from q alone, draw symbols from p, encode them to real bits, "
            "decode, check, and report the measured bits per symbol next to H(p), "
            "H(p,q) and KL(p||q). SPEC: a comma list (0.7,0.2,0.1 or 1/3,2/3), a file "
            "(.npy or whitespace-separated numbers), or a family: uniform:K, dyadic:K, "
            "zipf:K:S, geometric:K:R, bern:T, dirichlet:K:ALPHA:SEED, mix:EPS:SPEC."
        ),
    )
    sim.add_argument("--p", required=True, metavar="SPEC", help="true distribution (data)")
    sim.add_argument("--q", required=True, metavar="SPEC", help="assumed distribution (code)")
    sim.add_argument("--code", choices=CODE_NAMES, default="huffman")
    sim.add_argument("-n", type=_positive, default=100_000, metavar="N", help="symbols per message")
    sim.add_argument("--trials", type=_positive, default=1, metavar="T", help="independent messages")
    sim.add_argument("--block", type=_positive, metavar="K", help="block size for block-huffman")
    sim.add_argument("--precision", type=int, metavar="B",
                     help="arithmetic coder: frequencies total 2^B (default 24)")
    sim.add_argument("--model", choices=("static", "laplace", "kt"), default="static",
                     help="arithmetic coder: static q, or adaptive counts")
    sim.add_argument("--seed", type=_seed, default=0, help="seed of the numpy Generator (default 0)")
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.add_argument("--normalize", action="store_true",
                     help="rescale p and q to sum to 1 instead of rejecting them")
    sim.set_defaults(func=_cmd_simulate)

    rep = sub.add_parser(
        "reproduce",
        help="run the experiments and regenerate every figure with its data",
        description="Run every experiment (or --only some), writing NAME.pdf/.png/.csv/.json.",
    )
    rep.add_argument("--quick", action="store_true", help="small sizes (the whole suite in < 60 s)")
    rep.add_argument("--only", nargs="+", metavar="NAME", help="run only these experiments")
    rep.add_argument("--out", metavar="DIR",
                     help="output folder (default: the checkout's figures/, or ./figures/ when "
                          "installed; with --quick, its quick/ subfolder)")
    rep.add_argument("--jobs", type=_positive, default=1, metavar="N", help="worker processes")
    rep.add_argument("--seed", type=_seed, default=2026, help="master seed (default 2026)")
    rep.add_argument("--list", action="store_true", help="list the experiments and exit")
    rep.set_defaults(func=_cmd_reproduce)
    return parser


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return "inf" if math.isinf(x) else f"{x:.6f}"
    return str(x)


def _cmd_simulate(args) -> int:
    from .engine import simulate
    from .spec import parse_pmf

    p = parse_pmf(args.p, "p", normalize=args.normalize)
    q = parse_pmf(args.q, "q", normalize=args.normalize)
    m = simulate(
        p, q, args.code, n=args.n, trials=args.trials, block=args.block,
        precision=args.precision, model=args.model, rng=np.random.default_rng(args.seed),
        seed=args.seed,
    )
    if args.json:
        print(json.dumps(m.to_dict()))
        return 0
    code = args.code + (f" (k={args.block})" if args.block else "")
    if args.code == "arithmetic" and m.model == "static":
        code += f" (static q^, b={m.precision})"
    elif args.code == "arithmetic":
        code += f" (adaptive {m.model}: learns q from the data)"
    rows = [
        ("code (built from q)", code),
        ("messages x symbols", f"{m.trials} x {m.n_symbols} (seed {m.seed})"),
        ("total bits", f"{m.total_bits}"),
        ("bits/symbol, measured", _fmt(m.bits_per_symbol)),
        ("99% interval", f"[{_fmt(m.ci99[0])}, {_fmt(m.ci99[1])}]"),
    ]
    if args.code == "arithmetic" and m.model == "static":
        rows.append(("H(p,q^), quantised q", _fmt(m.model_cross_entropy_bits)))
        rows.append(("H(p,q^) - H(p,q)", f"{m.quantisation_gap_bits:.3g}"))
    elif args.code == "arithmetic":
        pass  # an adaptive model has no fixed q^ and no closed-form expectation
    else:
        rows.append(("code's exact E_p[l]/symbol", _fmt(m.expected_bits_per_symbol)))
    rows += [
        ("H(p)", _fmt(m.entropy_bits)),
        ("H(p,q)", _fmt(m.cross_entropy_bits)),
        ("KL(p||q)", _fmt(m.kl_bits)),
        ("excess over H(p), measured", _fmt(m.excess_bits)),
        ("round trip", "ok" if m.roundtrip_ok else "FAILED"),
        ("encode / decode seconds", f"{m.encode_seconds:.3f} / {m.decode_seconds:.3f}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _cmd_reproduce(args) -> int:
    from .experiments.runner import run_cli

    return run_cli(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except XentsimError as exc:
        print(f"xentsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"xentsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("xentsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
