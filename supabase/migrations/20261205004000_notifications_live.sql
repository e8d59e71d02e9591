-- Live notifications: a new notification is announced as it commits.
--
-- On plain PostgreSQL (the embedded database, DATABASE_URL) the app LISTENs on
-- channel `learn_notifications`. NOTIFY has no RLS and any session may LISTEN, so the
-- payload carries ids only — {"user_id": …, "id": …} — and the app reads the row
-- through RLS as the learner (notifications_list). Delivered on commit, never for a
-- rolled-back insert.
--
-- On Supabase the app subscribes through Realtime to postgres_changes on
-- public.notifications filtered by user_id (Realtime checks the subscriber's RLS):
-- the table is added to the `supabase_realtime` publication where it exists.

create or replace function private.announce_notification()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.pg_notify('learn_notifications',
    pg_catalog.json_build_object('user_id', new.user_id, 'id', new.id)::text);
  return null;
end;
$$;

revoke all on function private.announce_notification() from public;

create trigger notifications_announce
  after insert on public.notifications
  for each row execute function private.announce_notification();

do $$
begin
  if exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime')
     and not exists (select 1 from pg_catalog.pg_publication_tables
                     where pubname = 'supabase_realtime' and schemaname = 'public'
                       and tablename = 'notifications') then
    alter publication supabase_realtime add table public.notifications;
  end if;
end;
$$;
