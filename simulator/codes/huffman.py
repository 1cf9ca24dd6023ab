"""Huffman codes built from an assumed distribution q.

Tie-breaking rule (documented because, under mismatch, E_p[l] depends on it):

1. Weights are compared exactly. Each q(x) is a binary64 number; it is converted to an
   integer multiple of the smallest power of two involved, and merged weights are sums
   of those integers. Rounding in floating-point sums can therefore never flip a
   comparison: the code is a function of the given numbers alone.
2. Leaves are queued by (q(x), x): at equal weight the smaller symbol index is merged
   first.
3. Between a leaf and a merged node of equal weight, the leaf is taken first; merged
   nodes are taken oldest first. This is the two-queue construction that, among all
   Huffman codes for q, gives the smallest variance and the shortest longest codeword.

Symbols with q(x) = 0 get no codeword. A q with one symbol of positive probability
gets the empty codeword (length 0): no merge happens, and the decoder, which is given
the number of symbols, needs no bits. (So H(q) <= E_q[l] < H(q) + 1 holds with 0 = 0.)
"""

from __future__ import annotations

import numpy as np

from .._validate import check_pmf
from .prefix import PrefixCode


def exact_weights(w: np.ndarray) -> list[int]:
    """Positive binary64 values as Python integers with one common power-of-two scale."""
    mant, expo = np.frexp(w)
    m = (mant * float(1 << 53)).astype(np.int64)  # exact: 53-bit integer mantissas
    e = expo.astype(np.int64) - 53
    shift = (e - e.min()).tolist()
    return [mm << sh for mm, sh in zip(m.tolist(), shift)]


def huffman_lengths(q) -> np.ndarray:
    """Codeword lengths of the Huffman code for ``q`` under the rule in the module doc."""
    q = check_pmf(q, "q")
    lengths = np.zeros(q.size, dtype=np.int64)
    support = np.flatnonzero(q > 0)
    m = support.size
    if m == 1:
        return lengths
    w = q[support]
    order = np.argsort(w, kind="stable")  # by (weight, symbol): support is ascending
    leaf_w = exact_weights(w[order])
    # Nodes 0..m-1 are the leaves in queue order, m.. the merged nodes in creation order.
    parent = [0] * (2 * m - 1)
    node_w: list[int] = []
    li = ii = 0
    def pop():  # the lighter queue head; a leaf wins a tie (rule 3)
        nonlocal li, ii
        if li < m and (ii >= len(node_w) or leaf_w[li] <= node_w[ii]):
            li += 1
            return li - 1, leaf_w[li - 1]
        ii += 1
        return m + ii - 1, node_w[ii - 1]

    for new in range(m, 2 * m - 1):
        a, wa = pop()
        b, wb = pop()
        parent[a] = parent[b] = new
        node_w.append(wa + wb)
    depth = [0] * (2 * m - 1)
    for node in range(2 * m - 3, -1, -1):  # the root, 2m-2, has depth 0
        depth[node] = depth[parent[node]] + 1
    lengths[support[order]] = depth[:m]
    return lengths


class HuffmanCode(PrefixCode):
    """The Huffman code built from ``q`` (canonical codewords, deterministic ties).

    Examples
    --------
    >>> code = HuffmanCode([0.25, 0.25, 0.2, 0.15, 0.15])  # Cover & Thomas, Example 5.1
    >>> code.lengths.tolist(), round(code.expected_length([0.25, 0.25, 0.2, 0.15, 0.15]), 12)
    ([2, 2, 2, 3, 3], 2.3)
    """

    def __init__(self, q):
        q = check_pmf(q, "q")
        super().__init__(huffman_lengths(q), q > 0, name="huffman")
