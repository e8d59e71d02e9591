"""Child processes for learner code: where they run, their limits, and their supervision.

Every child runs `_child.py` under `python -I -S` (no site, no user paths: ~10 ms)
and sets its own resource limits before any learner code runs; nothing is done between
fork and exec in this process (no preexec_fn: the app has threads).

What holds on every POSIX system ("basic"):
- its own session and process group, killed with SIGKILL after every run, whatever
  happened; a wall-clock deadline per test kept by this process (learner code cannot
  catch SIGKILL, so catching BaseException in an endless loop still ends as a timeout);
- RLIMIT_CPU (a backstop for the whole run), RLIMIT_AS (RLIMIT_DATA for node: V8 does
  not start under RLIMIT_AS), RLIMIT_FSIZE, RLIMIT_NOFILE and RLIMIT_CORE=0;
- an environment of only PATH, LANG, HOME and TMPDIR (both the run's own temporary
  working directory, deleted afterwards) and a few PYTHON* settings: no keys, no
  tokens, not the user's home;
- stdout and stderr drained together (selectors) and capped while reading.

Where unprivileged namespaces work (Linux) the child also runs inside `unshare --user
--map-root-user --pid --fork --kill-child --net [--mount-proc]` ("strong"): no network,
its own /proc, and when the run ends the namespace's first process dies and the kernel
kills every process in it, including grandchildren that escaped the process group with
setsid. There RLIMIT_NPROC bounds forks, counted inside the new user namespace. No probe
delays a run: the first child tries the strongest way, and if unshare refuses it, the
next (`sandbox_strength()` probes when no child has run yet).

Known gaps: RLIMIT_NPROC is not set in basic mode (it counts every process of the user,
so a low value would break the learner's program on a busy desktop) and it is never
enforced for root, even mapped from a user namespace; so as root a fork bomb is bounded
only by the wall clock and the kill. In basic mode a grandchild that calls setsid
survives the sweep (RLIMIT_CPU still ends it once it has used its CPU seconds), and
the app's own process is visible to learner code (it could signal it). macOS ignores
RLIMIT_AS. Learner code can read what the user can read: the point is to keep the app
responsive and secrets out of reach by accident, not to contain an attacker who is also
the person at the keyboard.

It stays one module (~480 lines, a third of it this page): how a child starts (the ways,
the namespaces), its limits and its supervision (`Child`) are one contract with
_child.py, and each guarantee above is read against the code that keeps it.
"""

from __future__ import annotations

import collections
import json
import marshal
import os
import select
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Any

# The child imports _child.py as a module so Python can use its cached bytecode (compiling
# it costs more than starting the interpreter), then takes this folder off sys.path again.
_HERE = os.path.dirname(os.path.abspath(__file__))
CHILD_BOOT = (
    f"import sys; sys.path.insert(0, {_HERE!r}); import _child; del sys.path[0]; "
    "sys.exit(_child.main())"
)
PROGRAMS = {"python": "python", "javascript": "node", "bash": "bash"}
FILE_BYTES = 8 << 20  # the biggest file learner code may write
OPEN_FILES = 256
PROCESSES = 64  # RLIMIT_NPROC in strong mode (node alone runs ~11 threads)
STARTUP_S = 15.0  # for an interpreter to start, even on a loaded machine
_CANCEL_TICK_S = 0.05  # how often a cancellable wait looks at its cancel event
_TICK_S = 0.02  # how often to look for a finished child where pidfd_open is missing

_ways_lock = threading.Lock()
_which_lock = threading.Lock()
_cache: dict[str, Any] = {}


def sandbox_strength() -> str:
    """'strong' when children run in their own user, PID and network namespaces (so every
    process they start dies with them and they have no network), else 'basic'. Probes
    once per process (a few ms) unless a child has already shown which way works."""
    with _ways_lock:
        ways = _ways()
        while not _cache["sure"]:
            if not ways[0] or _starts(ways[0]):
                _cache["sure"] = True
            else:
                ways.pop(0)
        return "strong" if ways[0] else "basic"


def _ways() -> list[tuple[str, ...]]:
    """How children may start, strongest first, as command prefixes; the last is () (basic).
    Children try the first; a way that fails is dropped (see Child). Call with the lock."""
    if "ways" not in _cache:
        ways: list[tuple[str, ...]] = [()]
        unshare = shutil.which("unshare") if sys.platform.startswith("linux") else None
        if unshare:
            base = (
                unshare,
                "--user",
                "--map-root-user",
                "--pid",
                "--fork",
                "--kill-child",
                "--net",
            )
            ways[:0] = [(*base, "--mount-proc", "--"), (*base, "--")]
        _cache["ways"], _cache["sure"] = ways, len(ways) == 1
    return _cache["ways"]


def _way() -> tuple[str, ...]:
    with _ways_lock:
        return _ways()[0]


def _way_works(way: tuple[str, ...]) -> None:
    with _ways_lock:
        if _ways()[0] == way:
            _cache["sure"] = True


def _way_fails(way: tuple[str, ...]) -> None:
    with _ways_lock:
        ways = _ways()
        if ways[0] == way and len(ways) > 1 and not _cache["sure"]:
            ways.pop(0)


def _starts(way: tuple[str, ...]) -> bool:
    true = shutil.which("true")
    if true is None:
        return False
    try:
        return (
            subprocess.run(
                [*way, true],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={"PATH": os.defpath},
                timeout=5,
                check=False,
            ).returncode
            == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def interpreter(language: str) -> str | None:
    """The program that runs `language` here, or None when it is not installed."""
    if language == "python":
        return sys.executable or None
    program = PROGRAMS.get(language)
    if program is None:
        return None
    with _which_lock:
        key = f"which:{program}"
        if key not in _cache:
            _cache[key] = shutil.which(program)
        return _cache[key]


def available_languages() -> list[str]:
    return [language for language in PROGRAMS if interpreter(language)]


def rlimits(memory_mb: int, cpu_s: float, language: str) -> list[tuple[str, int, int]]:
    """The limits a child sets on itself: (resource name, soft, hard). Child adds
    RLIMIT_NPROC when it starts in namespaces."""
    cpu = int(cpu_s) + 1
    memory = memory_mb << 20
    return [
        ("RLIMIT_CPU", cpu, cpu + 1),
        ("RLIMIT_DATA" if language == "javascript" else "RLIMIT_AS", memory, memory),
        ("RLIMIT_FSIZE", FILE_BYTES, FILE_BYTES),
        ("RLIMIT_NOFILE", OPEN_FILES, OPEN_FILES),
        ("RLIMIT_CORE", 0, 0),
    ]


class Workdir:
    """A private temporary folder for one run: the children's cwd, HOME and TMPDIR (one
    folder for all three: each mkdir and rmdir costs a run time)."""

    def __init__(self) -> None:
        base = os.environ.get("TMPDIR") or "/tmp"
        self.path = os.path.join(base, f"learn-run-{os.urandom(6).hex()}")
        os.mkdir(self.path, 0o700)
        lang = "en_US.UTF-8" if sys.platform == "darwin" else "C.UTF-8"
        self.env = {
            "PATH": os.environ.get("PATH") or os.defpath,
            "HOME": self.path,
            "TMPDIR": self.path,
            "LANG": lang,
            "LC_ALL": lang,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
            "PYTHONUTF8": "1",
            "MALLOC_ARENA_MAX": "2",
            "TERM": "dumb",
            "NO_COLOR": "1",
        }

    def write(self, name: str, data: str | bytes) -> str:
        path = os.path.join(self.path, name)
        with open(path, "wb") as f:
            # surrogatepass: code from an editor may hold anything, and must not raise here
            f.write(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
        return path

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if os.path.lexists(self.path):
            # Learner code took permissions away: give them back (not through symlinks).
            for root, dirs, _files in os.walk(self.path):
                for name in dirs:
                    path = os.path.join(root, name)
                    if not os.path.islink(path):
                        try:
                            os.chmod(path, 0o700)
                        except OSError:
                            pass
            shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> Workdir:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.remove()


class Child:
    """One sandboxed `_child.py` process: start it, wait for what it does, kill it.

    `wait(deadline)` returns the next of: ("event", dict) from the child's result pipe;
    ("output_limit", None) once stdout and stderr together pass `output_limit` bytes since
    the last `take_output()` (they are no longer read); ("exit", returncode); ("timeout",
    None) at `deadline` (time.monotonic()); ("cancelled", None) within _CANCEL_TICK_S of
    `cancel` being set. It never blocks past the deadline.
    """

    def __init__(
        self,
        workdir: Workdir,
        order: dict[str, Any],
        *,
        output_limit: int,
        stdin: str | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._workdir, self._order, self._stdin = workdir, order, stdin
        self._cancel = cancel
        self.output_limit = output_limit
        self._spawn()

    def _spawn(self) -> None:
        """Start the child (again, the next way, when unshare refused the last one)."""
        nonce = os.urandom(16).hex()
        self._prefix = nonce.encode() + b" "
        self.stdout = bytearray()  # the first `output_limit` bytes of each
        self.stderr = bytearray()
        self._fresh = bytearray()  # stdout and stderr since the last take_output()
        self._events: collections.deque[dict[str, Any]] = collections.deque()
        self._buffer = b""
        self._size = 0
        self.over = False
        self.returncode: int | None = None
        self._closed = False
        self._way = _way()
        self._heard = False  # from the child itself (then the way to start it works)
        order = {**self._order, "nonce": nonce}
        if self._way:  # counted inside the new user namespace: only the sandbox's processes
            order["rlimits"] = [*order["rlimits"], ("RLIMIT_NPROC", PROCESSES, PROCESSES)]
        read_end, write_end = os.pipe()
        order_file = self._order_file = self._workdir.write(
            f".order-{nonce[:8]}", marshal.dumps({**order, "fd": write_end})
        )
        argv = [
            *self._way,
            sys.executable,
            "-I",
            "-S",
            "-u",
            "-X",
            "utf8",
            "-c",
            CHILD_BOOT,
            order_file,
        ]
        stdin_file = open(self._stdin, "rb") if self._stdin is not None else None  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=stdin_file or subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self._workdir.path,
                env=self._workdir.env,
                start_new_session=True,
                pass_fds=(write_end,),
                close_fds=True,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
            if stdin_file is not None:
                stdin_file.close()
        self.started = time.monotonic()
        self._result = read_end
        self._out = self.proc.stdout.fileno()  # type: ignore[union-attr]
        self._err = self.proc.stderr.fileno()  # type: ignore[union-attr]
        self._selector = selectors.DefaultSelector()
        for fd in (read_end, self._out, self._err):
            os.set_blocking(fd, False)
            self._selector.register(fd, selectors.EVENT_READ)
        self._pidfd: int | None = None
        if hasattr(os, "pidfd_open"):
            try:
                self._pidfd = os.pidfd_open(self.proc.pid)
                self._selector.register(self._pidfd, selectors.EVENT_READ)
            except OSError:
                self._pidfd = None

    def wait(self, deadline: float) -> tuple[str, Any]:
        while True:
            if self._events:
                return "event", self._events.popleft()
            if self.over:
                return "output_limit", None
            if self.returncode is not None:
                return "exit", self.returncode
            if self._cancel is not None and self._cancel.is_set():
                return "cancelled", None
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout", None
            if self._pidfd is None:
                left = min(left, _TICK_S)
            if self._cancel is not None:
                left = min(left, _CANCEL_TICK_S)
            exited = False
            for key, _ in self._selector.select(left):
                if key.fd == self._pidfd:
                    exited = True
                else:
                    self._read(key.fd)
            if exited or (self._pidfd is None and self.proc.poll() is not None):
                self._finish()
                if self._unshare_refused():  # no user namespaces here? the next way, then
                    _way_fails(self._way)
                    if _way() != self._way:
                        self.close()
                        _unlink(self._order_file)  # never read: python did not start
                        self._spawn()

    def _unshare_refused(self) -> bool:
        """unshare exited with its own error (`unshare: ...`, or its path and a colon)
        before the child said a word."""
        if not self._way or self._heard:
            return False
        return self.stderr.startswith((b"unshare:", self._way[0].encode() + b":"))

    def take_output(self) -> str:
        """stdout and stderr that arrived since the last call (for the test that just ended:
        what is already in the pipes is read first) and restart the output count."""
        for fd in (self._out, self._err):
            self._drain(fd)
        data, self._fresh, self._size = bytes(self._fresh), bytearray(), 0
        return data.decode("utf-8", "replace")

    def kill(self) -> None:
        """SIGKILL everything the child started: its namespace (strong), its process group."""
        if self._way and self.returncode is None:
            self._kill_namespace()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _kill_namespace(self) -> None:
        """SIGKILL the namespace's first process (unshare's only child): the kernel then kills
        every process in the namespace, and unshare exits once they are all gone. Waiting for
        that means no learner process outlives the run, even one that left the group."""
        pid = self.proc.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                first = [int(p) for p in f.read().split()]
        except (OSError, ValueError):
            return
        for child in first:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass
        if first and self._pidfd is not None:
            select.select([self._pidfd], [], [], 5)  # unshare has exited: not reaped yet

    def close(self) -> None:
        """Kill whatever is left, reap the child and close every descriptor."""
        if self._closed:
            return
        self._closed = True
        self.kill()
        try:
            self.returncode = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._selector.close()
        for fd in (self._result, self._pidfd):
            if fd is not None:
                os.close(fd)
        self.proc.stdout.close()  # type: ignore[union-attr]
        self.proc.stderr.close()  # type: ignore[union-attr]

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _finish(self) -> None:
        """The child has exited: sweep its group, reap it, read what it left in the pipes."""
        self.kill()
        self.returncode = self.proc.wait()
        for fd in (self._result, self._out, self._err):
            self._drain(fd)  # what it wrote before it died (a grandchild may still write)

    def _drain(self, fd: int) -> None:
        """Read what is in the pipe now, without waiting."""
        while not self._closed and fd in self._selector.get_map() and self._read(fd):
            pass

    def _read(self, fd: int) -> bool:
        """One read from a ready (or drained) pipe; False when there was nothing to read."""
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return False
        if not data:
            self._selector.unregister(fd)
            return False
        if fd == self._result:
            self._buffer += data
            self._parse()
            return True
        room = self.output_limit - self._size
        self._size += len(data)
        kept = data[: max(room, 0)]
        stream = self.stdout if fd == self._out else self.stderr
        stream.extend(kept[: max(self.output_limit - len(stream), 0)])
        self._fresh.extend(kept)
        if self._size > self.output_limit:
            self.over = True  # stop reading: the caller kills the child
            for stream_fd in (self._out, self._err):
                if stream_fd in self._selector.get_map():
                    self._selector.unregister(stream_fd)
            return False
        return True

    def _parse(self) -> None:
        *lines, self._buffer = self._buffer.split(b"\n")
        if len(self._buffer) > 1 << 20:
            self._buffer = b""  # junk written to our pipe without a newline
        for line in lines:
            at = line.rfind(self._prefix)
            if at < 0:
                continue  # not from the harness: learner code wrote to the pipe
            try:
                event = json.loads(line[at + len(self._prefix) :])
            except ValueError:
                continue
            if isinstance(event, dict) and isinstance(event.get("e"), str):
                self._events.append(event)
                if not self._heard:
                    self._heard = True
                    _way_works(self._way)
