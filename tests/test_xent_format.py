"""The .xent container: `xentsim code --out` then `xentsim decode` restores the file byte for
byte; anything wrong (training file, damage, truncation, version) is one line, exit 2, and
no output file, not even a partial one."""

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from simulator import corpus
from simulator.cli import main
from simulator import realdata

ROOT = Path(__file__).resolve().parents[1]
C = corpus.CORPUS_DIR
ALICE, YOULIK = str(C / "alice29.txt"), str(C / "asyoulik.txt")


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def code_to(tmp_path, capsys, file, *extra):
    xent = tmp_path / "f.xent"
    code, _, err = run(["code", str(file), "--out", str(xent), *extra], capsys)
    assert code == 0, err
    return xent


def decode_to(tmp_path, capsys, xent, *extra):
    out = tmp_path / "restored"
    return run(["decode", str(xent), "-o", str(out), *extra], capsys), out


def no_leftovers(folder):
    return not [p for p in Path(folder).iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("args", [["--train", YOULIK, "--order", "2"],
                                  ["--train", YOULIK, "--order", "3", "--alpha", "1/8"],
                                  ["--model", "kt", "--order", "3"],
                                  ["--model", "laplace", "--order", "1"]])
def test_code_then_decode_restores_the_file_byte_for_byte(tmp_path, capsys, args):
    xent = code_to(tmp_path, capsys, ALICE, *args)
    train = ["--train", YOULIK] if "--train" in args else []
    (code, _, err), out = decode_to(tmp_path, capsys, xent, *train)
    assert code == 0, err
    assert out.read_bytes() == Path(ALICE).read_bytes()
    assert no_leftovers(tmp_path)


def test_the_file_is_a_header_then_exactly_the_coders_stream(tmp_path, capsys):
    xent = code_to(tmp_path, capsys, ALICE, "--train", YOULIK, "--order", "2")
    data = xent.read_bytes()
    assert data[:4] == b"XENT" and data[4] == 1
    (L,) = struct.unpack(">I", data[5:9])
    header = json.loads(data[9:9 + L])
    assert struct.unpack(">I", data[9 + L:13 + L])[0] == zlib.crc32(data[:9 + L])
    assert header["n"] == 152089 and header["crc32"] == zlib.crc32(Path(ALICE).read_bytes())
    assert header["train_sha256"] == realdata.sha256_hex(Path(YOULIK).read_bytes())
    assert {"symbols", "alphabet", "model", "order", "alpha", "precision", "nbits"} <= set(header)
    assert len(data) == 13 + L + (header["nbits"] + 7) // 8
    # the stream is what the coder gives for that model
    model = realdata.build_file_model("static", 256, 2, train=np.frombuffer(Path(YOULIK).read_bytes(), np.uint8))
    _, bits = realdata.code_symbols(np.frombuffer(Path(ALICE).read_bytes(), np.uint8), model, compressors=False)
    assert data[13 + L:] == bits.tobytes()


@pytest.mark.parametrize("content", [b"", b"A", bytes(range(256)) * 3])
@pytest.mark.parametrize("args", [["--train", ALICE, "--order", "2"], ["--model", "kt", "--order", "4"]])
def test_empty_one_byte_and_all_byte_values_round_trip(tmp_path, capsys, content, args):
    f = tmp_path / "in.bin"
    f.write_bytes(content)
    xent = code_to(tmp_path, capsys, f, *args)
    train = ["--train", ALICE] if "--train" in args else []
    (code, _, err), out = decode_to(tmp_path, capsys, xent, *train)
    assert code == 0, err
    assert out.read_bytes() == content


def test_random_bytes_round_trip(tmp_path, capsys):
    f = tmp_path / "rand.bin"
    f.write_bytes(np.random.default_rng(9).integers(0, 256, 100_000).astype(np.uint8).tobytes())
    for args in (["--model", "kt", "--order", "2"], ["--train", ALICE, "--order", "1"]):
        xent = code_to(tmp_path, capsys, f, *args)
        (code, _, err), out = decode_to(tmp_path, capsys, xent, *(["--train", ALICE] if "--train" in args else []))
        assert code == 0, err and out.read_bytes() == f.read_bytes()


def test_npy_symbols_are_restored_as_the_same_array(tmp_path, capsys):
    x = np.random.default_rng(3).integers(0, 700, 4000).astype(np.int16)
    np.save(tmp_path / "x.npy", x)
    xent = code_to(tmp_path, capsys, tmp_path / "x.npy", "--symbols", "npy", "--model", "kt", "--order", "1")
    (code, _, err), out = decode_to(tmp_path, capsys, xent)
    assert code == 0, err
    y = np.load(out)
    assert y.dtype == x.dtype and np.array_equal(x, y)


def test_npy_symbols_with_a_trained_model_name_the_training_file_by_its_file_sha256(tmp_path, capsys):
    rng = np.random.default_rng(4)
    np.save(tmp_path / "train.npy", rng.integers(0, 50, 5000))
    x = rng.integers(0, 60, 3000).astype(np.uint16)
    np.save(tmp_path / "x.npy", x)
    xent = code_to(tmp_path, capsys, tmp_path / "x.npy", "--symbols", "npy", "--train",
                   str(tmp_path / "train.npy"), "--order", "2")
    header, _ = realdata.unpack(xent.read_bytes())
    assert header["train_sha256"] == realdata.sha256_hex((tmp_path / "train.npy").read_bytes())
    assert header["alphabet"] == 60
    (code, _, err), out = decode_to(tmp_path, capsys, xent, "--train", str(tmp_path / "train.npy"))
    assert code == 0, err
    y = np.load(out)
    assert y.dtype == x.dtype and np.array_equal(x, y)


def _refused(tmp_path, capsys, xent, *extra, needle=""):
    out = tmp_path / "restored"
    (code, stdout, err), _ = decode_to(tmp_path, capsys, xent, *extra)
    assert code == 2 and stdout == ""
    assert err.startswith("xentsim: error: ") and err.count("\n") == 1, err
    assert needle in err, err
    assert not out.exists()
    assert no_leftovers(tmp_path)


def test_the_wrong_training_file_is_refused_and_no_output_is_written(tmp_path, capsys):
    xent = code_to(tmp_path, capsys, ALICE, "--train", YOULIK, "--order", "2")
    _refused(tmp_path, capsys, xent, "--train", ALICE, needle="is not the file")
    _refused(tmp_path, capsys, xent, needle="give it with --train")


def test_truncated_extended_and_damaged_files_are_refused(tmp_path, capsys):
    good = code_to(tmp_path, capsys, ALICE, "--model", "kt", "--order", "2").read_bytes()
    bad = tmp_path / "bad.xent"
    rng = np.random.default_rng(0)
    L = struct.unpack(">I", good[5:9])[0]
    cases = [good[:cut] for cut in (0, 3, 4, 8, 12, 13 + L, len(good) - 1)]
    cases += [good + b"\x00", good + b"\xff"]
    for where in [6, 20, 9 + L + 1] + [int(i) for i in rng.integers(13 + L, len(good), 20)]:
        d = bytearray(good)
        d[where] ^= 1 << int(rng.integers(0, 8))
        cases.append(bytes(d))
    for data in cases:
        bad.write_bytes(data)
        _refused(tmp_path, capsys, bad)


def test_an_unknown_version_or_another_format_is_refused(tmp_path, capsys):
    good = bytearray(code_to(tmp_path, capsys, ALICE, "--model", "kt", "--order", "0").read_bytes())
    bad = tmp_path / "bad.xent"
    good[4] = 7
    bad.write_bytes(bytes(good))
    _refused(tmp_path, capsys, bad, needle="format version 7")
    bad.write_bytes(b"PK\x03\x04 not ours")
    _refused(tmp_path, capsys, bad, needle="magic")


def test_a_failed_decode_leaves_an_existing_output_untouched(tmp_path, capsys):
    xent = code_to(tmp_path, capsys, ALICE, "--train", YOULIK, "--order", "1")
    out = tmp_path / "restored"
    out.write_bytes(b"precious")
    (code, _, _), _ = decode_to(tmp_path, capsys, xent, "--train", ALICE)
    assert code == 2 and out.read_bytes() == b"precious"


def test_nonzero_padding_bits_are_refused():
    model = realdata.ContextAdaptiveModel(256, 0, "kt")
    bits = next(b for b in (realdata.encode(np.arange(m, dtype=np.uint8), model) for m in range(1, 20))
                if len(b) % 8)
    bits_data = realdata.pack({"symbols": "bytes", "alphabet": 256, "n": 1, "crc32": 0, "model": "kt",
                               "order": 0, "contexts": 1, "pairs": 1}, bits)
    d = bytearray(bits_data)
    d[-1] |= 1
    with pytest.raises(realdata.XentsimError, match="padding"):
        realdata.unpack(bytes(d))


def test_decode_errors_in_a_real_process_are_one_line(tmp_path):
    bad = tmp_path / "bad.xent"
    bad.write_bytes(b"XENT\x01\x00\x00\x00")
    r = subprocess.run([sys.executable, "-m", "simulator", "decode", str(bad), "-o", str(tmp_path / "o")],
                       capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- output paths


def _one_line_refusal(capsys, argv, needle):
    code, out, err = run(argv, capsys)
    assert code == 2 and out == "", err
    assert err.startswith("xentsim: error: ") and err.count("\n") == 1, err
    assert needle in err, err
    return err


def test_an_empty_output_path_is_refused_naming_the_option(tmp_path, capsys):
    xent = code_to(tmp_path, capsys, ALICE, "--train", YOULIK, "--order", "1")
    _one_line_refusal(capsys, ["decode", str(xent), "--train", YOULIK, "-o", ""], "-o/--output is empty")
    _one_line_refusal(capsys, ["code", ALICE, "--train", YOULIK, "--order", "1", "--out", ""],
                      "--out is empty")
    assert no_leftovers(tmp_path)


def _xent_with_header(text: bytes, stream: bytes = b"") -> bytes:
    """A .xent file whose header is ``text`` verbatim, with a correct CRC-32."""
    head = b"XENT\x01" + struct.pack(">I", len(text)) + text
    return head + struct.pack(">I", zlib.crc32(head) & 0xFFFFFFFF) + stream


GOOD_HEADER = {"symbols": "bytes", "alphabet": 256, "n": 0, "crc32": 0, "model": "kt", "order": 0,
               "nbits": 0, "contexts": 0, "pairs": 0}


@pytest.mark.parametrize("text", [
    b"[" * 100000 + b"]" * 100000,
    b'{"a":' + b"[" * 100000 + b"]" * 100000 + b"}",
    json.dumps(dict(GOOD_HEADER, extra=1)).encode(),
    json.dumps(dict(GOOD_HEADER, contexts=[0])).encode(),
    json.dumps(dict(GOOD_HEADER, train_name={"a": [1]})).encode(),
    json.dumps(dict(GOOD_HEADER, alpha=float("nan"))).encode(),
])
def test_a_nested_or_unknown_header_is_not_a_valid_xent_file(tmp_path, capsys, text):
    bad = tmp_path / "bad.xent"
    bad.write_bytes(_xent_with_header(text))
    _refused(tmp_path, capsys, bad, needle="not a valid .xent file")


def test_a_flat_header_with_the_known_keys_decodes(tmp_path, capsys):
    good = tmp_path / "good.xent"
    good.write_bytes(_xent_with_header(json.dumps(GOOD_HEADER).encode()))
    (code, _, err), out = decode_to(tmp_path, capsys, good)
    assert code == 0 and out.read_bytes() == b"", err


def test_an_output_naming_an_input_is_refused_and_the_input_is_kept(tmp_path, capsys):
    train, file = tmp_path / "t2.txt", tmp_path / "a.txt"
    train.write_bytes(Path(YOULIK).read_bytes()[:5000])
    file.write_bytes(Path(ALICE).read_bytes()[:3000])
    before = {p: p.read_bytes() for p in (train, file)}
    spelled = str(tmp_path / "sub" / ".." / "t2.txt")
    (tmp_path / "sub").mkdir()
    for out, needle in ((train, "same file as --train"), (spelled, "same file as --train"),
                        (file, "same file as FILE")):
        _one_line_refusal(capsys, ["code", str(file), "--train", str(train), "--order", "1",
                                   "--out", str(out)], needle)
    xent = code_to(tmp_path, capsys, file, "--train", str(train), "--order", "1")
    before[xent] = xent.read_bytes()
    _one_line_refusal(capsys, ["decode", str(xent), "--train", str(train), "-o", str(xent)],
                      "same file as F.xent")
    _one_line_refusal(capsys, ["decode", str(xent), "--train", str(train), "-o", str(train)],
                      "same file as --train")
    assert all(p.read_bytes() == data for p, data in before.items())
    assert no_leftovers(tmp_path)


def test_an_existing_output_that_is_not_a_regular_file_is_refused_and_kept(tmp_path, capsys):
    import os
    import stat

    from simulator._files import write_atomic

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    xent = code_to(tmp_path, capsys, ALICE, "--model", "kt", "--order", "1")
    _one_line_refusal(capsys, ["decode", str(xent), "-o", str(fifo)], "not a regular file")
    _one_line_refusal(capsys, ["code", ALICE, "--model", "kt", "--order", "1", "--out", str(fifo)],
                      "not a regular file")
    with pytest.raises(realdata.XentsimError, match="not a regular file"):
        write_atomic(fifo, b"data")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert no_leftovers(tmp_path)


def test_control_characters_from_a_crafted_header_are_escaped_in_messages(tmp_path, capsys):
    header = dict(GOOD_HEADER, model="static", alpha=0.5, precision=24, train_bytes=3,
                  train_sha256="\x1b[2J" + "0" * 60, train_name="evil\x1b]0;owned\x07\n.txt")
    del header["contexts"], header["pairs"]
    bad = tmp_path / "crafted.xent"
    bad.write_bytes(_xent_with_header(json.dumps(header).encode()))
    (tmp_path / "t.txt").write_bytes(b"abc")
    for extra, needle in (((), "give it with --train"), (("--train", str(tmp_path / "t.txt")), "is not the file")):
        (code, out, err), _ = decode_to(tmp_path, capsys, bad, *extra)
        assert code == 2 and out == "" and needle in err, err
        assert err.count("\n") == 1 and all(c.isprintable() for c in err[:-1]), repr(err)
        assert "evil\\x1b]0;owned\\x07\\n.txt" in err and "\\x1b[2J" in err, err
