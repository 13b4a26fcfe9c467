"""`quadiv embed`'s shard directories: contents, resume from completion markers, and bad directories."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from quadiv import cli
from quadiv.embed import embed, embed_to_shards, load_embeddings
from quadiv.errors import InputError, UsageError


class Hashed:
    """A deterministic embedder that counts what it encodes, and can be told to fail after some texts."""

    name, dim = "hashed:v1", 8

    def __init__(self, fail_after: int | None = None):
        self.encoded, self.fail_after = 0, fail_after

    def encode(self, texts):
        if self.fail_after is not None and self.encoded + len(texts) > self.fail_after:
            raise RuntimeError("the embedder died")
        self.encoded += len(texts)
        rows = np.array([np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], np.uint8) for t in texts], np.float32)
        rows += 1.0
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


TEXTS = [f"text {i} about {['cats', 'ships', 'rain'][i % 3]}" for i in range(2500)]


def test_the_shards_hold_every_row_its_id_key_and_embedding(tmp_path: Path) -> None:
    ids = pa.array([f"r{i}" for i in range(len(TEXTS))])
    summary = embed_to_shards(TEXTS, ids, Hashed(), tmp_path / "emb", shard_rows=1000, field="text")
    assert summary["shards"] == 3 and summary["embedded_shards"] == 3
    table = ds.dataset(tmp_path / "emb", format="parquet").to_table().sort_by("row")  # any Parquet reader
    assert table.column("row").to_pylist() == list(range(len(TEXTS)))
    assert table.column("id").to_pylist() == ids.to_pylist()
    assert table.column("key").to_pylist() == [hashlib.sha256(t.encode()).digest() for t in TEXTS]
    assert table.schema.field("embedding").type == pa.list_(pa.float32(), 8)
    expected = embed(TEXTS, Hashed(), cache=False)
    assert np.array_equal(np.stack(table.column("embedding").to_numpy(zero_copy_only=False)), expected)
    X = load_embeddings(tmp_path / "emb", len(TEXTS), texts=TEXTS)
    assert isinstance(X, np.memmap) and np.array_equal(X, expected)
    marker = json.loads((tmp_path / "emb" / "_done" / "part-00002").read_text())
    assert marker["rows"] == 500 and marker["dim"] == 8


def test_a_killed_run_resumes_from_its_markers_and_embeds_nothing_twice(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="died"):
        embed_to_shards(TEXTS, list(range(2500)), Hashed(fail_after=1700), tmp_path / "emb", shard_rows=600)
    assert sorted(p.name for p in (tmp_path / "emb" / "_done").iterdir()) == ["part-00000", "part-00001"]
    with pytest.raises(InputError, match="3 of 5 shards not done"):
        load_embeddings(tmp_path / "emb", len(TEXTS))
    second = Hashed()
    summary = embed_to_shards(TEXTS, list(range(2500)), second, tmp_path / "emb", shard_rows=600)
    assert second.encoded == 2500 - 1200 and summary["skipped_shards"] == 2
    assert np.array_equal(load_embeddings(tmp_path / "emb", len(TEXTS)), embed(TEXTS, Hashed(), cache=False))
    third = Hashed()
    assert embed_to_shards(TEXTS, list(range(2500)), third, tmp_path / "emb", shard_rows=600)["embedded_shards"] == 0
    assert third.encoded == 0
    assert not list((tmp_path / "emb").glob(".*.tmp"))  # a failed shard leaves no temp file
    assert (tmp_path / "emb" / "_embeddings.npy").exists()  # assembled by the load above
    (tmp_path / "emb" / "_done" / "part-00001").unlink()
    assert embed_to_shards(TEXTS, list(range(2500)), Hashed(), tmp_path / "emb", shard_rows=600)["embedded_shards"] == 1
    assert not (tmp_path / "emb" / "_embeddings.npy").exists()  # out of date: assembled again on the next load
    assert np.array_equal(load_embeddings(tmp_path / "emb", len(TEXTS)), embed(TEXTS, Hashed(), cache=False))


def test_a_directory_of_another_run_or_of_other_texts_is_refused(tmp_path: Path) -> None:
    embed_to_shards(TEXTS, list(range(2500)), Hashed(), tmp_path / "emb", shard_rows=1000)
    with pytest.raises(UsageError, match="shard_rows 1000 .now 500."):
        embed_to_shards(TEXTS, list(range(2500)), Hashed(), tmp_path / "emb", shard_rows=500)
    changed = [*TEXTS[:1500], "another text", *TEXTS[1501:]]
    with pytest.raises(UsageError, match="part-00001 was embedded from other texts"):
        embed_to_shards(changed, list(range(2500)), Hashed(), tmp_path / "emb", shard_rows=1000)
    with pytest.raises(InputError, match="row 1501 of the input has another text"):
        load_embeddings(tmp_path / "emb", len(TEXTS), texts=changed)
    with pytest.raises(InputError, match="holds embeddings of 2500 rows, the input has 10"):
        load_embeddings(tmp_path / "emb", 10)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not an embedding directory"):
        embed_to_shards(TEXTS, list(range(2500)), Hashed(), tmp_path / "other")
    with pytest.raises(InputError, match="not an embedding directory written by `quadiv embed`"):
        load_embeddings(tmp_path / "other")
    with pytest.raises(UsageError, match="positive"):
        embed_to_shards(TEXTS, list(range(2500)), Hashed(), tmp_path / "new", shard_rows=0)


def test_the_cli_embeds_once_and_select_reads_the_directory(tmp_path: Path, monkeypatch, capsys) -> None:
    pool = tmp_path / "pool.csv"  # no id column: the reader numbers the rows
    pool.write_text("question,answer\n" + "".join(f"q{i},answer {i} about {['tax', 'rain', 'ships'][i % 3]}\n"
                                                  for i in range(900)))

    def run(*argv: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["quadiv", *argv])
        with pytest.raises(SystemExit) as done:
            cli.main()
        out, err = capsys.readouterr()
        return done.value.code, out, err

    code, out, _ = run("embed", str(pool), "--field", "answer", "-o", str(tmp_path / "emb"), "--shard-rows", "400",
                       "--json")
    assert code == 0 and json.loads(out)["shards"] == 3
    code, out, _ = run("embed", str(pool), "--field", "answer", "-o", str(tmp_path / "emb"), "--shard-rows", "400",
                       "--quiet")
    assert code == 0 and "3 already done" in out
    picks = []
    for source in (["--embeddings", str(tmp_path / "emb")], []):
        out_file = tmp_path / f"picked{len(picks)}.jsonl"
        code, _, err = run("select", str(pool), "--field", "answer", *source, "-n", "20", "--method", "k-center",
                           "-o", str(out_file), "--quiet")
        assert code == 0, err
        picks.append(out_file.read_text())
    assert picks[0] == picks[1]
    code, _, err = run("select", str(pool), "--field", "question", "--embeddings", str(tmp_path / "emb"), "-n", "5",
                       "-o", str(tmp_path / "no.jsonl"))
    assert code == 2 and "row 1 of the input has another text" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("embed", str(pool), "--field", "answer", "-o", str(tmp_path / "e2"), "--shard-rows", "0")
    assert code == 2 and "--shard-rows" in err
