"""The command-line contract with the typer and click versions installed: exit codes and one-line errors.

Parser errors (unknown option, missing argument, bad number, misspelled command) exit 2 with click's usage
line and one `error:` line; Ctrl-C exits 130 with "interrupted"; a bug keeps its traceback.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quadiv import cli


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quadiv", *args], capture_output=True, text=True, **kwargs)


def invoke(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run `quadiv ARGS` in this process through `main()`; (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["quadiv", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


def assert_parser_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) <= 2 and lines[-1].startswith("error: "), err
    for needle in needles:
        assert needle.lower() in lines[-1].lower(), (needle, err)


@pytest.fixture
def pool(tmp_path: Path) -> Path:
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps({"text": f"row {i} says something"}) + "\n" for i in range(5)))
    return path


@pytest.mark.parametrize("args, needle", [
    (("measure", "{pool}", "--no-such-option"), "--no-such-option"),
    (("measure",), "INPUT"),
    (("select", "{pool}", "--budget", "abc", "-o", "{out}"), "--budget"),
    (("select", "{pool}", "-o", "{out}", "--tradeoff", "half"), "--tradeoff"),
    (("mesure", "{pool}"), "mesure"),
    (("select", "{pool}", "--budget", "2"), "--output"),
    (("front", "{pool}", "--budget", "2", "--json", "extra-arg", "-o", "{out}"), "extra-arg"),
    (("generate", "{pool}", "-o", "{out}"), "--backend"),
    (("report",), "RESULT"),
])
def test_parser_errors_exit_2_in_one_line(monkeypatch, capsys, pool: Path, args, needle) -> None:
    args = [a.format(pool=pool, out=pool.parent / "out.jsonl") for a in args]
    code, out, err = invoke(monkeypatch, capsys, *args)
    assert_parser_error(code, err, needle)
    assert not (pool.parent / "out.jsonl").exists()


def test_parser_error_through_the_installed_script(pool: Path) -> None:
    proc = run("measure", str(pool), "--no-such-option")
    assert_parser_error(proc.returncode, proc.stderr, "--no-such-option")


def test_version(monkeypatch, capsys) -> None:
    from importlib.metadata import version

    code, out, _ = invoke(monkeypatch, capsys, "--version")
    assert code == 0 and out.strip() == f"quadiv {version('quadiv')}"


def test_help_exits_0(monkeypatch, capsys) -> None:
    code, out, _ = invoke(monkeypatch, capsys, "select", "--help")
    assert code == 0 and "--budget" in out
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = invoke(monkeypatch, capsys, "embed", "--help")
    assert code == 0 and "quadiv[ray]" in out  # not eaten as rich markup


def test_success_exits_0(monkeypatch, capsys, pool: Path) -> None:
    code, out, _ = invoke(monkeypatch, capsys, "measure", str(pool), "--metrics", "distinct_2", "--json")
    assert code == 0 and json.loads(out)["n"] == 5


@pytest.mark.parametrize("command", ["measure", "select"])
def test_keyboard_interrupt_inside_a_command_exits_130(monkeypatch, capsys, pool: Path, command) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli._common, "load_pool", interrupted)
    extra = ["-n", "2", "-o", str(pool.parent / "out.jsonl")] if command == "select" else []
    code, _, err = invoke(monkeypatch, capsys, command, str(pool), *extra)
    assert code == 130 and "interrupted" in err and "Traceback" not in err
    assert not (pool.parent / "out.jsonl").exists()


def test_a_bug_keeps_its_traceback(monkeypatch, capsys, pool: Path) -> None:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli._common, "load_pool", broken)
    monkeypatch.setattr(sys, "argv", ["quadiv", "measure", str(pool)])
    with pytest.raises(ZeroDivisionError):
        cli.main()


@pytest.mark.parametrize("command", ["measure", "select"])
def test_sigint_during_a_long_step_exits_130_and_a_rerun_works(tmp_path: Path, pool: Path, command) -> None:
    """A real Ctrl-C: the command waits on an embeddings server that never answers, gets SIGINT, exits 130.

    The kernel may hand the SIGINT to any thread that does not block it (Arrow's pool, started lazily,
    does not), so this fails unless the signal is brought to the main thread.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(120)
    url = f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    out = tmp_path / "chosen.jsonl"
    extra = ["-n", "2", "-o", str(out)] if command == "select" else []
    proc = subprocess.Popen([sys.executable, "-m", "quadiv", command, str(pool), "--embedder", "openai:m",
                             "--base-url", url, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OPENAI_API_KEY": "test"})
    connection, _ = server.accept()  # the command is now inside its long step
    time.sleep(0.3)  # and blocked in its read, where only a SIGINT to the main thread wakes it
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    connection.close()
    server.close()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["pool.jsonl"]
    rerun = run(command, str(pool), *extra)
    assert rerun.returncode == 0, rerun.stderr


def test_a_sigint_taken_by_another_thread_interrupts_the_main_thread_once() -> None:
    """The C handler runs in a helper thread (the signal is sent to it); the main thread sits in a read.

    Inside ``ctrl_c_reaches_main_thread`` the read ends with one KeyboardInterrupt (the forwarded
    signal's echo does not raise a second one in the cleanup), and the previous handler is restored.
    """
    probe = ("import signal, socket, threading, time\n"
             "from quadiv._signals import ctrl_c_reaches_main_thread\n"
             "left, right = socket.socketpair()\n"
             "left.settimeout(20)\n"
             "def helper():\n"
             "    time.sleep(0.3)\n"
             "    signal.pthread_kill(threading.get_ident(), signal.SIGINT)\n"
             "with ctrl_c_reaches_main_thread():\n"
             "    threading.Thread(target=helper).start()\n"
             "    start = time.monotonic()\n"
             "    try:\n"
             "        left.recv(1)\n"
             "        print('read', end=' ')\n"
             "    except KeyboardInterrupt:\n"
             "        print('interrupted', time.monotonic() - start < 5, end=' ')\n"
             "        time.sleep(0.5)  # a cleanup the echo must not interrupt\n"
             "    except TimeoutError:\n"
             "        print('timed out', end=' ')\n"
             "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, signal.set_wakeup_fd(-1))\n")
    answer = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.split() == ["interrupted", "True", "True", "-1"]


def test_front_help_shows_the_defaults(monkeypatch, capsys) -> None:
    code, out, _ = invoke(monkeypatch, capsys, "front", "--help")
    assert code == 0 and "facility-location,dpp,mmr,cluster" in out and "0:1:11" in out


def test_methods_list_parameters_and_a_wrong_one_names_the_valid(monkeypatch, capsys, pool: Path) -> None:
    code, out, _ = invoke(monkeypatch, capsys, "methods")
    assert code == 0 and "n_clusters=None, rounds=4, temperature=0.1" in out and "eps=1e-06" in out
    code, _, err = invoke(monkeypatch, capsys, "select", str(pool), "-n", "2", "-o", str(pool.parent / "o.jsonl"),
                          "--method", "dpp", "--param", "foo=1")
    assert code == 2 and "no parameter 'foo'" in err and "eps" in err and len(err.strip().splitlines()) == 1


def test_derived_metrics_are_accepted_by_name(monkeypatch, capsys, pool: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference.jsonl"
    reference.write_text("".join(json.dumps({"text": f"another row {i} of text"}) + "\n" for i in range(8)))
    code, out, err = invoke(monkeypatch, capsys, "measure", str(pool), "--metrics", "precision,recall,vendi",
                            "--reference", str(reference), "--k", "2", "--json")
    assert code == 0, err
    assert {"precision", "recall", "vendi"} <= set(json.loads(out)["metrics"])
    code, _, err = invoke(monkeypatch, capsys, "measure", str(pool), "--metrics", "precision")
    assert code == 2 and "--reference" in err


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads thread signal masks from Linux's /proc")
def test_only_the_main_thread_takes_ctrl_c() -> None:
    """The kernel may hand SIGINT to any thread not blocking it; Python acts on it in the main thread only.

    So every helper thread running once quadiv is imported (numpy's BLAS workers) blocks SIGINT, and a
    Ctrl-C always interrupts a main thread blocked in a network read.
    """
    probe = ("import os, threading, quadiv.cli\n"
             "main = threading.get_native_id()\n"
             "for task in os.listdir('/proc/self/task'):\n"
             "    mask = [l for l in open(f'/proc/self/task/{task}/status') if l.startswith('SigBlk')][0]\n"
             "    print(int(task) == main, int(mask.split()[1], 16) >> 1 & 1)  # SIGINT is signal 2: bit 1\n")
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    threads = list(zip(answer[::2], answer[1::2]))
    assert ("True", "0") in threads
    assert all(blocked == "1" for main, blocked in threads if main == "False"), threads
