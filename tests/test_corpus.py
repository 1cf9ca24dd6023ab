"""The shipped corpus is present, pinned, and refused when it differs."""

import pytest

from simulator import corpus
from simulator.errors import XentsimError


@pytest.mark.parametrize("name", sorted(corpus.FILES))
def test_every_corpus_file_loads_with_its_pinned_size_and_hash(name):
    assert len(corpus.load(name)) == corpus.FILES[name][0]


def test_a_changed_corpus_file_is_refused(tmp_path, monkeypatch):
    (tmp_path / "alice29.txt").write_bytes(corpus.load("alice29.txt")[:-1] + b"!")
    monkeypatch.setattr(corpus, "CORPUS_DIR", tmp_path)
    with pytest.raises(XentsimError, match="not the pinned file"):
        corpus.load("alice29.txt")


def test_an_unknown_name_is_refused():
    with pytest.raises(XentsimError, match="unknown"):
        corpus.load("enwik9")
