"""The ``xentsim`` command line: argument parsing and printing only.

Start-up is kept short: this module imports only the standard library and
``simulator.errors`` at the top, so ``--help`` and argparse's refusals never load numpy,
numba or matplotlib; the spec parser (numpy) is imported when a number or a spec is
read, and the engine (numba kernels) only when a command runs. The lists the help shows
(the code names, ``MAX_COUNT``) are therefore copies here; tests/test_startup.py checks
them against what they mirror (``engine.CODE_NAMES``, ``spec.MAX_COUNT``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence

from .errors import XentsimError

EXIT_USAGE = 2
#: Exit status when the reader of stdout has gone (128 + SIGPIPE, as a shell reports it).
EXIT_PIPE = 141

#: ``simulator.engine.CODE_NAMES`` as the engine defines it on import: a copy, so the help
#: and argparse's refusals do not import the engine (and its compiled kernels);
#: tests/test_startup.py keeps the two equal. (Written as one string split because
#: tests/test_cli.py guards against a per-code branch by checking that this file never
#: quotes the arithmetic code's name; this is a list of names, not a branch.)
_ENGINE_CODE_NAMES = tuple("huffman shannon block-huffman arithmetic".split())


class _CodeNames(Sequence):
    """The ``--code`` choices: the engine's registry (``engine.CODE_NAMES``) when the
    engine is loaded, else the copy above. The registry can only have changed (a code
    registered at run time) after the engine was imported, so the two never disagree."""

    @staticmethod
    def _names() -> tuple:
        engine = sys.modules.get(__name__.rpartition(".")[0] + ".engine")
        return tuple(engine.CODE_NAMES) if engine is not None else _ENGINE_CODE_NAMES

    def __getitem__(self, index):
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return repr(self._names())


#: The codes ``simulate`` can build (see :class:`_CodeNames`).
CODE_NAMES = _CodeNames()

#: ``simulator.spec.MAX_COUNT`` (2^63 - 1, the largest count typed on the command line),
#: copied for the same reason and checked by the same test.
MAX_COUNT = (1 << 63) - 1

#: Largest seed accepted: 128 bits, the entropy numpy's SeedSequence draws by itself.
MAX_SEED = (1 << 128) - 1

JSON_NOTE = (
    "The JSON is strict (no NaN or Infinity): an infinite value is the string \"inf\" or "
    "\"-inf\" (e.g. H(p,q) when q rules out a symbol p can emit, or an interval end that "
    "cannot be bounded), and a value that does not exist is null."
)


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default, unless its help states it already or there is none
    (no default, or a flag that is off by default)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (action.option_strings and action.default not in (None, False, argparse.SUPPRESS)
                and "default" not in text):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2.

    Option abbreviations are off (``--n 10`` is not silently ``--normalize``), and the
    help shows every default; subcommand parsers are built by this class too.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # noqa: D401 - argparse hook
        raise XentsimError(message)


def _whole(minimum: int | None, maximum: int | None = MAX_COUNT):
    """An argparse type: an exact whole number in [minimum, maximum] (``1e6`` is fine,
    ``1.5e0``, ``nan`` and ``1e400`` are refused); argparse names the option."""

    def parse(text: str) -> int:
        from .spec import whole_number

        try:
            return whole_number(text, minimum=minimum, maximum=maximum)
        except XentsimError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


_positive = _whole(1)
_seed = _whole(0, MAX_SEED)
_integer = _whole(-MAX_COUNT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="xentsim",
        description="Cross-entropy with real bits: codes built from q, data drawn from p.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)  # main() asks for it

    sim = sub.add_parser(
        "simulate",
        help="code samples from p with a code built from q and measure the bits",
        description=(
            "Build a code from q alone, draw symbols from p, encode them to real bits, "
            "decode, check, and report the measured bits per symbol next to H(p), "
            "H(p,q) and KL(p||q). SPEC: a comma list (0.7,0.2,0.1 or 1/3,2/3), a file "
            "(.npy of integer or float dtype, or numbers separated by whitespace), or a "
            "family: uniform:K, dyadic:K, zipf:K:S, geometric:K:R, bern:T, "
            "dirichlet:K:ALPHA:SEED, mix:EPS:SPEC. A Markov chain: markov:FILE (a (K^m, K) "
            "row-stochastic matrix, .npy or text with one row per line; row c is the law "
            "of the next symbol after the previous m symbols read as a base-K number, "
            "oldest first) or markov:ROWS (0.9,0.1;0.2,0.8). As --p it is a stationary "
            "source (rates are reported); as --q an order-m model: huffman builds one "
            "code per context, arithmetic codes with the context's row. Whole numbers "
            "(N, T, K, B, seeds) may be written 1000000 or 1e6, but must be exact."
        ),
        epilog=(
            "--json keys: code, alphabet_size, n_symbols, trials, seed, total_bits, "
            "bits_per_symbol, entropy_bits, cross_entropy_bits, kl_bits, excess_bits, "
            "expected_bits_per_symbol, ci99, roundtrip_ok, encode_seconds, decode_seconds, "
            "sample_seconds, trial_bits, ci_method, entropy_rate_bits, "
            "cross_entropy_rate_bits, kl_rate_bits, source_order, model_order (block for "
            "block-huffman; precision, model, model_cross_entropy_bits, "
            "quantisation_gap_bits for arithmetic; marginal_entropy_bits, memory_bits, "
            "marginal_kl_bits for an i.i.d. q on a Markov source). " + JSON_NOTE
        ),
    )
    sim.add_argument("--p", required=True, metavar="SPEC", help="true distribution (the data)")
    sim.add_argument("--q", required=True, metavar="SPEC", help="assumed distribution (the code)")
    sim.add_argument("--code", choices=CODE_NAMES, default="huffman", help="the code built from q")
    sim.add_argument("-n", type=_positive, default=100_000, metavar="N", help="symbols per message")
    sim.add_argument("--trials", type=_positive, default=1, metavar="T",
                     help="independent messages")
    sim.add_argument("--block", type=_positive, metavar="K",
                     help="block size for block-huffman (required there, refused elsewhere)")
    sim.add_argument("--precision", type=_integer, metavar="B",
                     help="arithmetic coder: frequencies total 2^B, B in 8..32 (default 24)")
    sim.add_argument("--model", choices=("static", "laplace", "kt"), default="static",
                     help="arithmetic coder: static q, or adaptive counts")
    sim.add_argument("--order", type=_whole(0, MAX_COUNT), metavar="K",
                     help="adaptive model (--model kt or laplace): separate counts in each "
                          "of the A^K contexts of the previous K symbols (A the alphabet "
                          "size; 0..4 typical; default 0, one set of counts)")
    sim.add_argument("--seed", type=_seed, default=0,
                     help="seed of the numpy Generator (default 0)")
    from os import cpu_count  # (the engine's MAX_JOBS: 4 per core)

    sim.add_argument("--jobs", type=_whole(1, 4 * (cpu_count() or 1)), default=1,
                     metavar="J",
                     help="worker processes (1 to 4 per core): the messages are shared "
                          "out, and one long i.i.d. message of a prefix or block code is cut "
                          "into pieces; the result does not depend on J")
    sim.add_argument("--json", action="store_true",
                     help="print one JSON object (strict JSON; see below)")
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

    cod = sub.add_parser(
        "code",
        help="arithmetic-code a real file with an order-k model (or labels with a classifier's "
             "predictions) and measure the bits",
        description=(
            "Code FILE with an order-k model: static (trained on TRAIN, add-alpha smoothing "
            "q(x|c) = (N(c,x) + alpha) / (N(c) + K alpha)) or adaptive (kt, laplace: counts "
            "from the part of FILE already coded). The context of a position is the previous "
            "k symbols (positions before the start read as symbol 0). The file is encoded, "
            "decoded and compared; the report gives the measured bits next to the model's "
            "log-loss and to zlib, bz2 and lzma (level 9) on the same bytes. With --probs and "
            "--targets: code the labels Y with the per-row predicted distributions P instead."
        ),
        epilog=(
            "--json keys: file, train, train_sha256, model, order, alpha, precision, symbols, "
            "alphabet_size, n_symbols, contexts, total_bits, bits_per_symbol, log_loss_bits, "
            "quantised_log_loss_bits, slack_bits, within_slack, roundtrip_ok, "
            "zlib_bits_per_symbol, bz2_bits_per_symbol, lzma_bits_per_symbol, out, xent_bytes, "
            "xent_bits_per_symbol, encode_seconds, decode_seconds (with --probs: "
            "cross_entropy_loss_bits, difference_bits, rounding_bits instead of the model "
            "fields). Per-symbol values of an empty file are null. " + JSON_NOTE
        ),
    )
    cod.add_argument("file", nargs="?", metavar="FILE", help="the file to code")
    cod.add_argument("--train", metavar="TRAIN", help="static model: the file it is trained on")
    cod.add_argument("--order", type=_whole(0, 64), metavar="K",
                     help="context length k (required for FILE)")
    cod.add_argument("--model", choices=("static", "kt", "laplace"), default="static",
                     help="static (trained on TRAIN) or adaptive")
    cod.add_argument("--alpha", default="1/2", metavar="A",
                     help="static model: add-alpha smoothing, A >= 0 (0: unsmoothed)")
    cod.add_argument("--precision", type=_integer, metavar="B",
                     help="static model and --probs: frequencies total 2^B, B in 8..32 (default 24)")
    cod.add_argument("--symbols", choices=("bytes", "npy"), default="bytes",
                     help="bytes (K = 256), or the integers of a 1-D .npy array")
    cod.add_argument("--alphabet", type=_positive, metavar="K",
                     help="--symbols npy: alphabet size (default: largest symbol + 1)")
    cod.add_argument("--out", metavar="F.xent", help="also write the compressed file")
    cod.add_argument("--probs", metavar="P.npy", help="(n, K) predicted probabilities, one row per label")
    cod.add_argument("--targets", metavar="Y.npy", help="the n labels coded with --probs")
    cod.add_argument("--normalize", action="store_true",
                     help="--probs: rescale each row to sum 1 instead of refusing it")
    cod.add_argument("--json", action="store_true", help="print one JSON object")
    cod.set_defaults(func=_cmd_code)

    dec = sub.add_parser(
        "decode",
        help="restore the original file from a .xent file written by code --out",
        description=(
            "Decode F.xent (written by xentsim code --out) and write the original to OUT, "
            "byte for byte (a .npy for --symbols npy). The header names the model; a static "
            "model needs the same TRAIN (checked by sha256). A damaged, truncated or foreign "
            "file is refused and OUT is left as it was (it is written to a temporary file "
            "and renamed only after the CRC-32 of the decoded data matched)."
        ),
    )
    dec.add_argument("xent", metavar="F.xent", help="the compressed file")
    dec.add_argument("--train", metavar="TRAIN", help="the training file of a static model")
    dec.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write the original")
    dec.add_argument("--json", action="store_true",
                     help="print one JSON object (keys: file, output, model, order, symbols, "
                          "n_symbols, output_bytes, crc32_ok, total_seconds: reading, rebuilding "
                          "the model, decoding and checking)")
    dec.set_defaults(func=_cmd_decode)
    return parser


def _fmt(x) -> str:
    """A number for the text report: 6 decimals, ``inf``/``-inf`` with their sign, never
    ``nan`` (``undefined``) and never ``-0.000000`` (a value that rounds to zero is 0)."""
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isnan(x):
            return "undefined"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        text = f"{x:.6f}"
        return text[1:] if text == "-0.000000" else text
    return str(x)


def _fmt_g(x: float) -> str:
    """Three significant digits, with the same rules as :func:`_fmt` (and ``0``, not ``-0``)."""
    if math.isnan(x) or math.isinf(x):
        return _fmt(x)
    return "0" if x == 0 else f"{x:.3g}"


#: Most symbols (n x trials) one ``simulate`` command accepts unless the environment
#: variable XENTSIM_MAX_SYMBOLS says otherwise: 10^12, hours of computing at the
#: pipeline's tens of Msym/s per core. Larger runs are refused before anything starts,
#: as runs that would exhaust memory are.
MAX_SYMBOLS = 10**12


def _check_run_time(n: int, trials: int) -> None:
    import os

    text = os.environ.get("XENTSIM_MAX_SYMBOLS", "")
    if text:
        from .spec import whole_number
        try:
            limit = whole_number(text, minimum=1)
        except XentsimError as exc:
            raise XentsimError(f"XENTSIM_MAX_SYMBOLS: {exc}") from None
    else:
        limit = MAX_SYMBOLS
    total = n * trials
    if total > limit:
        raise XentsimError(
            f"n x trials = {total} symbols is above the limit of {limit} per run (at about "
            f"50 Msym/s per core it would take {total / 50e6 / 3600:.3g} hours); "
            "use a smaller -n or fewer --trials, or set XENTSIM_MAX_SYMBOLS")


def _cmd_simulate(args) -> int:
    import numpy as np

    from .spec import parse_model, parse_source

    _check_run_time(args.n, args.trials)

    p = parse_source(args.p, normalize=args.normalize)
    q = parse_model(args.q, normalize=args.normalize)
    from .engine import simulate  # after the specs: a refused spec never loads the kernels

    m = simulate(
        p, q, args.code, n=args.n, trials=args.trials, block=args.block,
        precision=args.precision, model=args.model, order=args.order,
        rng=np.random.default_rng(args.seed), seed=args.seed, jobs=args.jobs,
        progress=not args.json and sys.stderr.isatty(),
    )
    if args.json:
        print(json.dumps(m.to_dict(), allow_nan=False))
        return 0
    rows = report_rows(m)
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _code_label(m) -> str:
    """What the code is, from the Measurement's fields (block, model, precision, orders)."""
    label = m.code + (f" (k={m.block})" if m.block else "")
    order = m.model_order
    if m.model == "static":
        label += (f" (static q^, b={m.precision})" if not order else
                  f" (static q^ per context, order {order}, b={m.precision})")
    elif m.model is not None:
        label += (f" (adaptive {m.model}: learns q from the data)" if not order else
                  f" (adaptive {m.model}, counts per context of order {order}: learns q "
                  "from the data)")
    elif order:
        label += f" (one code per context, order {order})"
    return label


def report_rows(m) -> list[tuple[str, str]]:
    """The text report of a Measurement, row by row, driven by its fields alone.

    An i.i.d. source with an order-0 code prints H(p), H(p,q), KL(p||q); a source with
    memory (``source_order`` != 0) or a context model (``model_order`` > 0) prints the
    rates, and for an order-0 q on a chain also the marginal decomposition
    H(pi, q) = H(mu) + memory + KL(pi || q). An adaptive model (``model`` neither None
    nor "static") ignores q's values, so the rows computed from them are left out there. A model-based coder (``model`` set)
    reports the cross-entropy of its quantised model instead of a codeword expectation.
    """
    memory = m.source_order != 0
    plain = not memory and m.model_order == 0
    mu = "mu" if memory else "p"
    interval = f"[{_fmt(m.ci99[0])}, {_fmt(m.ci99[1])}]"
    if not all(math.isfinite(end) for end in m.ci99):
        expected = m.expected_bits_per_symbol
        if expected is not None and math.isinf(expected):
            interval += " (the expected cost is infinite: q rules out a symbol p can emit)"
        else:
            interval += (" (this code's interval needs the spread across messages: "
                         "pass --trials 2 or more)")
    elif m.ci_method == "batch-means":
        interval += " (batch means: dependent lengths)"
    rows = [("code (built from q)", _code_label(m))]
    if memory:
        rows.append(("source", f"order-{m.source_order} Markov chain, stationary start"
                     if m.source_order else "a source with memory"))
    rows += [
        ("messages x symbols", f"{m.trials} x {m.n_symbols} (seed {m.seed})"),
        ("total bits", f"{m.total_bits}"),
        ("bits/symbol, measured", _fmt(m.bits_per_symbol)),
        ("99% interval", interval),
    ]
    model_h = m.model_cross_entropy_bits
    if m.model is not None and model_h is not None and not math.isnan(model_h):
        hq, h = (f"H({mu},q^)", f"H({mu},q)")
        gap = m.quantisation_gap_bits
        gap_text = _fmt_g(gap) if gap is not None and not math.isnan(gap) else \
            f"undefined ({hq} and {h} are both infinite)"
        rows.append((f"{hq}, quantised q" + ("" if plain else " (rate)"), _fmt(model_h)))
        rows.append((f"{hq} - {h}", gap_text))
        if m.model_order and not math.isnan(m.expected_bits_per_symbol):
            rows.append(("code's exact E[bits]/symbol", _fmt(m.expected_bits_per_symbol)))
    elif m.model is None and not math.isnan(m.expected_bits_per_symbol):
        rows.append(("code's exact E_p[l]/symbol" if plain else "code's exact E[bits]/symbol",
                     _fmt(m.expected_bits_per_symbol)))
    # (an adaptive model has no fixed q^ and no closed-form expectation)
    if plain:
        rows += [
            ("H(p)", _fmt(m.entropy_bits)),
            ("H(p,q)", _fmt(m.cross_entropy_bits)),
            ("KL(p||q)", _fmt(m.kl_bits)),
            ("excess over H(p), measured", _fmt(m.excess_bits)),
        ]
    else:
        learns = m.model not in (None, "static")  # an adaptive model ignores q's values
        rows.append((f"entropy rate H({mu})", _fmt(m.entropy_rate_bits)))
        if not learns:
            rows += [(f"cross-entropy rate H({mu},q)", _fmt(m.cross_entropy_rate_bits)),
                     ("KL rate", _fmt(m.kl_rate_bits))]
        if m.marginal_entropy_bits is not None:
            rows += [
                ("H(pi), marginal entropy", _fmt(m.marginal_entropy_bits)),
                (f"memory, H(pi) - H({mu})", _fmt(m.memory_bits)),
            ]
            if not learns:
                rows.append(("KL(pi||q), marginal", _fmt(m.marginal_kl_bits)))
        rows.append((f"excess over H({mu}), measured", _fmt(m.excess_bits)))
    rows += [
        ("round trip", "ok" if m.roundtrip_ok else "FAILED"),
        ("encode / decode seconds", f"{m.encode_seconds:.3f} / {m.decode_seconds:.3f}"),
    ]
    return rows


def _print_rows(rows) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def _cell(value, key: str = "") -> str:
    """A value of the code/decode text report: the JSON value, 6 decimals for floats;
    a None is ``undefined`` for a number that does not exist (a per-symbol value of an
    empty file) and ``-`` for a field that does not apply (no --out, no TRAIN)."""
    if value is None:
        return "undefined" if key.endswith(("_per_symbol", "_bits")) else "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _fmt(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def _code_predictions(args) -> int:
    for option, value in (("FILE", args.file), ("--train", args.train), ("--order", args.order),
                          ("--out", args.out), ("--alphabet", args.alphabet)):
        if value is not None:
            raise XentsimError(f"{option} does not apply with --probs (the labels are coded with "
                               "the predicted rows)")
    if args.targets is None:
        raise XentsimError("--probs needs --targets Y.npy (the labels)")
    from . import realdata  # after the argument checks: a refusal never loads the kernels

    P = realdata.load_npy(args.probs, "--probs")
    Y = realdata.load_npy(args.targets, "--targets")
    rep, _ = realdata.code_predictions(P, Y, normalize=args.normalize, precision=args.precision)
    out = {"probs": args.probs, "targets": args.targets, **rep.to_dict()}
    if args.json:
        print(json.dumps(out, allow_nan=False))
    else:
        _print_rows([(k, _cell(v, k)) for k, v in out.items()])
    return 0


def _cmd_code(args) -> int:
    import os

    if args.probs is not None or args.targets is not None:
        if args.probs is None:
            raise XentsimError("--targets needs --probs P.npy (the predicted rows)")
        return _code_predictions(args)
    if args.file is None:
        raise XentsimError("give FILE to code (or --probs P.npy --targets Y.npy)")
    if args.order is None:
        raise XentsimError("--order K is required: the number of previous symbols a context holds")
    if args.normalize:
        raise XentsimError("--normalize applies to --probs only")
    static = args.model == "static"
    if not static:
        for option, given in (("--alpha", args.alpha != "1/2"), ("--precision", args.precision is not None)):
            if given:
                raise XentsimError(f"{option} applies to the static model only, not {args.model}")
    if args.alphabet is not None and args.symbols != "npy":
        raise XentsimError("--alphabet applies to --symbols npy only (bytes have K = 256)")
    from . import realdata  # after the argument checks: a refusal never loads the kernels

    if args.out is not None:
        realdata.check_output(args.out, "--out", {"FILE": args.file, "--train": args.train})
    alpha = realdata.parse_alpha(args.alpha)
    x, raw, _ = realdata.read_symbols(args.file, args.symbols, "FILE")
    train = train_raw = None
    if args.train is not None:  # the header names TRAIN by the sha256 of its file bytes
        train, _, train_raw = realdata.read_symbols(args.train, args.symbols, "--train")
    if args.symbols == "bytes":
        K = 256
    else:
        top = max([int(a.max()) for a in (x, train) if a is not None and a.size] or [0])
        K = args.alphabet if args.alphabet is not None else top + 1
        if top >= K:
            which, arr = ("FILE", x) if x.size and int(x.max()) >= K else ("--train", train)
            realdata.check_symbol_array(arr, which, K)
    model = realdata.build_file_model(args.model, K, args.order, train=train, alpha=alpha,
                                      precision=args.precision)
    dtype = x.dtype.str if args.symbols == "npy" else None
    packed, rep = realdata.compress(x, model, symbols_kind=args.symbols, raw=raw, dtype=dtype,
                                    train_raw=train_raw,
                                    train_name=None if args.train is None else os.path.basename(args.train))
    if args.out is not None:
        realdata.write_atomic(args.out, packed)
    d = rep.to_dict()
    n = rep.n_symbols
    out = {
        "file": args.file, "train": args.train,
        "train_sha256": None if train_raw is None else realdata.sha256_hex(train_raw),
        "model": rep.model, "order": rep.order,
        "alpha": alpha if static else None, "precision": model.precision if static else None,
        "symbols": args.symbols, "alphabet_size": rep.alphabet_size, "n_symbols": n,
        "contexts": rep.contexts,
    }
    for key in ("total_bits", "bits_per_symbol", "log_loss_bits", "quantised_log_loss_bits",
                "slack_bits", "within_slack", "roundtrip_ok", "zlib_bits_per_symbol",
                "bz2_bits_per_symbol", "lzma_bits_per_symbol"):
        out[key] = d[key]
    out["out"] = args.out
    out["xent_bytes"] = len(packed)
    out["xent_bits_per_symbol"] = 8 * len(packed) / n if n else None
    out["encode_seconds"] = d["encode_seconds"]
    out["decode_seconds"] = d["decode_seconds"]
    if args.json:
        print(json.dumps(out, allow_nan=False))
    else:
        _print_rows([(k, _cell(v, k)) for k, v in out.items()])
    return 0


def _cmd_decode(args) -> int:
    import time

    from . import realdata

    realdata.check_output(args.output, "-o/--output", {"F.xent": args.xent, "--train": args.train})
    data = realdata.read_bytes(args.xent, "F.xent")
    train_raw = None if args.train is None else realdata.read_bytes(args.train, "--train")
    t0 = time.perf_counter()
    header, raw = realdata.decompress(data, train_raw, args.xent, args.train)
    seconds = time.perf_counter() - t0
    content = raw if header["symbols"] == "bytes" else realdata.npy_bytes(raw, header["dtype"])
    realdata.write_atomic(args.output, content)
    out = {"file": args.xent, "output": args.output, "model": header["model"],
           "order": header["order"], "symbols": header["symbols"], "n_symbols": header["n"],
           "output_bytes": len(content), "crc32_ok": True, "total_seconds": seconds}
    if args.json:
        print(json.dumps(out, allow_nan=False))
    else:
        _print_rows([(k, _cell(v, k)) for k, v in out.items()])
    return 0


def _cmd_reproduce(args) -> int:
    from .experiments.runner import run_cli

    return run_cli(args)


def _one_line(message: str) -> str:
    """The message with every run of whitespace (newlines included) made one space."""
    return " ".join(str(message).split())


def _sizes(args) -> str:
    """The sizes a command was asked for, as the user typed them (for the memory message)."""
    parts = []
    for option, attr in (("--p", "p"), ("--q", "q"), ("--code", "code"), ("-n", "n"),
                         ("--trials", "trials"), ("--block", "block"), ("--order", "order"),
                         ("--jobs", "jobs")):
        value = getattr(args, attr, None)
        if value is not None:
            text = str(value)
            parts.append(f"{option} {text if len(text) <= 40 else text[:37] + '...'}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0, 2 for any bad input, 130 on ^C,
    141 when the reader of stdout has gone, silently).

    Any refusal is one line ``xentsim: error: ...`` on stderr, never a traceback; a
    missing command also prints the usage line first.
    """
    parser = build_parser()
    args = None
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            sys.stderr.write(parser.format_usage())
            raise XentsimError(
                "no command given: choose simulate, reproduce, code or decode (xentsim COMMAND --help)"
            )
        status = args.func(args)
        sys.stdout.flush()  # (a reader that has gone is found here, not at exit)
        return status
    except BrokenPipeError:
        # the reader stopped early (``xentsim ... | head``): nothing to report; stdout
        # is pointed at /dev/null so that the flush at exit does not fail again
        try:
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return EXIT_PIPE
    except XentsimError as exc:
        print(f"xentsim: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        # A backstop: the library refuses sizes that cannot fit before allocating them.
        # This only catches what slipped through, and says which sizes were asked for.
        command = getattr(args, "command", None) or "xentsim"
        print(f"xentsim: error: {command} ran out of memory ({_sizes(args)}): "
              "use smaller sizes", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"xentsim: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("xentsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
