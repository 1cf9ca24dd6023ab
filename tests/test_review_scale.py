"""Adversarial checks of the scale features (chunked coding, ``jobs``, progress):
defects found in review, each pinned by a test that failed before its fix.

Fixed seeds throughout; every comparison is exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from bitarray import bitarray

from simulator import engine
from simulator.codes import BlockHuffmanCode, ContextHuffmanCode, HuffmanCode, ShannonCode
from simulator.engine import simulate
from simulator.errors import RoundTripError, XentsimError
from simulator.sources import IIDSource

P3 = [0.5, 0.3, 0.2]
Q3 = [0.4, 0.4, 0.2]
#: p emits symbol 1 rarely; q(1) = 0 gives it no codeword. With seed 0 and one message of
#: 100_000 symbols, the first symbol 1 is at position 31471 (checked below): well inside a
#: piece other than the first when the message is cut across two workers.
RARE = [0.99995, 0.00005]
NO_ONE = [1.0, 0.0]


# --------------------------------------------------------------------------- jobs: errors


@pytest.mark.parametrize("code, opts", [("huffman", {}), ("block-huffman", {"block": 2})])
def test_an_unencodable_symbol_is_named_at_the_same_position_with_one_or_two_workers(code, opts):
    child = np.random.default_rng(0).spawn(1)[0]
    x = IIDSource(RARE).sample(100_000, rng=child)
    assert int(np.flatnonzero(x == 1)[0]) == 31471
    errors = []
    for jobs in (1, 2):
        with pytest.raises(XentsimError) as info:
            simulate(RARE, NO_ONE, code, n=100_000, rng=np.random.default_rng(0), chunk=1000,
                     jobs=jobs, **opts)
        errors.append((type(info.value), str(info.value)))
    assert errors[1] == errors[0]
    assert "31000" in errors[0][1]  # the chunk holding position 31471 starts at symbol 31000


class WrongLast:
    """A Huffman code whose stream decoder gets the last symbol of its second pull wrong."""

    def __init__(self, code):
        self._code = code

    def __getattr__(self, name):
        return getattr(self._code, name)

    def decoder(self, n_symbols):
        dec = self._code.decoder(n_symbols)
        pull, calls = dec.pull, []

        def wrong_second(count):
            y = pull(count)
            if len(calls) == 1:
                y[-1] = (y[-1] + 1) % self._code.n_symbols
            calls.append(count)
            return y

        dec.pull = wrong_second
        return dec


def test_a_round_trip_error_in_a_piece_names_the_position_in_the_whole_message():
    # a piece of a message coded from symbol 5000 on: its second chunk ends at symbol
    # 5000 + 2 * 100 - 1 of the message, which is where the decoded message differs
    code = WrongLast(HuffmanCode(Q3))
    with pytest.raises(RoundTripError, match="differs from the input at 5199$"):
        engine._code_message("huffman", code, IIDSource(P3), np.random.default_rng(3), 1000,
                             100, None, False, skip=5000)


# --------------------------------------------------------------------------- jobs: progress


def test_progress_advances_piece_by_piece_when_one_message_is_cut_across_workers():
    n, chunk = 20_002, 999  # 21 chunks -> 7 pieces of 3 chunks (2997 symbols) on 2 workers
    c = engine.build_code(Q3)
    assert engine._splits_messages(c, IIDSource(P3), n, chunk, 1, 2)
    seen = []
    simulate(P3, Q3, n=n, rng=np.random.default_rng(0), chunk=chunk, jobs=2,
             progress=lambda done, total: seen.append((done, total)))
    assert seen == [(min(d, n), n) for d in range(2997, n + 2997, 2997)]


# --------------------------------------------------------------------------- stream coders


def test_a_block_stream_encoder_is_not_ended_by_a_chunk_it_refused():
    code = BlockHuffmanCode(Q3, 3)
    enc = code.encoder()
    with pytest.raises(XentsimError, match="outside the alphabet"):
        enc.push(np.array([5]))  # refused: nothing was coded, the message has not ended
    x = np.array([0, 1, 2, 2, 1, 0, 1])
    bits = enc.push(x[:6]) + enc.push(x[6:]) + enc.finish()
    assert bits == code.encode(x)


@pytest.mark.parametrize("code", [HuffmanCode(Q3), ShannonCode(Q3), BlockHuffmanCode(Q3, 2),
                                  ContextHuffmanCode(np.full((3, 3), 1 / 3))],
                         ids=["huffman", "shannon", "block", "context"])
def test_a_prefix_stream_decoder_refuses_a_last_flag_that_is_not_a_bool(code):
    x = np.array([0, 1, 2, 2])
    bits = code.encode(x)
    for last in ("no", 1, None):
        dec = code.decoder(4)
        with pytest.raises(XentsimError, match=f"last must be a bool, got {last!r}"):
            dec.feed(bits, last=last)
    dec = code.decoder(4)
    dec.feed(bits, last=np.bool_(True))
    assert np.array_equal(dec.pull(4), x)
    dec.close()


# --------------------------------------------------------------------------- sweeps: executor


def test_an_executor_class_instead_of_an_executor_is_refused_by_its_name():
    from concurrent.futures import ProcessPoolExecutor

    from simulator.experiments import common

    with pytest.raises(XentsimError, match="executor is the class ProcessPoolExecutor, not an "
                                           "instance"):
        common.run_tasks(pow, [(2, 2)], ProcessPoolExecutor)
    # a value of the wrong kind is shown, not only its type
    with pytest.raises(XentsimError, match=r"executor is a str \('tcp://127.0.0.1:8786'\)"):
        common.run_tasks(pow, [(2, 2)], "tcp://127.0.0.1:8786")


def _task(i: int, ran: list, started) -> int:
    ran.append(i)
    if i == 0:
        raise XentsimError("task 0 fails")
    if i == 1:
        started.wait(5.0)  # holds the only thread while the caller reacts to task 0
    return i


def test_a_failed_sweep_cancels_the_tasks_still_waiting_on_the_callers_executor():
    # a caller's executor (a Dask client's, say) outlives run_tasks: the tasks queued
    # behind a failure must not go on computing for a sweep that has already failed
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from simulator.experiments import common

    ran: list = []
    started = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(XentsimError, match="task 0 fails"):
            common.run_tasks(_task, [(i, ran, started) for i in range(10)], pool)
        started.set()
    assert ran in ([0], [0, 1])  # task 1 may have started; tasks 2..9 never ran


# --------------------------------------------------------------------------- lazy kernels

_LOADS: list = []


def _load_math():
    import math

    _LOADS.append(1)
    return math


def test_a_lazy_kernel_module_is_not_loaded_by_special_name_lookups_and_can_be_copied():
    import copy
    import inspect
    import pickle

    from simulator._lazy import Kernels

    _LOADS.clear()
    k = Kernels(_load_math)
    # inspect.unwrap (doctest's finder) and copy ask for dunder names: no module load
    assert not hasattr(k, "__wrapped__") and inspect.unwrap(k) is k
    assert _LOADS == []
    for twin in (copy.copy(k), copy.deepcopy(k), pickle.loads(pickle.dumps(k))):
        assert twin.sqrt(4.0) == 2.0  # (was RecursionError: __getattr__ read _module)
    assert k.sqrt(9.0) == 3.0


# --------------------------------------------------------------------------- command line


def test_a_reader_that_stops_early_gets_no_error_message_and_no_traceback(tmp_path):
    # ``xentsim simulate ... | head -1``: the reader has gone before the table is printed
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root),
                                                                    os.environ.get("PYTHONPATH")])))
    r, w = os.pipe()
    os.close(r)  # nobody will read: every write to the pipe fails with EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "simulator", "simulate", "--p", "0.5,0.5",
                               "--q", "0.5,0.5", "-n", "10"], stdout=w, stderr=subprocess.PIPE,
                              text=True, timeout=120, cwd=tmp_path, env=env)
    finally:
        os.close(w)
    assert done.stderr == ""
    assert done.returncode == 141  # 128 + SIGPIPE, as a shell pipeline reports it


def test_a_shut_down_executor_is_refused_in_one_clear_error():
    from concurrent.futures import ThreadPoolExecutor

    from simulator.errors import XentsimError
    from simulator.experiments.common import run_tasks
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    with pytest.raises(XentsimError, match=r"^executor ThreadPoolExecutor refused a task \(cannot "
                                           r"schedule new futures after shutdown\); give an "
                                           r"executor that is running$"):
        run_tasks(pow, [(2, 3), (2, 4)], executor=pool)
