"""Several `learn` processes on one offline queue and one read cache — real processes, real
SIGKILL, real PostgreSQL (tests/services/outbox_procs.py holds the child programs)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from services.data.backend import LocalBackend
from services.offline.backend import OfflineBackend
from services.offline.cache import ReadCache
from services.offline.outbox import Outbox
from services.offline.store import open_files, take_notices
from tests.services.outbox_procs import ROOT, drain_and_compare, run_rounds

T0 = "2026-01-01T00:00:00+00:00"


async def _sign_up(url: str, home: Path) -> str:
    backend = OfflineBackend(
        LocalBackend(url, migrate=False, session_path=home / "session.json"),
        cache=ReadCache(home / "reads.sqlite3"),
        outbox=Outbox(home / "outbox.sqlite3"),
    )
    try:
        user = await backend.sign_up(None, None, full_name="Ada")
    finally:
        await backend.close()
    return user.id


@pytest.mark.slow
async def test_two_writers_and_repeated_syncs_killed_20_times_lose_and_double_nothing(
    db_url, tmp_path
):
    home = tmp_path / "home"
    home.mkdir()
    await _sign_up(db_url, home)
    result = await asyncio.to_thread(run_rounds, db_url, home, 20, seed=14)
    print(result.line())
    assert not result.errors, result.errors[0]
    # (Loose floors: the point is that writes and whole syncs happened between kills.)
    assert result.rounds == 20 and len(result.acked) >= 20 and result.syncs >= 1, result.line()
    assert result.invisible == [], result.line()
    await drain_and_compare(db_url, home, result)
    print(result.line())
    assert (result.lost, result.doubled, result.stray) == ([], [], []), result.line()
    with contextlib.closing(sqlite3.connect(home / "outbox.sqlite3")) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


async def test_a_change_queued_by_one_process_is_seen_by_another_at_once(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    mine = Outbox(path)
    try:
        for i in range(5):
            event_id = str(uuid.uuid4())
            code = (
                f"from services.offline.outbox import Outbox\n"
                f"o = Outbox({str(path)!r})\n"
                f"o.append('ns', 'u1', 'log_chat', {{'p_event_id': {event_id!r},"
                f" 'p_occurred_at': '2026-01-01T00:00:00+00:00', 'p_question': 'q{i}'}})\n"
                f"o.close()\n"
            )
            subprocess.run(
                [sys.executable, "-c", code],
                cwd=ROOT,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            assert mine.get(event_id) is not None
            assert mine.count("ns", "u1") == i + 1
    finally:
        mine.close()


def test_a_process_opens_each_shared_file_once_however_many_users_it_has(tmp_path):
    before = open_files()
    first, second = Outbox(tmp_path / "o.sqlite3"), Outbox(tmp_path / "o.sqlite3")
    cache = ReadCache(tmp_path / "r.sqlite3")
    try:
        assert open_files() == before + 2
        first.append("ns", "u", "log_chat", {"p_event_id": "e1", "p_occurred_at": T0})
        assert second.get("e1") is not None
    finally:
        first.close()
        assert second.get("e1") is not None  # still open for the other user
        second.close()
        cache.close()
    assert open_files() == before


def _damage(path: Path) -> None:
    """Overwrite the middle of the file's pages (b-tree pages, after the header page)."""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(b"\xde\xad\xbe\xef" * ((size - 4096) // 4))


def _filled(path: Path, n: int) -> None:
    outbox = Outbox(path)
    for i in range(n):
        outbox.append(
            "ns",
            "u",
            "log_chat",
            {"p_event_id": f"e{i}", "p_occurred_at": T0, "p_question": "q" * 500},
        )
    outbox.close()


def test_a_damaged_queue_is_moved_aside_with_a_timestamp_and_a_fresh_one_is_used(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    _filled(path, 40)
    _damage(path)
    take_notices()
    outbox = Outbox(path)
    try:
        [aside] = [
            p
            for p in tmp_path.iterdir()
            if ".damaged-" in p.name and not p.name.endswith(("-wal", "-shm"))
        ]
        assert aside.name.startswith("outbox.sqlite3.damaged-20")
        [notice] = take_notices()
        assert str(aside) in notice and "\n" not in notice
        outbox.append("ns", "u", "log_chat", {"p_event_id": "new", "p_occurred_at": T0})
        assert outbox.get("new") is not None
    finally:
        outbox.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_the_events_still_readable_in_a_damaged_queue_are_kept(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    _filled(path, 40)
    # No Outbox has it open in this process now: a plain connection is safe.
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
        page_size = conn.execute("pragma page_size").fetchone()[0]
        index_root = conn.execute(
            "select rootpage from sqlite_master where name = 'events_by_status'"
        ).fetchone()[0]
    with open(path, "r+b") as f:  # the index's page only: the rows are intact
        f.seek((index_root - 1) * page_size)
        f.write(b"\xde\xad" * (page_size // 2))
    take_notices()
    outbox = Outbox(path)
    try:
        [notice] = take_notices()
        assert "40 entries recovered" in notice
        assert outbox.count("ns", "u") == 40
        assert [e.event_id for e in outbox.queued("ns", "u", 50)] == [f"e{i}" for i in range(40)]
    finally:
        outbox.close()


def test_a_file_that_is_not_a_database_is_moved_aside_not_deleted(tmp_path):
    path = tmp_path / "reads.sqlite3"
    path.write_bytes(b"this is not sqlite " * 300)
    take_notices()
    cache = ReadCache(path)
    try:
        cache.put("s", "catalog", {}, {"ok": True})
        assert cache.get("s", "catalog", {}).result == {"ok": True}
    finally:
        cache.close()
    [aside] = [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert aside.read_bytes() == b"this is not sqlite " * 300
    assert "read cache was damaged" in take_notices()[0]


def test_learn_sync_on_a_damaged_queue_says_so_in_one_line_and_goes_on(tmp_path):
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "data" / "outbox.sqlite3").write_bytes(b"garbage" * 1000)
    env = {
        **os.environ,
        "LEARN_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none?connect_timeout=1",
    }
    run = subprocess.run(
        [sys.executable, "-m", "tui.cli", "sync"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in run.stderr + run.stdout
    damaged = [line for line in run.stderr.splitlines() if "damaged" in line]
    assert len(damaged) == 1 and "outbox.sqlite3.damaged-" in damaged[0], run.stderr
    assert list((home / "data").glob("outbox.sqlite3.damaged-*"))


def test_a_damaged_file_found_while_in_use_is_replaced_not_raised(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path)
    try:
        outbox.append("ns", "u", "log_chat", {"p_event_id": "before", "p_occurred_at": T0})
        # Another process moves it aside and leaves garbage in its place.
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{path}{suffix}").exists():
                os.replace(f"{path}{suffix}", f"{path}.old{suffix}")
        path.write_bytes(b"garbage" * 1000)
        take_notices()
        outbox.append("ns", "u", "log_chat", {"p_event_id": "after", "p_occurred_at": T0})
        assert outbox.get("after") is not None
        assert any("damaged" in line for line in take_notices())
    finally:
        outbox.close()


def test_the_server_records_an_event_once_when_two_processes_replay_it_at_once(db_url, db):
    """Two connections run the same replay at the same moment (what two processes syncing
    without the replay lock would do): one row, the other answer is `replayed`."""
    user = db.new_user()
    event_id = str(uuid.uuid4())
    claims = f'{{"sub": "{user}", "role": "authenticated"}}'
    first, second = psycopg.connect(db_url), psycopg.connect(db_url)
    try:
        answers = []
        for conn in (first, second):
            conn.execute("set role authenticated")
            conn.execute("select set_config('request.jwt.claims', %s, false)", (claims,))
        # The first holds its transaction open; the second's insert waits for it.
        answers.append(
            first.execute(
                "select public.log_chat(p_question => 'twice', p_answer => null,"
                " p_event_id => %s::uuid)",
                (event_id,),
            ).fetchone()[0]
        )

        async def second_call():
            return await asyncio.to_thread(
                lambda: second.execute(
                    "select public.log_chat(p_question => 'twice', p_answer => null,"
                    " p_event_id => %s::uuid)",
                    (event_id,),
                ).fetchone()[0]
            )

        async def both():
            task = asyncio.create_task(second_call())
            await asyncio.sleep(0.3)
            assert not task.done()  # waiting on the first one's row
            first.commit()
            return await task

        answers.append(asyncio.run(both()))
        second.commit()
    finally:
        first.close()
        second.close()
    assert [a["replayed"] for a in answers] == [False, True]
    with psycopg.connect(db_url) as conn:
        assert (
            conn.execute(
                "select count(*) from public.chat_history where user_id = %s"
                " and question = 'twice'",
                (user,),
            ).fetchone()[0]
            == 1
        )


HOLDER = r"""
import sys
from services.offline.outbox import Outbox
o = Outbox(sys.argv[1])
o.append("ns", "u", "log_chat", {"p_event_id": "theirs", "p_occurred_at": sys.argv[2]})
print("ready", flush=True)
sys.stdin.readline()
o.close()
"""


def test_a_queue_moved_aside_by_another_process_is_left_without_harming_the_new_one(tmp_path):
    """This process has the queue open when another one finds it damaged and moves it
    aside. Leaving the old file must not delete the new file's WAL (closing the last
    connection of a file deletes `<name>-wal` by name, unless SQLite sees that the file
    has moved): the other process's change, still only in that WAL, stays visible."""
    path = tmp_path / "outbox.sqlite3"
    mine = Outbox(path)
    mine.append("ns", "u", "log_chat", {"p_event_id": "mine", "p_occurred_at": T0})
    # Damaged on disk under us, in a way that still lets our connection checkpoint (and
    # so delete the WAL by name when it closes): an index page, after a checkpoint.
    page_size, index_root = mine._file.read(
        lambda db: (
            db.execute("pragma wal_checkpoint(truncate)").fetchone(),
            db.execute("pragma page_size").fetchone()[0],
            db.execute(
                "select rootpage from sqlite_master where name = 'events_by_status'"
            ).fetchone()[0],
        )[1:]
    )
    with open(path, "r+b") as f:
        f.seek((index_root - 1) * page_size)
        f.write(b"\xde\xad" * (page_size // 2))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), T0],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()
        assert Path(f"{path}-wal").exists()
        # Our next use notices the file changed, leaves the old one, opens the new one.
        assert mine.get("theirs") is not None
        assert Path(f"{path}-wal").exists()
        code = (
            "import sys\nfrom services.offline.outbox import Outbox\n"
            f"o = Outbox({str(path)!r})\nprint(o.get('theirs') is not None)\n"
        )
        other = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            text=True,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert other.stdout.strip() == "True", other.stderr
    finally:
        holder.communicate("\n", timeout=30)
        mine.close()


async def test_two_replays_of_one_queue_at_once_record_each_event_once(
    db_url, db, tmp_path, monkeypatch
):
    """Without the replay lock (as if one replay waited for it past REPLAY_LOCK_WAIT):
    both send the same batches at the same time; the server keeps one of each."""
    import services.offline.replay as replay

    monkeypatch.setattr(replay, "REPLAY_LOCK_WAIT", 0.0)
    home = tmp_path / "home"
    home.mkdir()
    await _sign_up(db_url, home)
    backends = [
        OfflineBackend(
            LocalBackend(db_url, migrate=False, session_path=home / "session.json"),
            cache=ReadCache(home / "reads.sqlite3"),
            outbox=Outbox(home / "outbox.sqlite3"),
        )
        for _ in range(2)
    ]
    try:
        for backend in backends:
            await backend.connect()
        first = backends[0]
        user = first.current_user.id
        questions = [f"twice at once {i}" for i in range(200)]
        for question in questions:
            first.outbox.append(
                first.namespace,
                user,
                "log_chat",
                {
                    "p_event_id": str(uuid.uuid4()),
                    "p_occurred_at": T0,
                    "p_question": question,
                    "p_answer": None,
                },
            )
        reports = await asyncio.gather(*(b.flush() for b in backends))
        for _ in range(10):
            if not (await first.flush()).waiting:
                break
    finally:
        for backend in backends:
            await backend.close()
    # Both did send (some of) the same events; the server applied each once.
    assert sum(r.sent + r.already_applied for r in reports) > len(questions), reports
    assert sum(r.sent for r in reports) <= len(questions)
    rows = db.su(
        "select question, count(*) as n from public.chat_history"
        " where user_id = %s group by question",
        (user,),
    )
    assert {r["question"]: r["n"] for r in rows} == dict.fromkeys(questions, 1)
