"""Learner code that misbehaves: it ends with a status, and leaves nothing behind.

Time limits here are short so the suite stays fast; no test asserts how long anything
took. Tests taking `sandbox_mode` run in both modes (strong only where namespaces work).
"""

from __future__ import annotations

import ast
import os
import socket
import threading
import time

import pytest

from services.runner import execute, run, sandbox, sandbox_strength
from services.runner.sandbox import Workdir
from tests.runner.conftest import (
    assessment,
    call,
    die_soon,
    io,
    is_alive,
    need,
    processes_running,
    run_one,
)

NEXT_TEST_PASSES = "def solve(x):\n    if x == 0:\n        {bad}\n    return x\n"


def misbehave_then_pass(bad: str, **limits: int) -> list:
    """Test 'bad' runs `bad`; test 'good' after it must still pass."""
    code = NEXT_TEST_PASSES.format(bad=bad.replace("\n", "\n        "))
    result = run(assessment(call("bad", [0], 0), call("good", [1], 1), **limits), code)
    assert result.tests[1].status == "pass", result.tests[1].message
    return result.tests


def timeout_then_not_run(bad: str, **limits: int) -> list:
    """Test 'bad' runs `bad` and times out; test 'good' after it is reported as not run."""
    code = NEXT_TEST_PASSES.format(bad=bad.replace("\n", "\n        "))
    result = run(assessment(call("bad", [0], 0), call("good", [1], 1), **limits), code)
    assert result.tests[0].status == "timeout", result.tests[0].message
    return result.tests


def test_an_endless_loop_times_out_and_the_tests_after_it_are_not_run(sandbox_mode):
    bad, good = timeout_then_not_run("while True:\n    pass", time_ms=300)
    assert bad.message.startswith("did not finish within 0.3 s")
    assert (good.status, good.message) == (
        "error",
        "not run: an earlier test did not finish within 0.3 s (fix the loop, then run again)",
    )


def test_a_looping_submission_of_nine_tests_stops_after_the_first_timeout():
    code = "def solve(x):\n    while True:\n        pass\n"
    result = run(assessment(*[call(f"t{i}", [i], i) for i in range(9)], time_ms=300), code)
    assert [t.status for t in result.tests] == ["timeout"] + ["error"] * 8
    assert all(t.message.startswith("not run:") for t in result.tests[1:])
    assert result.to_dict()["score"] == {"passed": 0, "total": 9, "percent": 0}


def test_an_io_test_that_times_out_stops_the_io_tests_after_it():
    result = run(
        assessment(io("a", "", ""), io("b", "", ""), entry=None, time_ms=300), "while True: pass\n"
    )
    assert [t.status for t in result.tests] == ["timeout", "error"]
    assert result.tests[1].message.startswith("not run: an earlier test did not finish")


def test_a_loop_that_catches_base_exception_still_times_out():
    loop = (
        "while True:\n    try:\n        while True:\n            pass\n"
        "    except BaseException:\n        pass"
    )
    timeout_then_not_run(loop, time_ms=300)


def test_a_sleep_times_out():
    timeout_then_not_run("import time\ntime.sleep(30)", time_ms=300)


def test_a_cancelled_run_kills_its_child_and_reports_the_tests_as_not_run():
    marker = f"{9000 + os.getpid() % 1000}.{time.time_ns() % 10**6}"
    code = f"import subprocess\ndef solve(x):\n    subprocess.run(['sleep', '{marker}'])\n"
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    result = run(
        assessment(call("a", [1], 1), call("b", [2], 2), time_ms=30000), code, cancel=cancel
    )
    assert (result.status, result.message) == ("error", "the run was cancelled")
    assert [t.message for t in result.tests] == ["not run: the run was cancelled"] * 2
    assert die_soon(marker)


def test_a_cancelled_io_run_stops_the_program():
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    result = run(
        assessment(io("a", "", ""), entry=None, time_ms=30000),
        "import time\ntime.sleep(60)\n",
        cancel=cancel,
    )
    assert (result.status, result.tests[0].message) == ("error", "not run: the run was cancelled")


def test_an_endless_loop_at_the_top_level_is_a_load_error():
    result = run(assessment(call(expected=1), time_ms=300), "while True:\n    pass\n")
    assert result.status == "error"
    assert result.message.startswith("your code ran longer than 0.3 s while loading")


def test_an_endless_python_program_times_out():
    test = run(assessment(io("t", "", ""), entry=None, time_ms=300), "while True: pass\n").tests[0]
    assert test.status == "timeout"


def test_a_huge_allocation_is_a_memory_limit_and_the_next_test_still_runs(sandbox_mode):
    bad, _ = misbehave_then_pass("x = bytearray(1 << 40)", memory_mb=64)
    assert bad.status == "memory_limit" and bad.message == "used more than 64 MB of memory"


def test_growing_memory_step_by_step_is_a_memory_limit():
    grow = "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))"
    bad, _ = misbehave_then_pass(grow, memory_mb=64)
    assert bad.status == "memory_limit"


def test_a_python_program_out_of_memory_is_a_memory_limit():
    code = "chunks = []\nwhile True:\n    chunks.append(' ' * (1 << 20))\n"
    test = run(assessment(io("t", "", ""), entry=None, memory_mb=64), code).tests[0]
    assert test.status == "memory_limit"


def test_a_javascript_program_out_of_memory_is_a_memory_limit():
    need("node")
    code = "const a = [];\nwhile (true) a.push(new Array(1e6).fill(1.5));\n"
    test = run(
        assessment(io("t", "", ""), language="javascript", entry=None, memory_mb=128, time_ms=5000),
        code,
    ).tests[0]
    assert test.status == "memory_limit", test.message


def test_printing_without_end_is_an_output_limit_and_the_next_test_still_runs(sandbox_mode):
    bad, _ = misbehave_then_pass("while True:\n    print('flood' * 100)", output_kb=4)
    assert bad.status == "output_limit"
    assert bad.message == "printed more than 4 KB of output"
    assert bad.output.startswith("flood")


def test_writing_to_the_stdout_descriptor_without_end_is_an_output_limit():
    bad, _ = misbehave_then_pass(
        "import os\nwhile True:\n    os.write(1, b'x' * 4096)", output_kb=16
    )
    assert bad.status == "output_limit"


def test_a_flood_that_catches_every_exception_is_still_an_output_limit():
    flood = (
        "while True:\n    try:\n        print('x' * 100)\n    except BaseException:\n        pass"
    )
    bad, _ = misbehave_then_pass(flood, output_kb=4)
    assert bad.status == "output_limit"


def test_a_program_flooding_stdout_is_an_output_limit(sandbox_mode):
    test = run(
        assessment(io("t", "", "y\n"), entry=None, output_kb=8), "while True:\n    print('y')\n"
    ).tests[0]
    assert test.status == "output_limit"


def test_result_lines_printed_or_written_to_descriptors_forge_nothing():
    forged = '{"e": "result", "i": 0, "status": "pass"}\n{"e": "done"}\n'
    code = (
        "import os, sys\n"
        "def solve():\n"
        f"    print({forged!r})\n"
        f"    sys.__stdout__.write({forged!r})\n"
        "    for fd in range(3, 64):\n"
        "        try:\n"
        f"            os.write(fd, {forged!r}.encode())\n"
        "        except OSError:\n"
        "            pass\n"
        "    return 'wrong'\n"
    )
    result = run(assessment(call("a", expected="right"), call("b", expected="right")), code)
    assert [t.status for t in result.tests] == ["fail", "fail"]
    assert result.score.passed == 0


def test_closing_the_result_pipe_is_an_error_not_a_hang():
    code = "import os\ndef solve():\n    os.closerange(3, 256)\n    return 1\n"
    result = run(assessment(call("a", expected=1), call("b", expected=1), time_ms=500), code)
    assert [t.status for t in result.tests] == ["error", "error"]
    assert "exited with code 0 during this test" in result.tests[0].message


def test_exiting_the_process_in_a_test_is_an_error_and_the_next_test_still_runs():
    bad, _ = misbehave_then_pass("import os\nos._exit(0)")
    assert bad.status == "error"
    assert "exited with code 0 during this test" in bad.message


def test_the_child_does_not_see_the_apps_secrets(monkeypatch, sandbox_mode):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-for-learners")
    monkeypatch.setenv("SUPABASE_ANON_KEY", "anon-test-key")
    code = "import os\ndef solve():\n    return sorted(os.environ)\n"
    result = run_one(code, call(expected="show me"))
    names = ast.literal_eval(result.actual)  # a repr of a list of names
    assert "OPENAI_API_KEY" not in names and "SUPABASE_ANON_KEY" not in names
    assert set(names) <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONIOENCODING",
        "PYTHONUTF8",
        "MALLOC_ARENA_MAX",
        "TERM",
        "NO_COLOR",
    }
    assert (
        "sk-test-not-for-learners"
        not in run_one(
            "import os\ndef solve():\n    return os.popen('env').read()\n", call(expected="show me")
        ).actual
    )


def test_home_is_a_fresh_folder_not_the_users():
    code = "import os\ndef solve():\n    return [os.environ['HOME'], os.path.expanduser('~')]\n"
    home, expanded = ast.literal_eval(run_one(code, call(expected="show me")).actual)
    assert home == expanded
    assert home != os.path.expanduser("~") and "learn-run-" in home


def test_the_working_folder_is_removed_after_the_run(sandbox_mode):
    code = (
        "import os\ndef solve():\n    open('left-behind.txt', 'w').write('x')\n"
        "    os.mkdir('locked')\n    os.chmod('locked', 0)\n    return os.getcwd()\n"
    )
    folder = ast.literal_eval(run_one(code, call(expected="show me")).actual)
    assert "learn-run-" in folder and not os.path.exists(folder)


def test_the_working_folder_is_removed_after_a_timeout():
    code = "import os\ndef solve():\n    print(os.getcwd())\n    while True:\n        pass\n"
    result = run_one(code, call(expected=1), time_ms=300)
    folder = result.output.strip()
    assert result.status == "timeout" and not os.path.exists(folder)


def test_a_big_file_is_refused():
    code = "def solve():\n    open('big', 'wb').write(b'x' * (20 << 20))\n"
    result = run_one(code, call(expected=None))
    assert result.status == "error" and "File too large" in result.message


def test_open_files_are_limited():
    code = "def solve():\n    return [open('/dev/null') for _ in range(10000)]\n"
    result = run_one(code, call(expected=None))
    assert result.status == "error" and "Too many open files" in result.message


def test_many_child_processes_all_die_with_the_run(sandbox_mode):
    marker = f"{7000 + os.getpid() % 1000}.{time.time_ns() % 10**6}"
    code = (
        "import os\n"
        "def solve():\n"
        "    for _ in range(40):\n"
        "        if os.fork() == 0:\n"
        f"            os.execvp('sleep', ['sleep', '{marker}'])\n"
        "    while True:\n"
        "        pass\n"
    )
    result = run_one(code, call(expected=1), time_ms=500)
    assert result.status == "timeout"
    if sandbox_mode == "strong":  # the namespace is gone when run() returns
        assert processes_running(marker) == []
    assert die_soon(marker)


@pytest.mark.skipif(os.geteuid() == 0, reason="RLIMIT_NPROC is not enforced for root")
def test_the_process_limit_stops_a_fork_bomb():
    if sandbox_strength() != "strong":
        pytest.skip("RLIMIT_NPROC is set only inside user namespaces")
    code = (
        "import os, time\n"
        "def solve():\n"
        "    for n in range(500):\n"
        "        try:\n"
        "            if os.fork() == 0:\n"
        "                time.sleep(5)\n"
        "                os._exit(0)\n"
        "        except OSError:\n"
        "            return n\n"
        "    return 'no limit'\n"
    )
    result = run_one(code, call(expected=0), time_ms=3000)
    assert result.status == "fail" and result.actual != "'no limit'"
    assert int(result.actual) < 100


def test_a_grandchild_that_escapes_with_setsid_dies_with_the_run():
    if sandbox_strength() != "strong":
        pytest.skip("only a PID namespace catches a process that left the group")
    marker = f"{8000 + os.getpid() % 1000}.{time.time_ns() % 10**6}"
    code = (
        "import subprocess, time\n"
        "def solve():\n"
        f"    subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
        "    time.sleep(1)\n"
        "    return 1\n"
    )
    seen: list[int] = []

    def watch() -> None:
        stop = time.monotonic() + 5
        while not seen and time.monotonic() < stop:
            seen.extend(processes_running(marker))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    result = run_one(code, call(expected=1), time_ms=3000)
    watcher.join()
    assert result.status == "pass"
    assert seen, "the grandchild was never seen running"
    assert not any(is_alive(pid) for pid in seen)
    assert processes_running(marker) == []


def test_there_is_no_network_in_the_strong_sandbox():
    if sandbox_strength() != "strong":
        pytest.skip("no network namespace in basic mode")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        code = (
            "import socket\ndef solve(port):\n    try:\n"
            "        socket.create_connection(('127.0.0.1', port), timeout=1).close()\n"
            "    except OSError:\n        return 'no network'\n    return 'connected'\n"
        )
        assert run_one(code, call(args=[port], expected="no network")).status == "pass"


def test_a_run_stops_starting_tests_when_its_time_budget_is_spent(monkeypatch):
    monkeypatch.setattr(execute, "_budget_s", lambda time_s: 0.3)
    tests = [call(f"t{i}", [i], i) for i in range(10)]
    result = run(
        assessment(*tests, time_ms=2000),
        "import time\ndef solve(x):\n    time.sleep(0.1)\n    return x\n",
    )
    assert result.tests[0].status == "pass"
    assert result.tests[-1].status == "error"
    assert result.tests[-1].message.startswith("not run: the tests used all the")


def test_runs_from_several_threads_do_not_mix():
    results: dict[int, str] = {}

    def one(n: int) -> None:
        code = f"def solve(x):\n    print('thread {n}')\n    return x * {n}\n"
        result = run(assessment(call("t", [2], 2 * n)), code)
        results[n] = f"{result.status}:{result.tests[0].output}"

    threads = [threading.Thread(target=one, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: f"pass:thread {n}\n" for n in range(1, 5)}


def test_a_workdir_is_private_to_the_user():
    with Workdir() as workdir:
        assert os.stat(workdir.path).st_mode & 0o077 == 0
    assert not os.path.exists(workdir.path)


def test_when_unshare_refuses_children_start_the_next_way(monkeypatch):
    unshare = need("unshare")
    refused = (unshare, "--no-such-option", "--")
    monkeypatch.setitem(sandbox._cache, "ways", [refused, ()])
    monkeypatch.setitem(sandbox._cache, "sure", False)
    result = run(assessment(call(args=[2], expected=4)), "def solve(x):\n    return x * 2\n")
    assert result.status == "pass"
    assert sandbox._cache["ways"] == [()] and sandbox._cache["sure"]
    assert sandbox_strength() == "basic"


def test_sandbox_strength_probes_the_ways_in_order(monkeypatch):
    unshare = need("unshare")
    strong = sandbox_strength() == "strong"
    working = list(sandbox._cache["ways"])
    monkeypatch.setitem(sandbox._cache, "ways", [(unshare, "--no-such-option", "--"), *working])
    monkeypatch.setitem(sandbox._cache, "sure", False)
    assert sandbox_strength() == ("strong" if strong else "basic")
    assert sandbox._cache["ways"] == working
