"""Data access: one API over two backends, and the embedded database.

    api.LearningAPI           typed methods, one per screen-shaped SQL function
    backend.Backend           the protocol; LocalBackend (psycopg, as PostgREST runs a
                              request), SupabaseBackend (supabase-py); backend_from_settings
    postgrest                 the request settings PostgREST makes (role, claims)
    database.EmbeddedPostgres the embedded server; migrate() applies supabase/migrations/
    seed                      the bundled courses, published as their author
    headstart                 the first dashboard fetched by psql while Textual loads
    session.SessionStore      the session file (0600); local_auth: scrypt passwords
    oauth                     provider sign-in with PKCE and a loopback redirect
    live                      live notifications (LISTEN/NOTIFY, Realtime)

Import the module you need (`from services.data.api import LearningAPI`): this package
imports nothing, so loading one module never loads the others.
"""
