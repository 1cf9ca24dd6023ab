"""The README's mutation-testing table is the summary of the recorded run.

``tools/mutation_record.txt.gz`` holds ``mutmut results --all true`` of the run the
README reports (one ``name: status`` line per mutant); ``tools/mutation_sample.txt`` the
random sample of the mutants that had not been run when it was drawn; and
``tools/mutation_equivalent.txt`` the survivors judged equivalent. The scores are
recomputed here with ``tools/mutation_summary.py`` and compared with the README.
"""

import gzip
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"


def _summary_module():
    spec = importlib.util.spec_from_file_location("mutation_summary", TOOLS / "mutation_summary.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


S = _summary_module()
RECORD = gzip.decompress((TOOLS / "mutation_record.txt.gz").read_bytes()).decode().splitlines()
SAMPLE = frozenset(ln.strip() for ln in (TOOLS / "mutation_sample.txt").read_text().splitlines()
                   if ln.strip() and not ln.startswith("#"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_rows():
    table = README.split("<!-- mutation table -->")[1]
    rows = {}
    for line in table.strip().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and "/" in cells[1] and cells[0] != "group":
            rows[cells[0]] = cells
    return rows


LABELS = {"measures": "measures", "bounds": "bounds",
          "symbol codes (prefix, huffman, shannon, block)": "codes (prefix, huffman, shannon, block)",
          "arithmetic": "codes (arithmetic)", "engine": "engine"}


def test_the_readme_table_is_the_summary_of_the_recorded_run():
    rows = {r["group"]: r for r in S.summarise(RECORD, SAMPLE)}
    readme = _readme_rows()
    assert set(readme) == set(LABELS)
    for shown, label in LABELS.items():
        r, cells = rows[label], readme[shown]
        assert cells[1] == f"{r['killed']} / {r['total']}"
        assert cells[2] == f"{100 * r['killed'] / r['total']:.1f}"
        assert cells[3] == f"{r['killed']} / {r['non_equivalent']}"
        assert cells[4] == f"{100 * r['killed'] / r['non_equivalent']:.1f}"
        if "sample" in r:
            e = r["sample"]
            assert cells[5] == (f"estimated {100 * e['estimate']:.1f} (99%: {100 * e['low']:.1f} to "
                                f"{100 * e['high']:.1f}); {e['not_run']} not run, sample "
                                f"{e['killed']} / {e['run']} killed")
        else:
            assert cells[5] == "complete" and r["counts"].get("not checked", 0) == 0


def test_every_listed_equivalent_and_sampled_mutant_exists_in_the_record():
    names = {ln.split(":")[0].strip() for ln in RECORD if ":" in ln}
    assert S.equivalent_names() <= names
    assert SAMPLE <= names


@pytest.mark.parametrize("k, n, lo, hi", [(170, 200, 0.7741981624304571, 0.9085141094335366),
                                          (0, 10, 0.0, 0.4112959813475253),
                                          (5, 10, 0.12831055393508325, 0.8716894460649167)])
def test_clopper_pearson_matches_the_beta_quantiles(k, n, lo, hi):
    # reference: scipy.stats.beta.ppf(0.005, k, n - k + 1) and beta.ppf(0.995, k + 1, n - k)
    got = S.clopper_pearson(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-12)
