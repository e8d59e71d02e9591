"""Offline: nothing lost, nothing misrecorded.

    backend.OfflineBackend   wraps any Backend: reads served from the ReadCache when the
                             server is unreachable, writes appended to the Outbox first and
                             replayed in order, once; SyncStatus; download_course
    store.SharedFile         the SQLite files every `learn` process shares (one connection
                             per file per process, WAL, damaged files moved aside)

Import the module you need; this package imports nothing.
"""
