-- Phase 1: core tables — profiles, courses, lessons, course_enrollments —
-- plus what every later phase uses: the private schema, updated_at maintenance,
-- the activity clock and the append-only audit trail.
--
-- Conventions (see DESIGN.md, "Database contract"):
-- * every table has RLS; every policy reads the caller through (select auth.uid());
-- * privileges are granted explicitly, per column where a client may only touch some;
-- * SECURITY DEFINER functions live in `private` (not exposed by the API), use
--   search_path = '' with qualified names, and execute is revoked from public.

create schema if not exists private;
revoke all on schema private from public;
-- Policies call a few helpers in `private`; the API roles need to reach them.
grant usage on schema private to anon, authenticated, service_role;
alter default privileges in schema private revoke execute on functions from public;

-- ---------------------------------------------------------------------------
-- Shared helpers
-- ---------------------------------------------------------------------------

create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

-- When the learner's activity happened. Writes replayed from an offline outbox set
-- `learn.occurred_at` (transaction-local) to the time the learner acted; it is
-- trusted only within the last 48 hours and never in the future, so nobody can
-- back-date a streak.
create or replace function private.activity_time()
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
declare
  claimed timestamptz;
begin
  begin
    claimed := nullif(current_setting('learn.occurred_at', true), '')::timestamptz;
  exception when others then
    claimed := null;
  end;
  return least(now(), greatest(now() - interval '48 hours', coalesce(claimed, now())));
end;
$$;

create or replace function private.is_valid_timezone(tz text)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  if tz is null or char_length(tz) > 64 then
    return false;
  end if;
  perform now() at time zone tz;
  return true;
exception when others then
  return false;
end;
$$;

-- ---------------------------------------------------------------------------
-- Audit trail: append-only, written by triggers only.
-- ---------------------------------------------------------------------------

create table public.audit_log (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  actor_id uuid,                 -- auth.uid() of the caller; null for the database itself
  actor_role text,               -- anon / authenticated / service_role / a database role
  action text not null,          -- e.g. course.published, enrollment.status, attempt.submitted
  table_name text not null,
  row_id uuid,
  subject_user_id uuid,          -- the learner the entry is about (they may read it)
  course_author_id uuid,         -- the author of the course it is about (they may read it)
  old_data jsonb,
  new_data jsonb
);

create index audit_log_subject_user_id_idx on public.audit_log (subject_user_id, occurred_at desc);
create index audit_log_course_author_id_idx on public.audit_log (course_author_id, occurred_at desc);

create or replace function private.audit(
  p_action text,
  p_table text,
  p_row_id uuid,
  p_subject_user_id uuid,
  p_course_author_id uuid,
  p_old jsonb,
  p_new jsonb
)
returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.audit_log
    (actor_id, actor_role, action, table_name, row_id, subject_user_id, course_author_id,
     old_data, new_data)
  values
    (auth.uid(), coalesce(nullif(auth.role(), ''), current_user), p_action, p_table, p_row_id,
     p_subject_user_id, p_course_author_id, p_old, p_new)
$$;

create or replace function private.audit_log_is_append_only()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'the audit log is append-only: entries cannot be changed or removed'
    using errcode = '42501';
end;
$$;

create trigger audit_log_no_update_or_delete
  before update or delete on public.audit_log
  for each row execute function private.audit_log_is_append_only();
create trigger audit_log_no_truncate
  before truncate on public.audit_log
  for each statement execute function private.audit_log_is_append_only();

-- ---------------------------------------------------------------------------
-- profiles
-- ---------------------------------------------------------------------------

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text check (char_length(email) <= 320),
  full_name text check (char_length(full_name) <= 200),
  avatar_url text check (char_length(avatar_url) <= 2048),
  bio text check (char_length(bio) <= 2000),
  learning_goals text[] not null default '{}'
    check (cardinality(learning_goals) <= 20
           and char_length(array_to_string(learning_goals, '')) <= 2000),
  preferred_language text not null default 'en' check (char_length(preferred_language) <= 35),
  timezone text not null default 'UTC' check (char_length(timezone) <= 64),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create or replace function private.check_profile()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not private.is_valid_timezone(new.timezone) then
    raise exception 'unknown time zone "%": use an IANA name such as Europe/Berlin or UTC',
      new.timezone using errcode = '22023';
  end if;
  return new;
end;
$$;

create trigger profiles_check
  before insert or update of timezone on public.profiles
  for each row execute function private.check_profile();
create trigger profiles_updated_at
  before update on public.profiles
  for each row execute function private.set_updated_at();

-- The learner's local calendar date for a moment (profiles.timezone, default UTC).
create or replace function private.local_date(p_user_id uuid, p_at timestamptz)
returns date
language sql
stable
security definer
set search_path = ''
as $$
  select (p_at at time zone coalesce(
            (select p.timezone from public.profiles p where p.id = p_user_id), 'UTC'))::date
$$;

-- Signup: a profile for every new auth user. Must never fail (a failing trigger
-- blocks every signup), so metadata of any shape is accepted.
create or replace function private.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  meta jsonb := case when jsonb_typeof(new.raw_user_meta_data) = 'object'
                     then new.raw_user_meta_data else '{}'::jsonb end;
  name text;
  tz text;
begin
  name := coalesce(
    nullif(btrim(case when jsonb_typeof(meta -> 'full_name') = 'string'
                      then meta ->> 'full_name' end), ''),
    nullif(btrim(case when jsonb_typeof(meta -> 'name') = 'string'
                      then meta ->> 'name' end), ''),
    nullif(split_part(coalesce(new.email, ''), '@', 1), ''));
  tz := case when jsonb_typeof(meta -> 'timezone') = 'string' then meta ->> 'timezone' end;
  if not private.is_valid_timezone(tz) then
    tz := 'UTC';
  end if;

  insert into public.profiles (id, email, full_name, timezone)
  values (new.id, left(new.email, 320), left(name, 200), tz)
  on conflict (id) do nothing;
  return new;
end;
$$;

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute function private.handle_new_user();

create or replace function private.handle_user_email_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles set email = left(new.email, 320) where id = new.id;
  return new;
end;
$$;

create trigger on_auth_user_email_changed
  after update of email on auth.users
  for each row when (old.email is distinct from new.email)
  execute function private.handle_user_email_change();

-- ---------------------------------------------------------------------------
-- courses
-- ---------------------------------------------------------------------------

create table public.courses (
  id uuid primary key default gen_random_uuid(),
  slug text unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,79}$'),
  title text not null check (char_length(title) between 1 and 200),
  description text check (char_length(description) <= 20000),
  short_description text check (char_length(short_description) <= 300),
  duration text check (char_length(duration) <= 50),
  difficulty_level text not null default 'Beginner'
    check (difficulty_level in ('Beginner', 'Intermediate', 'Advanced')),
  estimated_hours numeric(6, 1) check (estimated_hours between 0 and 10000),
  tags text[] not null default '{}'
    check (cardinality(tags) <= 20 and char_length(array_to_string(tags, '')) <= 500),
  thumbnail_url text check (char_length(thumbnail_url) <= 2048),
  is_published boolean not null default false,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  published_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index courses_created_by_idx on public.courses (created_by);
create index courses_published_idx on public.courses (is_published) where is_published;

create trigger courses_updated_at
  before update on public.courses
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------
-- lessons
-- ---------------------------------------------------------------------------

create table public.lessons (
  id uuid primary key default gen_random_uuid(),
  course_id uuid not null references public.courses (id) on delete cascade,
  slug text check (slug ~ '^[a-z0-9][a-z0-9-]{0,79}$'),
  title text not null check (char_length(title) between 1 and 200),
  content text check (char_length(content) <= 200000),
  explanation text check (char_length(explanation) <= 100000),
  code_example text check (char_length(code_example) <= 50000),
  key_points text[] not null default '{}'
    check (cardinality(key_points) <= 20 and char_length(array_to_string(key_points, '')) <= 4000),
  duration text check (char_length(duration) <= 50),
  difficulty text check (difficulty in ('Beginner', 'Intermediate', 'Advanced')),
  order_index integer not null default 0 check (order_index between 0 and 10000),
  is_published boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (course_id, slug)
);

create index lessons_course_order_idx on public.lessons (course_id, order_index);

create trigger lessons_updated_at
  before update on public.lessons
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------
-- course_enrollments
-- ---------------------------------------------------------------------------

create table public.course_enrollments (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  course_id uuid not null references public.courses (id) on delete cascade,
  enrollment_date timestamptz not null default now(),
  progress_percentage numeric(5, 2) not null default 0
    check (progress_percentage between 0 and 100),
  status text not null default 'active'
    check (status in ('active', 'completed', 'paused', 'dropped')),
  last_accessed timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, course_id)
);

create index course_enrollments_course_id_idx on public.course_enrollments (course_id);

create trigger course_enrollments_updated_at
  before update on public.course_enrollments
  for each row execute function private.set_updated_at();

-- Clients may pause, resume and drop; only the database completes an enrollment.
create or replace function private.guard_enrollment()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user not in ('anon', 'authenticated') then
    return new;
  end if;
  if tg_op = 'INSERT' then
    if new.status not in ('active', 'paused') then
      raise exception 'a new enrollment starts active or paused, not %', new.status
        using errcode = '22023';
    end if;
  elsif new.status is distinct from old.status then
    if new.status = 'completed' then
      raise exception 'only finishing every lesson completes a course'
        using errcode = '42501';
    end if;
    if old.status = 'completed' and new.status = 'active' then
      new.status := 'completed';   -- resuming a finished course changes nothing
    end if;
  end if;
  return new;
end;
$$;

create trigger course_enrollments_guard
  before insert or update on public.course_enrollments
  for each row execute function private.guard_enrollment();

-- ---------------------------------------------------------------------------
-- Audit triggers for this phase
-- ---------------------------------------------------------------------------

create or replace function private.audit_course()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Deletion is recorded before the row goes, with the lessons it takes along (their
  -- own entries could no longer name the course's author).
  if tg_op = 'DELETE' then
    perform private.audit('course.deleted', 'courses', old.id, null, old.created_by,
                          to_jsonb(old) || jsonb_build_object('lessons', (
                            select coalesce(jsonb_agg(jsonb_build_object(
                                     'id', l.id, 'title', l.title,
                                     'is_published', l.is_published) order by l.order_index),
                                   '[]'::jsonb)
                            from public.lessons l where l.course_id = old.id)),
                          null);
    return old;
  end if;
  if tg_op = 'INSERT' and new.is_published then
    perform private.audit('course.published', 'courses', new.id, null, new.created_by,
                          null, jsonb_build_object('is_published', true, 'title', new.title));
  elsif tg_op = 'UPDATE' and new.is_published is distinct from old.is_published then
    perform private.audit(case when new.is_published then 'course.published'
                               else 'course.unpublished' end,
                          'courses', new.id, null, new.created_by,
                          jsonb_build_object('is_published', old.is_published),
                          jsonb_build_object('is_published', new.is_published));
  end if;
  return new;
end;
$$;

create trigger courses_audit
  after insert or update of is_published on public.courses
  for each row execute function private.audit_course();
create trigger courses_audit_delete
  before delete on public.courses
  for each row execute function private.audit_course();

-- Publishing stamps published_at (first publication) for the catalog.
create or replace function private.stamp_published_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.is_published and new.published_at is null then
    new.published_at := now();
  end if;
  return new;
end;
$$;

create trigger courses_published_at
  before insert or update of is_published on public.courses
  for each row execute function private.stamp_published_at();

create or replace function private.audit_lesson()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  author uuid;
  r record;
begin
  r := case when tg_op = 'DELETE' then old else new end;
  select c.created_by into author from public.courses c where c.id = r.course_id;
  if tg_op = 'DELETE' then
    if not found then
      return old;   -- deleted with its course: the course.deleted entry lists it
    end if;
    perform private.audit('lesson.deleted', 'lessons', old.id, null, author,
                          jsonb_build_object('course_id', old.course_id, 'title', old.title,
                                             'is_published', old.is_published), null);
    return old;
  end if;
  if tg_op = 'INSERT' and new.is_published then
    perform private.audit('lesson.published', 'lessons', new.id, null, author, null,
                          jsonb_build_object('course_id', new.course_id, 'title', new.title));
  elsif tg_op = 'UPDATE' and new.is_published is distinct from old.is_published then
    perform private.audit(case when new.is_published then 'lesson.published'
                               else 'lesson.unpublished' end,
                          'lessons', new.id, null, author,
                          jsonb_build_object('is_published', old.is_published),
                          jsonb_build_object('is_published', new.is_published));
  end if;
  return new;
end;
$$;

create trigger lessons_audit
  after insert or update of is_published or delete on public.lessons
  for each row execute function private.audit_lesson();

create or replace function private.audit_enrollment()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  author uuid;
begin
  select c.created_by into author from public.courses c where c.id = new.course_id;
  perform private.audit(case when tg_op = 'INSERT' then 'enrollment.created'
                             else 'enrollment.status' end,
                        'course_enrollments', new.id, new.user_id, author,
                        case when tg_op = 'UPDATE'
                             then jsonb_build_object('status', old.status) end,
                        jsonb_build_object('status', new.status, 'course_id', new.course_id));
  return new;
end;
$$;

create trigger course_enrollments_audit_insert
  after insert on public.course_enrollments
  for each row execute function private.audit_enrollment();
create trigger course_enrollments_audit_status
  after update of status on public.course_enrollments
  for each row when (old.status is distinct from new.status)
  execute function private.audit_enrollment();

-- ---------------------------------------------------------------------------
-- Row level security and privileges
-- ---------------------------------------------------------------------------

alter table public.audit_log enable row level security;
alter table public.profiles enable row level security;
alter table public.courses enable row level security;
alter table public.lessons enable row level security;
alter table public.course_enrollments enable row level security;

-- Start from nothing: older projects grant everything to the API roles by default.
revoke all on public.audit_log, public.profiles, public.courses, public.lessons,
  public.course_enrollments from anon, authenticated;
grant all on public.audit_log, public.profiles, public.courses, public.lessons,
  public.course_enrollments to service_role;

-- audit_log: read-only for the people an entry is about.
grant select on public.audit_log to authenticated;
create policy "audit entries are readable by their learner or course author"
  on public.audit_log for select to authenticated
  using (subject_user_id = (select auth.uid()) or course_author_id = (select auth.uid()));

-- profiles: your own, and only the columns that are yours to edit.
grant select on public.profiles to authenticated;
grant update (full_name, avatar_url, bio, learning_goals, preferred_language, timezone)
  on public.profiles to authenticated;
create policy "learners read their own profile"
  on public.profiles for select to authenticated
  using (id = (select auth.uid()));
create policy "learners update their own profile"
  on public.profiles for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

-- courses: published ones for everybody; authors manage their own, drafts included.
grant select on public.courses to anon, authenticated;
grant insert (id, slug, title, description, short_description, duration, difficulty_level,
              estimated_hours, tags, thumbnail_url, is_published, created_by)
  on public.courses to authenticated;
grant update (slug, title, description, short_description, duration, difficulty_level,
              estimated_hours, tags, thumbnail_url, is_published)
  on public.courses to authenticated;
grant delete on public.courses to authenticated;
create policy "published courses are public; authors see their drafts"
  on public.courses for select to anon, authenticated
  using (is_published or created_by = (select auth.uid()));
create policy "authors create courses as themselves"
  on public.courses for insert to authenticated
  with check (created_by = (select auth.uid()));
create policy "authors update their courses"
  on public.courses for update to authenticated
  using (created_by = (select auth.uid()))
  with check (created_by = (select auth.uid()));
create policy "authors delete their courses"
  on public.courses for delete to authenticated
  using (created_by = (select auth.uid()));

-- lessons: public when both lesson and course are published; authors manage theirs.
grant select on public.lessons to anon, authenticated;
grant insert (id, course_id, slug, title, content, explanation, code_example, key_points,
              duration, difficulty, order_index, is_published)
  on public.lessons to authenticated;
grant update (slug, title, content, explanation, code_example, key_points, duration,
              difficulty, order_index, is_published)
  on public.lessons to authenticated;
grant delete on public.lessons to authenticated;
create policy "published lessons of published courses are public; authors see all of theirs"
  on public.lessons for select to anon, authenticated
  using (exists (
    select 1 from public.courses c
    where c.id = lessons.course_id
      and ((c.is_published and lessons.is_published) or c.created_by = (select auth.uid()))));
create policy "authors add lessons to their courses"
  on public.lessons for insert to authenticated
  with check (exists (select 1 from public.courses c
                      where c.id = lessons.course_id and c.created_by = (select auth.uid())));
create policy "authors update lessons of their courses"
  on public.lessons for update to authenticated
  using (exists (select 1 from public.courses c
                 where c.id = lessons.course_id and c.created_by = (select auth.uid())))
  with check (exists (select 1 from public.courses c
                      where c.id = lessons.course_id and c.created_by = (select auth.uid())));
create policy "authors delete lessons of their courses"
  on public.lessons for delete to authenticated
  using (exists (select 1 from public.courses c
                 where c.id = lessons.course_id and c.created_by = (select auth.uid())));

-- course_enrollments: learners enroll themselves in published courses, then pause,
-- resume or drop; progress and completion belong to the database.
grant select on public.course_enrollments to authenticated;
grant insert (user_id, course_id, status) on public.course_enrollments to authenticated;
grant update (status, last_accessed) on public.course_enrollments to authenticated;
create policy "learners read their enrollments"
  on public.course_enrollments for select to authenticated
  using (user_id = (select auth.uid()));
create policy "learners enroll themselves in published courses"
  on public.course_enrollments for insert to authenticated
  with check (user_id = (select auth.uid())
              and exists (select 1 from public.courses c
                          where c.id = course_enrollments.course_id and c.is_published));
create policy "learners update their enrollments"
  on public.course_enrollments for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------
-- Function privileges: nothing in `private` is callable by the API roles unless a
-- policy needs it.
-- ---------------------------------------------------------------------------

revoke all on all functions in schema private from public, anon, authenticated;
-- Invoker helpers that triggers running as the caller use; they reveal nothing.
grant execute on function private.activity_time(), private.is_valid_timezone(text)
  to anon, authenticated, service_role;
