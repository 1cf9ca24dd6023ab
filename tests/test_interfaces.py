"""Every code, model and source satisfies the interface the engine relies on."""

import numpy as np
import pytest

from simulator.codes import BlockHuffmanCode, HuffmanCode, ShannonCode
from simulator.codes.arithmetic import ArithmeticCode
from simulator.interfaces import Code, Source
from simulator.sources import IIDSource

Q = [0.5, 0.3, 0.2]


@pytest.mark.parametrize("code", [HuffmanCode(Q), ShannonCode(Q), BlockHuffmanCode(Q, 2),
                                  ArithmeticCode(Q), ArithmeticCode(Q, model="kt")],
                         ids=["huffman", "shannon", "block", "arithmetic", "adaptive"])
def test_every_code_has_the_code_interface_and_its_unit_bits_sum_to_the_message(code):
    assert isinstance(code, Code)
    x = IIDSource([0.2, 0.3, 0.5]).sample(1001, rng=np.random.default_rng(3))
    bits = code.encode(x)
    lo, hi = code.slack_bits
    total = float(code.unit_bits(x).sum())
    # the tail of a block code (n mod k symbols) is coded apart: bound it by its k = 1 code
    tail = 0 if code.symbols_per_unit == 1 else len(HuffmanCode(Q).encode(x[-(1001 % 2):]))
    assert total + lo - 1e-9 <= len(bits) - tail <= total + hi + 1e-9


def test_the_iid_source_has_the_source_interface():
    s = IIDSource([0.5, 0.5])
    assert isinstance(s, Source) and s.independent
    assert s.block_law(2).tolist() == [0.25] * 4
