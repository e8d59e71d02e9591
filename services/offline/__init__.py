"""Offline: nothing lost, nothing misrecorded.

    backend.OfflineBackend   wraps any Backend and is one: reads served from the read
                             cache when the server is unreachable, writes appended to the
                             outbox first and replayed in order, once (what it needs of
                             the backend beyond Backend is typed in services.data.protocol)
    replay.Replayer          sends the outbox (in batches where the backend takes them)
                             and runs the background flusher
    outbox.Outbox            the durable queue of writes (OutboxEvent, QUEUED_WRITES)
    cache.ReadCache          results of screen-shaped reads per learner (CACHED_READS)
    status.SyncStatus        what the status bar shows; FlushReport, Link
    download.download_course "make available offline": a course into the read cache
    basics                   canonical_json, timestamps, reraise
    store.SharedFile         the SQLite files every `learn` process shares (one connection
                             per file per process, WAL, damaged files moved aside)

Import the module you need; this package imports nothing.
"""
