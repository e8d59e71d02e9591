"""The log file: `learn.log` in the platform's log folder (LEARN_HOME/log with LEARN_HOME).

    setup()       once per process (`learn` and every command): warnings and errors of the
                  "learn" loggers — unexpected errors with their traceback and the short
                  reference the learner sees (services.errors.unexpected) — go to a rotating
                  file (1 MB × 3), mode 0600. Idempotent.
    log_file()    where it is (`learn doctor` prints it).

Secrets never reach the file: every record's text (message, arguments and traceback) is
passed through `redact`, which masks JWTs, bearer tokens, API keys, passwords in
connection strings and the values of the secret settings in the environment.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

MAX_BYTES = 1_000_000
BACKUPS = 3
_SECRET_ENV = (
    "SUPABASE_ANON_KEY",
    "SUPABASE_SERVICE_ROLE_KEY",
    "OPENAI_API_KEY",
    "DATABASE_URL",
    "LEARN_PASSWORD",
)
_PATTERNS = [
    # JWTs (Supabase keys, access tokens): three base64url parts
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), "[jwt]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1[token]"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), "[api key]"),
    (re.compile(r"\bsb_(?:secret|publishable)_[A-Za-z0-9_-]{8,}"), "[api key]"),
    # scheme://user:password@host → scheme://user:[password]@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@"), r"\1[password]@"),
    (
        re.compile(
            r"(?i)\b(password|passwd|pwd|api_key|apikey|refresh_token|access_token"
            r"|secret)(\s*[=:]\s*|['\"]\s*:\s*['\"])([^\s'\",&]+)"
        ),
        r"\1\2[hidden]",
    ),
]
_handler: _LogFile | None = None


def log_dir() -> Path:
    home = os.environ.get("LEARN_HOME")
    if home:
        path = Path(home).expanduser() / "log"
    else:
        import platformdirs

        path = Path(platformdirs.PlatformDirs("learn", appauthor=False).user_log_dir)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def log_file() -> Path:
    return log_dir() / "learn.log"


def current_file() -> Path | None:
    """The log file, if setup() has been called in this process."""
    return Path(_handler.baseFilename) if _handler is not None else None


def redact(text: str) -> str:
    """`text` with every secret we know the shape or the value of masked."""
    for name in _SECRET_ENV:
        value = os.environ.get(name)
        if value and len(value) >= 6:
            text = text.replace(value, f"[{name.lower()}]")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _rotating_file(path: Path) -> logging.Handler:
    """A rotating file created 0600 (and every rotated one). A record that cannot be
    written is dropped quietly: logging must never break the app or garble the screen."""
    import logging.handlers

    class PrivateRotatingFile(logging.handlers.RotatingFileHandler):
        def handleError(self, record: logging.LogRecord) -> None:
            pass

        def _open(self):
            fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    return PrivateRotatingFile(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
    )


class _LogFile(logging.Handler):
    """The log file, made on the first record: logging.handlers (and what it imports)
    costs start-up time that a run with nothing to log should not pay."""

    def __init__(self, path: Path, level: int):
        super().__init__(level)
        self.baseFilename = str(path)
        self._file: logging.Handler | None = None
        self.setFormatter(_Redacting("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._file is None:
                self._file = _rotating_file(Path(self.baseFilename))
                self._file.setFormatter(self.formatter)
            self._file.handle(record)
        except Exception:  # never break the app over its log
            pass

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


def setup(level: int = logging.WARNING) -> Path | None:
    """Send the "learn" loggers' records at `level` and above to the log file. Returns
    its path, or None if its folder cannot be made (then nothing is logged: never a
    crash)."""
    global _handler
    if _handler is not None:
        return Path(_handler.baseFilename)
    try:
        path = log_file()
    except OSError:
        return None
    handler = _LogFile(path, level)
    logger = logging.getLogger("learn")
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > level:  # only ever lowered: never hide records
        logger.setLevel(level)
    _handler = handler
    return path


def shutdown() -> None:
    """Stop writing the log file (tests; a process that changes LEARN_HOME)."""
    global _handler
    handler, _handler = _handler, None
    if handler is not None:
        logging.getLogger("learn").removeHandler(handler)
        handler.close()
