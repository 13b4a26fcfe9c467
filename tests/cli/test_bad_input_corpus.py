"""A corpus of bad inputs and arguments for every command.

Each case must exit 2 with one `error:` line (plus click's usage line for parser errors), never a
traceback, leave no new file behind, and leave every input byte-identical.
"""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from quadiv import cli

GOOD = "".join(json.dumps({"text": f"row {i} is about {['cats', 'rain', 'maths'][i % 3]}", "q": i / 10,
                           "g": "ab"[i % 2], "prompt": f"write about {i}"}) + "\n" for i in range(10))
FILES = {
    "pool.jsonl": GOOD,
    "empty.jsonl": "",
    "blank.jsonl": "\n\n  \n",
    "broken.jsonl": GOOD + '{"text": "unterminated\n',
    "list_line.jsonl": GOOD + "[1, 2]\n",
    "nan.csv": "text,q\n" + "".join(f"t{i},{'nan' if i == 3 else i}\n" for i in range(6)),
    "words.csv": "text,q\n" + "".join(f"t{i},{'high' if i == 2 else i}\n" for i in range(6)),
    "header_only.csv": "text,q\n",
    "scalar.json": "42",
    "object.json": '{"rows": [{"text": "a"}]}',
    "result.json": json.dumps({"some": "thing"}),
    "list.json": "[1, 2, 3]",
    "front_table.csv": "temperature,quality_mean\n0.5,0.2\n1.0,0.1\n",
    "notes.txt": "hello\n",
    "nested.jsonl": "".join(json.dumps({"text": f"text {i}", "tags": ["a"] * i}) + "\n" for i in range(4)),
    "archive.jsonl": '{"id": "0-0", "text": "a", "cell": ["x"], "fitness": 1.0}\n{"id": "1-0", "text":\n',
    "archive.search.json": json.dumps({"kind": "search", "archive": "archive.jsonl", "axes": [], "stats": {}}),
    "orphan.search.json": json.dumps({"kind": "search", "archive": "gone.jsonl", "axes": [], "stats": {}}),
}
BYTES = {"latin1.jsonl": b'{"text": "caf\xe9"}\n', "truncated.jsonl.gz": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    for name, data in BYTES.items():
        (tmp_path / name).write_bytes(data)
    X = np.random.default_rng(0).normal(size=(10, 8)).astype(np.float32)
    np.save(tmp_path / "X.npy", X / np.linalg.norm(X, axis=1, keepdims=True))
    np.save(tmp_path / "short.npy", X[:3])
    np.save(tmp_path / "flat.npy", X[0])
    (tmp_path / "not_a_dataset").mkdir()
    return tmp_path


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


CASES = {
    # measure
    "measure missing file": "measure nope.jsonl",
    "measure empty file": "measure empty.jsonl",
    "measure blank lines": "measure blank.jsonl",
    "measure broken line": "measure broken.jsonl --embeddings X.npy",
    "measure list line": "measure list_line.jsonl",
    "measure non-utf8": "measure latin1.jsonl",
    "measure truncated gz": "measure truncated.jsonl.gz",
    "measure header-only csv": "measure header_only.csv",
    "measure scalar json": "measure scalar.json",
    "measure json object without data": "measure object.json",
    "measure unknown type": "measure notes.txt",
    "measure folder that is no dataset": "measure not_a_dataset",
    "measure missing field": "measure pool.jsonl --field answer",
    "measure template with unknown column": "measure pool.jsonl --field {text}-{nothing}",
    "measure missing group field": "measure pool.jsonl --group-field nope",
    "measure nan quality": "measure nan.csv -q q",
    "measure text quality": "measure words.csv -q q",
    "measure bad missing policy": "measure pool.jsonl -q q --quality-missing maybe",
    "measure unknown metric": "measure pool.jsonl --metrics vendi,nonsense",
    "measure bad vendi order": "measure pool.jsonl --metrics vendi_q-1",
    "measure unknown embedder": "measure pool.jsonl --embedder nonsense",
    "measure st path missing": "measure pool.jsonl --embedder st:/no/such/model",
    "measure short embeddings": "measure pool.jsonl --embeddings short.npy",
    "measure 1-d embeddings": "measure pool.jsonl --embeddings flat.npy",
    "measure missing embeddings": "measure pool.jsonl --embeddings none.npy",
    "measure embeddings not npy": "measure pool.jsonl --embeddings pool.jsonl",
    "measure missing embedding field": "measure pool.jsonl --embedding-field vec",
    "measure reference missing": "measure pool.jsonl --reference nope.jsonl",
    "measure k too large": "measure pool.jsonl --reference pool.jsonl --k 50",
    "measure report folder missing": "measure pool.jsonl --report nowhere/r.html",
    "measure input field missing": "measure pool.jsonl --input-field nope",
    # select
    "select budget zero": "select pool.jsonl -n 0 -o out.jsonl",
    "select budget negative": "select pool.jsonl -n -3 -o out.jsonl",
    "select budget too large": "select pool.jsonl -n 11 -o out.jsonl",
    "select fraction zero": "select pool.jsonl --fraction 0 -o out.jsonl",
    "select fraction above one": "select pool.jsonl --fraction 1.5 -o out.jsonl",
    "select budget and fraction": "select pool.jsonl -n 2 --fraction 0.5 -o out.jsonl",
    "select no budget": "select pool.jsonl -o out.jsonl",
    "select unknown method": "select pool.jsonl -n 2 --method nope -o out.jsonl",
    "select bad param": "select pool.jsonl -n 2 --method dpp --param foo=1 -o out.jsonl",
    "select malformed param": "select pool.jsonl -n 2 --param eps -o out.jsonl",
    "select bad param value": "select pool.jsonl -n 2 --method dpp --param eps=2 -o out.jsonl",
    "select tradeoff out of range": "select pool.jsonl -n 2 --tradeoff 2 -o out.jsonl",
    "select output is input": "select pool.jsonl -n 2 -o pool.jsonl",
    "select output folder missing": "select pool.jsonl -n 2 -o nowhere/out.jsonl",
    "select output unknown type": "select pool.jsonl -n 2 -o out.xyz",
    "select output is a folder": "select pool.jsonl -n 2 -o not_a_dataset",
    "select missing group field": "select pool.jsonl -n 2 -g nope -o out.jsonl",
    "select nan quality": "select nan.csv -n 2 -q q -o out.jsonl",
    "select balanced needs groups": "select pool.jsonl -n 2 --method balanced -o out.jsonl",
    "select nested rows to csv": "select nested.jsonl -n 2 -o out.csv",
    "dedup nested rows to tsv": "dedup nested.jsonl -o out.tsv",
    "select report folder missing": "select pool.jsonl -n 2 -o out.jsonl --report nowhere/r.html",
    # front
    "front no input": "front -n 2 -o front.json",
    "front input and table": "front pool.jsonl --from front_table.csv -n 2 -o front.json",
    "front bad tradeoffs": "front pool.jsonl -n 2 --tradeoffs a:b:c -o front.json",
    "front tradeoff out of range": "front pool.jsonl -n 2 --tradeoffs 0,3 -o front.json",
    "front bad budget": "front pool.jsonl -n abc -o front.json",
    "front budget too large": "front pool.jsonl -n 20 -o front.json",
    "front bad objectives": "front pool.jsonl -n 2 --objectives vendi:up -o front.json",
    "front unknown method": "front pool.jsonl -n 2 --methods dpp,nope -o front.json",
    "front output is input": "front pool.jsonl -n 2 -o pool.jsonl",
    "front table missing": "front --from nope.csv --objectives quality_mean:max -o front.json",
    "front table lacks objective": "front --from front_table.csv --objectives vendi:max -o front.json",
    "front output folder missing": "front pool.jsonl -n 2 -o nowhere/front.json",
    # report
    "report missing file": "report nope.json -o r.html",
    "report not json": "report pool.jsonl -o r.html",
    "report not a result": "report result.json -o r.html",
    "report list": "report list.json -o r.html",
    "report output is input": "report result.json -o result.json",
    "report output folder missing": "report result.json -o nowhere/r.html",
    "report archive with a broken line": "report archive.jsonl -o r.html",
    "report sidecar of a broken archive": "report archive.search.json -o r.html",
    "report sidecar without its archive": "report orphan.search.json -o r.html",
    "report output is the sidecar": "report archive.jsonl -o archive.search.json",
    "report output is the sidecar's archive": "report archive.search.json -o archive.jsonl",
    # dedup
    "dedup output is input": "dedup pool.jsonl -o pool.jsonl",
    "dedup minhash out of range": "dedup pool.jsonl --minhash 1.5 -o out.jsonl",
    "dedup semantic out of range": "dedup pool.jsonl --semantic 2 --embeddings X.npy -o out.jsonl",
    "dedup missing field": "dedup pool.jsonl --field nope -o out.jsonl",
    "dedup missing file": "dedup nope.jsonl -o out.jsonl",
    # generate
    "generate missing prompts": "generate nope.jsonl -b openai -m m --base-url http://127.0.0.1:9/v1 -o out.jsonl",
    "generate unknown backend": "generate pool.jsonl -b nope -m m -o out.jsonl",
    "generate unknown strategy": "generate pool.jsonl -b openai -m m -s nope -o out.jsonl",
    "generate bad param": "generate pool.jsonl -b openai -m m --param nope=1 -o out.jsonl",
    "generate output is prompts": "generate pool.jsonl -b openai -m m --base-url http://127.0.0.1:9/v1 -o pool.jsonl",
    "generate output folder missing": "generate pool.jsonl -b openai -m m -o nowhere/out.jsonl",
    "generate missing prompt field": "generate pool.jsonl -b openai -m m --field nope -o out.jsonl",
    "generate zero samples": "generate pool.jsonl -b openai -m m --n 0 -o out.jsonl",
    "generate local model missing": "generate pool.jsonl -b transformers -m /no/such/model -o out.jsonl",
    "generate refused connection": "generate pool.jsonl -b openai -m m --base-url http://127.0.0.1:9/v1 -o out.jsonl",
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_in_one_line(monkeypatch, capsys, folder: Path, case: str) -> None:
    monkeypatch.chdir(folder)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    before = snapshot(folder)
    monkeypatch.setattr(sys, "argv", ["quadiv", *CASES[case].split()])
    with pytest.raises(SystemExit) as done:
        cli.main()
    err = capsys.readouterr().err
    assert done.value.code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2 and lines[-1].startswith("error: "), err
    assert len(lines) == 1 or lines[0].startswith("Usage: "), err
    assert snapshot(folder) == before  # inputs byte-identical, nothing written
