"""Codes built from an assumed distribution q alone: symbol codes and the arithmetic coder."""

from .block import MAX_BLOCK_ALPHABET, BlockHuffmanCode
from .context_huffman import ContextArithmeticCode, ContextHuffmanCode
from .huffman import HuffmanCode, huffman_lengths
from .prefix import PrefixCode
from .shannon import ShannonCode, shannon_lengths

__all__ = [
    "BlockHuffmanCode", "ContextArithmeticCode", "ContextHuffmanCode", "HuffmanCode",
    "MAX_BLOCK_ALPHABET", "PrefixCode", "ShannonCode", "huffman_lengths", "shannon_lengths",
]
