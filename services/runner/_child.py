"""The child side of services/runner: the only code that runs inside the sandbox.

Started as `python -I -S -u -X utf8 -c CHILD_BOOT ORDER_FILE` (see sandbox.py), which
imports this file as the top-level module `_child` (so its bytecode is cached) and calls
main(); the app never imports it. It reads its orders (marshal, written by the parent)
and deletes the file, sets its resource limits, tells the parent it is ready, and then

- "call":   runs the learner's module, then every call test in this one process;
- "python": runs the learner's program as __main__ (one io test, or "run my program");
- "exec":   replaces itself with another interpreter (node, bash), limits inherited.

Events go to the parent over a pipe of their own (the `fd` of the orders; not inherited by
anything this process starts), one line each: `NONCE {json}`, the nonce being the
parent's, unknown to the learner's code unless it digs through this process's memory.
Output is never parsed, so printing a result line forges nothing. Start-up time is part
of every run: this module imports only what Python has already loaded or built in, and
it stays one file (~410 lines) because each module more is a file to find and load in
every child.
"""

import _json
import _signal
import gc
import io
import marshal
import math
import os
import sys
import time

_encode = _json.encode_basestring_ascii
_clock = time.perf_counter
_SHOW = 1000  # characters of a repr sent back


class _Output(io.TextIOBase):
    """sys.stdout and sys.stderr in call mode. What the code prints goes to the parent as
    "out" events on the same pipe as the results, so it lands on the right test, and what
    was printed before a test hangs is not lost. A line is sent at once unless lines come
    faster than one per _GAP seconds: then they are gathered up to _CHUNK characters, so a
    print loop costs the parent a few events, not one per line. flush() sends at once.
    (os.write(1, ...) and child processes reach the real stdout, which the parent reads.)"""

    encoding = "utf-8"
    errors = "strict"
    _CHUNK = 4096
    _GAP = 0.002

    def __init__(self, send):
        self._send = send
        self._parts = []
        self._size = 0
        self._sent = 0.0

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if s:
            self._parts.append(s)
            self._size += len(s)
            if self._size >= self._CHUNK or ("\n" in s and _clock() - self._sent >= self._GAP):
                self.flush()
        return len(s)

    def start_test(self):
        self._sent = 0.0  # a test's first line is sent at once

    def flush(self):
        if self._parts:
            text, self._parts, self._size = "".join(self._parts), [], 0
            for start in range(0, len(text), self._CHUNK):
                self._send(e="out", t=text[start : start + self._CHUNK])
            self._sent = _clock()

    def writable(self):
        return True

    def isatty(self):
        return False


class _Sender:
    def __init__(self, fd, nonce):
        self.fd = fd
        self.prefix = nonce.encode("ascii") + b" "

    def __call__(self, **event):
        parts = []
        for key, value in event.items():
            if value is None:
                text = "null"
            elif value is True or value is False:
                text = "true" if value else "false"
            elif isinstance(value, (int, float)):
                text = repr(value)
            else:
                text = _encode(str(value))
            parts.append(_encode(key) + ":" + text)
        data = self.prefix + ("{" + ",".join(parts) + "}\n").encode("ascii")
        try:
            while data:
                data = data[os.write(self.fd, data) :]
        except OSError:
            pass  # the learner closed our pipe; the parent reports the missing results


def _limit(rlimits):
    import resource

    for name, soft, hard in rlimits:
        which = getattr(resource, name, None)
        if which is None:
            continue
        try:
            _, current_hard = resource.getrlimit(which)
            if current_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, current_hard), min(hard, current_hard)
            resource.setrlimit(which, (soft, hard))
        except (OSError, ValueError):
            pass  # e.g. macOS refuses some limits; the parent's wall clock still holds


def _show(value):
    try:
        text = repr(value)
    except BaseException:  # a learner's __repr__ may raise anything
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= _SHOW else text[:_SHOW] + "…"


def _describe(error, filename):
    """`Type: message (line N, in f)`, the line being the last one in the learner's file."""
    line = func = None
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename:
            line, func = tb.tb_lineno, code.co_name
        tb = tb.tb_next
    try:
        detail = str(error)
    except BaseException:
        detail = ""
    text = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    if line is not None:
        text += f" (line {line})" if func == "<module>" else f" (line {line}, in {func})"
    if isinstance(error, EOFError):
        text += ": call tests give no input, so take values from the function's arguments"
    elif isinstance(error, SystemExit):
        text += ": the function called exit(); return a value instead"
    return text if len(text) <= _SHOW else text[:_SHOW] + "…"


def _syntax(error):
    kind = type(error).__name__
    if isinstance(error, SyntaxError) and error.lineno:
        return f"{kind} on line {error.lineno}: {error.msg}"
    return f"{kind}: {error}"


# --- comparing results (the expected value is plain data: TOML/JSON types) ---------------

_NUMBER = (int, float)


def _equal(expected, actual, approx=False):
    """Equal as data: no custom __eq__ consulted, a tuple may stand for a list, 1 == 1.0.
    With `approx`, numbers match within math.isclose(rel_tol=1e-6, abs_tol=1e-9)."""
    kind = type(expected)
    if expected is None:
        return actual is None
    if kind is bool:
        return type(actual) is bool and actual is expected
    if kind in _NUMBER:
        return type(actual) in _NUMBER and (
            actual == expected
            or (approx and math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-9))
        )
    if kind is str:
        return type(actual) is str and actual == expected
    if kind is list:
        return (
            type(actual) in (list, tuple)
            and len(actual) == len(expected)
            and all(_equal(e, a, approx) for e, a in zip(expected, actual, strict=True))
        )
    if kind is dict:
        return (
            type(actual) is dict
            and len(actual) == len(expected)
            and all(type(k) is str for k in actual)
            and all(k in actual and _equal(v, actual[k], approx) for k, v in expected.items())
        )
    return False


class _Unhashable(Exception):
    pass


def _key(value):
    """A hashable stand-in with _equal's equality, for counting elements."""
    kind = type(value)
    if value is None or kind is str:
        return (kind.__name__, value)
    if kind is bool:
        return ("bool", value)
    if kind in _NUMBER:
        return ("number", value)
    if kind in (list, tuple):
        return ("list", tuple(_key(v) for v in value))
    if kind is dict and all(type(k) is str for k in value):
        return ("dict", tuple(sorted((k, _key(v)) for k, v in value.items())))
    raise _Unhashable


def _unordered(expected, actual):
    """The same elements in any order (a multiset compare); a set may stand for a list."""
    if type(actual) not in (list, tuple, set, frozenset) or len(actual) != len(expected):
        return False
    counts = {}
    try:
        for value in expected:
            key = _key(value)
            counts[key] = counts.get(key, 0) + 1
        for value in actual:
            key = _key(value)
            if not counts.get(key):
                return False
            counts[key] -= 1
    except _Unhashable:
        return False
    return True


_COMPARE = {
    "exact": _equal,
    "approx": lambda e, a: _equal(e, a, approx=True),
    "unordered": _unordered,
}


# --- modes -------------------------------------------------------------------------------


def _module_for(filename, name):
    """A fresh module `name` for the learner's file to run in, as Python would make it."""
    module = type(sys)(name)
    module.__file__ = os.path.abspath(filename)
    sys.modules[name] = module
    sys.argv = [filename]
    return module


def _run_calls(order, send):
    filename = order["filename"]
    module = _module_for(filename, "solution")
    output = sys.stdout = sys.stderr = _Output(send)
    problem = kind = code = None
    try:
        code = compile(order["code"], filename, "exec")
    except (SyntaxError, ValueError) as e:
        kind, problem = "syntax", _syntax(e)
    try:
        if code is not None:
            exec(code, module.__dict__)
    except MemoryError:
        kind, problem = "memory", "your code ran out of memory while loading"
    except BaseException as e:
        kind, problem = "exception", "while loading your code: " + _describe(e, filename)
    entry_name = order["entry"]
    entry = module.__dict__.get(entry_name)
    if problem is None and entry is None:
        kind, problem = (
            "entry",
            (f"your code has no function named `{entry_name}`: define def {entry_name}(...)"),
        )
    elif problem is None and not callable(entry):
        kind, problem = "entry", f"`{entry_name}` is not a function: define def {entry_name}(...)"
    output.flush()
    if problem is not None:
        gc.collect()
        send(e="load_error", kind=kind, message=problem)
        return
    send(e="loaded")
    for index, _name, args, kwargs, expected, compare in order["tests"]:
        output.start_test()
        _run_test(
            send,
            output,
            entry,
            entry_name,
            filename,
            index,
            marshal.loads(args),
            marshal.loads(kwargs),
            expected,
            compare,
        )
    send(e="done")


def _run_test(send, output, entry, entry_name, filename, index, args, kwargs, expected, compare):
    status = message = actual = None
    started = _clock()
    try:
        actual = entry(*args, **kwargs)
    except MemoryError:
        status = "memory_limit"
    except BaseException as e:
        status, message = "error", _describe(e, filename)
    duration = (_clock() - started) * 1000
    shown = {}
    if status is None:
        try:
            expected_value = marshal.loads(expected)
            passed = _COMPARE[compare](expected_value, actual)
        except BaseException as e:
            status, message = "error", "comparing your result failed: " + _describe(e, filename)
        else:
            status = "pass" if passed else "fail"
            if not passed:
                shown = {"expected": _show(expected_value), "actual": _show(actual)}
                call = _show_call(entry_name, args, kwargs)
                message = f"{call} returned {shown['actual']}, expected {shown['expected']}"
    actual = None
    if status == "memory_limit":
        gc.collect()
    try:
        output.flush()
    except BaseException:
        pass  # e.g. a MemoryError while joining what was printed
    send(e="result", i=index, status=status, message=message, ms=round(duration, 3), **shown)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _show_call(entry_name, args, kwargs):
    parts = [_show(a) for a in args] + [f"{k}={_show(v)}" for k, v in kwargs.items()]
    call = f"{entry_name}({', '.join(parts)})"
    return call if len(call) <= 300 else call[:300] + "…)"


def _run_program(order, send):
    filename = order["filename"]
    main = _module_for(filename, "__main__")
    status = 0
    try:
        code = compile(order["code"], filename, "exec")
    except (SyntaxError, ValueError) as e:
        send(e="syntax", message=_syntax(e))
        sys.__excepthook__(type(e), e, None)
        return 1
    try:
        exec(code, main.__dict__)
    except SystemExit as e:
        status = _exit_status(e.code)
    except MemoryError:
        send(e="memory")
        status = 1
    except BaseException as e:
        send(e="exception", message=_describe(e, filename))
        if e.__traceback__ is not None:  # leave this file's frame out of the traceback
            e = e.with_traceback(e.__traceback__.tb_next)
        sys.__excepthook__(type(e), e, e.__traceback__)
        status = 1
    _flush()
    return status


def _exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    try:
        print(code, file=sys.stderr)
    except BaseException:
        pass
    return 1


def main():
    path = sys.argv[1]
    with open(path, "rb") as f:
        order = marshal.load(f)
    os.unlink(path)
    fd = order["fd"]
    os.set_inheritable(fd, False)
    send = _Sender(fd, order["nonce"])
    _limit(order["rlimits"])
    if hasattr(_signal, "SIGXFSZ"):  # too big a file: an OSError, not a dead process
        _signal.signal(_signal.SIGXFSZ, _signal.SIG_IGN)
    send(e="ready")
    mode = order["mode"]
    if mode == "call":
        _run_calls(order, send)
        return 0
    if mode == "python":
        return _run_program(order, send)
    argv = order["argv"]
    try:
        os.execve(argv[0], argv, os.environ)
    except OSError as e:
        send(e="exception", message=f"cannot start {argv[0]}: {e.strerror or e}")
    return 127
