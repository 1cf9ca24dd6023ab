"""Specs as users type them: exact whole numbers, pmfs from lists, files and families, and
refusals that name the option and the value once."""

import time

import numpy as np
import pytest

from simulator.errors import XentsimError
from simulator.spec import MAX_COUNT, parse_pmf, whole_number


@pytest.mark.parametrize("text, value", [
    ("7", 7), (" 12 ", 12), ("+5", 5), ("1e6", 10**6), ("1E6", 10**6), ("2.5e3", 2500),
    ("10.0", 10), ("0", 0), ("9223372036854775807", MAX_COUNT),
])
def test_whole_number_reads_exact_integers_in_any_decimal_form(text, value):
    assert whole_number(text) == value


@pytest.mark.parametrize("text, fragment", [
    ("1.5e0", "1.5e0 is not a whole number"),
    ("1.0000000000000001", "is not a whole number"),  # a float would round this to 1
    ("0.5", "0.5 is not a whole number"),
    ("1e-400", "1e-400 is not a whole number"),
    ("nan", "nan is not a whole number"),
    ("inf", "inf is not a whole number"),
    ("-Infinity", "is not a whole number"),
    ("0x10", "'0x10' is not a whole number"),
    ("", "'' is not a whole number"),
    ("ten", "'ten' is not a whole number"),
    ("1e400", "1e400 is too large (at most 9223372036854775807)"),
    ("9223372036854775808", "is too large (at most 9223372036854775807)"),
    ("-1e400", "-1e400 is too small"),
])
def test_whole_number_refuses_what_is_not_an_exact_integer_in_range(text, fragment):
    with pytest.raises(XentsimError) as err:
        whole_number(text)
    assert fragment in str(err.value)


def test_whole_number_bounds_are_inclusive():
    assert whole_number("1", minimum=1, maximum=3) == 1
    assert whole_number("3", minimum=1, maximum=3) == 3
    with pytest.raises(XentsimError, match="0 must be >= 1"):
        whole_number("0", minimum=1)
    with pytest.raises(XentsimError, match=r"4 is too large \(at most 3\)"):
        whole_number("4", maximum=3)


def test_whole_number_refuses_a_huge_literal_without_building_it():
    # 10^(10^9) would take gigabytes and minutes to build as an integer.
    t0 = time.perf_counter()
    for text in ("1e1000000000", "9" * 100_000):
        with pytest.raises(XentsimError, match="too large"):
            whole_number(text)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("spec, probs", [
    ("0.7,0.2,0.1", [0.7, 0.2, 0.1]),
    ("1/4, 3/4", [0.25, 0.75]),
    ("uniform:4", [0.25] * 4),
    ("uniform:1e0", [1.0]),
    ("dyadic:3", [0.5, 0.25, 0.25]),
    ("bern:0.25", [0.75, 0.25]),
    ("zipf:2:1", [2 / 3, 1 / 3]),
    ("geometric:2:0.5", [2 / 3, 1 / 3]),
    ("mix:0.5:1,0", [0.75, 0.25]),
])
def test_specs_give_the_documented_pmf(spec, probs):
    np.testing.assert_allclose(parse_pmf(spec).probs, probs, rtol=1e-15)


def test_dirichlet_spec_is_reproducible_from_its_seed():
    a, b = parse_pmf("dirichlet:5:1:3"), parse_pmf("dirichlet:5:1:3")
    assert np.array_equal(a.probs, b.probs) and not np.array_equal(
        a.probs, parse_pmf("dirichlet:5:1:4").probs)


def test_files_of_real_numbers_are_read_exactly(tmp_path):
    np.save(tmp_path / "f.npy", np.array([0.5, 0.25, 0.25]))
    np.save(tmp_path / "f32.npy", np.array([0.5, 0.5], dtype=np.float32))
    np.save(tmp_path / "i.npy", np.array([2, 1, 1]))
    (tmp_path / "t.txt").write_text("0.5, 0.25\n 1/4\n")
    assert parse_pmf(str(tmp_path / "f.npy")).probs.tolist() == [0.5, 0.25, 0.25]
    assert parse_pmf(str(tmp_path / "f32.npy")).probs.tolist() == [0.5, 0.5]
    assert parse_pmf(str(tmp_path / "i.npy"), normalize=True).probs.tolist() == [0.5, 0.25, 0.25]
    assert parse_pmf(str(tmp_path / "t.txt")).probs.tolist() == [0.5, 0.25, 0.25]


@pytest.mark.parametrize("array, dtype", [
    (np.array([0.5 + 0j, 0.5]), "complex128"),
    (np.array([1.0 + 0j], dtype=np.complex64), "complex64"),
    (np.array(["0.5", "0.5"]), "<U3"),
    (np.array([b"1"]), "|S1"),
    (np.array([True, False]), "bool"),
    (np.zeros(2, dtype=[("a", "f8")]), "[('a', '<f8')]"),
])
def test_npy_files_that_are_not_real_numbers_are_refused_naming_file_and_dtype(tmp_path, array, dtype):
    path = str(tmp_path / "x.npy")
    np.save(path, array)
    with pytest.raises(XentsimError) as err:
        parse_pmf(path, "q")
    assert str(err.value).startswith(f"--q {path}: ") and f"dtype {dtype}" in str(err.value)


def test_pickled_object_arrays_are_refused_without_unpickling(tmp_path):
    path = str(tmp_path / "o.npy")
    np.save(path, np.array([0.5, 0.5], dtype=object), allow_pickle=True)
    with pytest.raises(XentsimError, match="dtype object"):
        parse_pmf(path)


def test_a_npz_archive_named_npy_is_not_a_npy_file(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.ones(2))
    (tmp_path / "a.npz").rename(tmp_path / "a.npy")
    with pytest.raises(XentsimError, match=r"not a \.npy file"):
        parse_pmf(str(tmp_path / "a.npy"))


@pytest.mark.parametrize("spec, message", [
    ("zipf:x:1", "--p zipf:x:1: K 'x' is not a whole number"),
    ("zipf:3:x", "--p zipf:3:x: S 'x' is not a number"),
    ("dirichlet:3:1:-1", "--p dirichlet:3:1:-1: SEED -1 must be >= 0"),
    ("dirichlet:3:1:0.5", "--p dirichlet:3:1:0.5: SEED 0.5 is not a whole number"),
    ("uniform:2.5", "--p uniform:2.5: K 2.5 is not a whole number"),
    ("mix:x:uniform:2", "--p mix:x:uniform:2: EPS 'x' is not a number"),
    ("mix:0.1:zipf:x:1", "--p mix:0.1:zipf:x:1: in zipf:x:1: K 'x' is not a whole number"),
    ("mix:0.1:", "--p mix:0.1:: the SPEC after EPS is empty (expected mix:EPS:SPEC)"),
    ("0.5,x", "--p 0.5,x: entry 1 'x' is not a number"),
    ("gauss:1", "--p gauss:1: unknown family 'gauss'"),
    ("dyadic", "--p dyadic: the family needs its parameters (dyadic:K)"),
    ("bern:0.1:2", "--p bern:0.1:2: wrong number of fields (expected bern:T)"),
    ("gone.npy", "--p gone.npy: no such file"),
])
def test_refusals_name_the_option_the_spec_and_the_field_once(spec, message):
    with pytest.raises(XentsimError) as err:
        parse_pmf(spec)
    assert str(err.value).startswith(message)
    assert str(err.value).count(f"--p {spec}") == 1


def test_file_refusals_name_the_file_and_the_entry(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("0.5\n0.25 oops\n")
    with pytest.raises(XentsimError) as err:
        parse_pmf(str(path))
    assert str(err.value) == f"--p {path}: entry 2 'oops' is not a number"
    path.write_text("  \n")
    with pytest.raises(XentsimError, match="holds no numbers"):
        parse_pmf(str(path))


# --------------------------------------------------------------------------- markov: specs

from simulator.spec import parse_chain, parse_model, parse_source  # noqa: E402


def test_a_markov_spec_reads_inline_rows_text_files_and_npy(tmp_path):
    P, m = parse_chain("markov:0.9,0.1;0.2,0.8", "p")
    assert m == 1 and P.tolist() == [[0.9, 0.1], [0.2, 0.8]]
    text = tmp_path / "chain.txt"
    text.write_text("# order 2 on 2 symbols: rows 00, 01, 10, 11\n0.9 0.1\n\n0.5, 0.5\n1/3 2/3\n0 1\n")
    P2, m2 = parse_chain(f"markov:{text}", "q")
    assert m2 == 2 and P2[2].tolist() == pytest.approx([1 / 3, 2 / 3])
    np.save(tmp_path / "c.npy", np.array([[0.25, 0.75], [0.5, 0.5]]))
    P3, m3 = parse_chain(f"markov:{tmp_path / 'c.npy'}", "p")
    assert m3 == 1 and P3[0, 1] == 0.75


def test_normalize_rescales_each_row_only_when_asked():
    with pytest.raises(XentsimError, match="P row 0 sums to 3"):
        parse_chain("markov:1,2;1,1", "p")
    P, _ = parse_chain("markov:1,2;1,1", "p", normalize=True)
    np.testing.assert_allclose(P, [[1 / 3, 2 / 3], [0.5, 0.5]], rtol=1e-15)


def test_p_becomes_a_stationary_source_and_q_a_model_matrix():
    from simulator.sources import MarkovSource

    src = parse_source("markov:0.9,0.1;0.2,0.8")
    assert isinstance(src, MarkovSource) and src.order == 1
    assert src.marginal().tolist() == pytest.approx([2 / 3, 1 / 3])
    Q = parse_model("markov:0.5,0.5;0.25,0.75")
    assert Q.shape == (2, 2) and not Q.flags.writeable
    assert parse_model("markov:0.5,0.5").tolist() == [0.5, 0.5]  # one row: order 0, a pmf
    assert parse_source("0.5,0.5").probs.tolist() == [0.5, 0.5]  # other specs: a Pmf
    # a model need not be irreducible; a source must be
    assert parse_model("markov:1,0;0,1").shape == (2, 2)
    with pytest.raises(XentsimError, match="--p markov:1,0;0,1: P is reducible"):
        parse_source("markov:1,0;0,1")
