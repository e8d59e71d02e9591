"""Data access: one API over two backends, and the embedded database.

    api.LearningAPI           typed methods, one per screen-shaped SQL function
    models                    the answers' dataclasses and `build` (strict in the tests)
    protocol.Backend          the seam: the Backend protocol, BatchBackend and call_batch,
                              CurrentUser, check_identifier, json_default
    local.LocalBackend        psycopg, each call run as PostgREST runs a request;
                              local_accounts: its accounts in auth.users
    supabase.SupabaseBackend  supabase-py (PostgREST, GoTrue, Realtime)
    backend                   backend_from_settings; re-exports the names above
    signatures                how PostgREST finds a function and casts its JSON arguments
    postgrest                 the request settings PostgREST makes (role, claims)
    database.EmbeddedPostgres the embedded server; migrate() applies supabase/migrations/
    seed                      the bundled courses, published as their author
    startup                   the start-up checks, declared once (the usual start and
                              the head start both derive from them)
    headstart                 the first dashboard fetched by psql while Textual loads
    session.SessionStore      the session file (0600); local_auth: scrypt passwords
    oauth                     provider sign-in with PKCE and a loopback redirect
    live                      live notifications (LISTEN/NOTIFY; Realtime: RealtimeWatch)

Import the module you need (`from services.data.api import LearningAPI`): this package
imports nothing, so loading one module never loads the others.
"""
