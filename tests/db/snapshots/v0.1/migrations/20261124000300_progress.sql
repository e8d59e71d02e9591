-- Phase 3: progress tracking — user_progress and daily learning_analytics — and the
-- derived numbers: an enrollment's progress and completion.

create table public.user_progress (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  lesson_id uuid not null references public.lessons (id) on delete cascade,
  course_id uuid not null references public.courses (id) on delete cascade,
  completed boolean not null default false,
  time_spent integer not null default 0 check (time_spent between 0 and 10000000),  -- seconds
  last_position integer not null default 0 check (last_position between 0 and 10000000),
  completed_at timestamptz,
  first_completed_at timestamptz,   -- set once: a lesson counts once in the analytics
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, lesson_id)
);

create index user_progress_user_course_idx on public.user_progress (user_id, course_id);
create index user_progress_lesson_id_idx on public.user_progress (lesson_id);
create index user_progress_course_id_idx on public.user_progress (course_id);

create trigger user_progress_updated_at
  before update on public.user_progress
  for each row execute function private.set_updated_at();

create table public.learning_analytics (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  course_id uuid references public.courses (id) on delete cascade,
  session_duration integer not null default 0 check (session_duration >= 0),   -- seconds
  lessons_completed integer not null default 0 check (lessons_completed >= 0),
  assessments_completed integer not null default 0 check (assessments_completed >= 0),
  total_score numeric(10, 2) not null default 0 check (total_score >= 0),
  session_date date not null,        -- the learner's local date
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint learning_analytics_one_row_per_day
    unique nulls not distinct (user_id, course_id, session_date)
);

create index learning_analytics_user_date_idx on public.learning_analytics (user_id, session_date);
create index learning_analytics_course_id_idx on public.learning_analytics (course_id);

create trigger learning_analytics_updated_at
  before update on public.learning_analytics
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------
-- Derived numbers
-- ---------------------------------------------------------------------------

-- Adds to the learner's analytics row for the local day of p_at.
create or replace function private.bump_analytics(
  p_user_id uuid,
  p_course_id uuid,
  p_at timestamptz,
  p_seconds integer default 0,
  p_lessons integer default 0,
  p_assessments integer default 0,
  p_score numeric default 0
)
returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.learning_analytics
    (user_id, course_id, session_date, session_duration, lessons_completed,
     assessments_completed, total_score)
  values (p_user_id, p_course_id, private.local_date(p_user_id, p_at), greatest(p_seconds, 0),
          p_lessons, p_assessments, coalesce(p_score, 0))
  on conflict on constraint learning_analytics_one_row_per_day do update set
    session_duration = public.learning_analytics.session_duration + excluded.session_duration,
    lessons_completed = public.learning_analytics.lessons_completed + excluded.lessons_completed,
    assessments_completed = public.learning_analytics.assessments_completed
                            + excluded.assessments_completed,
    total_score = public.learning_analytics.total_score + excluded.total_score
$$;

-- Recomputes progress_percentage / status / completed_at of a course's enrollments
-- (one learner's, or everybody's when p_user_id is null): completed published
-- lessons ÷ published lessons.
create or replace function private.refresh_course_progress(p_course_id uuid, p_user_id uuid default null)
returns void
language sql
security definer
set search_path = ''
as $$
  with total as (
    select count(*) as n from public.lessons l
    where l.course_id = p_course_id and l.is_published
  ),
  done as (
    select e.id as enrollment_id,
           (select count(*) from public.user_progress up
              join public.lessons l on l.id = up.lesson_id
            where up.user_id = e.user_id and up.course_id = p_course_id
              and up.completed and l.is_published) as n
    from public.course_enrollments e
    where e.course_id = p_course_id and (p_user_id is null or e.user_id = p_user_id)
  ),
  computed as (
    select d.enrollment_id,
           case when t.n = 0 then 0 else round(100.0 * least(d.n, t.n) / t.n, 2) end as pct
    from done d cross join total t
  )
  update public.course_enrollments e set
    progress_percentage = c.pct,
    status = case when c.pct >= 100 then 'completed'
                  when e.status = 'completed' then 'active'
                  else e.status end,
    completed_at = case when c.pct >= 100 then coalesce(e.completed_at, private.activity_time())
                        else null end
  from computed c
  where e.id = c.enrollment_id
    and (e.progress_percentage, e.status, e.completed_at is not null)
        is distinct from (c.pct,
                          case when c.pct >= 100 then 'completed'
                               when e.status = 'completed' then 'active' else e.status end,
                          c.pct >= 100)
$$;

-- user_progress, before: the lesson must be visible to the learner (RLS decides)
-- and course_id must be its course; completion times belong to the database.
create or replace function private.prepare_progress()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  lesson_course uuid;
begin
  if tg_op = 'INSERT' or new.lesson_id is distinct from old.lesson_id then
    select l.course_id into lesson_course from public.lessons l where l.id = new.lesson_id;
    if lesson_course is null then
      raise exception 'lesson % not found', new.lesson_id using errcode = '23503';
    end if;
    if new.course_id is distinct from lesson_course then
      raise exception 'lesson % belongs to course %, not %', new.lesson_id, lesson_course,
        new.course_id using errcode = '23514';
    end if;
  end if;

  if current_user in ('anon', 'authenticated') then
    if tg_op = 'INSERT' then
      new.completed_at := null;
      new.first_completed_at := null;
    else
      new.time_spent := greatest(new.time_spent, old.time_spent);   -- time only adds up
    end if;
  end if;
  if new.completed and (tg_op = 'INSERT' or not old.completed) then
    new.completed_at := private.activity_time();
    new.first_completed_at := coalesce(new.first_completed_at, new.completed_at);
  elsif not new.completed then
    new.completed_at := null;
  end if;
  return new;
end;
$$;

create trigger user_progress_prepare
  before insert or update on public.user_progress
  for each row execute function private.prepare_progress();

-- user_progress, after: enrollment progress, then the day's analytics (time spent,
-- and each lesson counted once, on the day it was first completed).
create or replace function private.after_progress()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  seconds integer := new.time_spent - case when tg_op = 'UPDATE' then old.time_spent else 0 end;
  first_completion boolean := new.first_completed_at is not null
    and (tg_op = 'INSERT' or old.first_completed_at is null);
begin
  if tg_op = 'INSERT' or new.completed is distinct from old.completed then
    perform private.refresh_course_progress(new.course_id, new.user_id);
  end if;
  if seconds > 0 or first_completion then
    perform private.bump_analytics(new.user_id, new.course_id,
                                   coalesce(case when first_completion then new.first_completed_at end,
                                            private.activity_time()),
                                   greatest(seconds, 0),
                                   case when first_completion then 1 else 0 end);
  end if;
  return new;
end;
$$;

create trigger user_progress_after
  after insert or update on public.user_progress
  for each row execute function private.after_progress();

-- A course that gains, loses or (un)publishes a lesson changes everybody's progress.
create or replace function private.after_lesson_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    perform private.refresh_course_progress(old.course_id);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and (tg_op = 'INSERT' or new.course_id <> old.course_id) then
    perform private.refresh_course_progress(new.course_id);
  end if;
  return null;
end;
$$;

create trigger lessons_refresh_progress
  after insert or delete or update of is_published, course_id on public.lessons
  for each row execute function private.after_lesson_change();

-- A new enrollment starts from the progress the learner already has.
create or replace function private.after_enrollment_insert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.refresh_course_progress(new.course_id, new.user_id);
  return null;
end;
$$;

create trigger course_enrollments_initial_progress
  after insert on public.course_enrollments
  for each row execute function private.after_enrollment_insert();

-- A submitted attempt counts on the day it was submitted.
create or replace function private.after_attempt_completed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  course uuid;
begin
  select a.course_id into course from public.assessments a where a.id = new.assessment_id;
  perform private.bump_analytics(new.user_id, course, new.completed_at,
                                 coalesce(new.time_spent, 0), 0, 1, new.score);
  return null;
end;
$$;

create trigger assessment_attempts_analytics_insert
  after insert on public.assessment_attempts
  for each row when (new.status = 'completed')
  execute function private.after_attempt_completed();
create trigger assessment_attempts_analytics_update
  after update of status on public.assessment_attempts
  for each row when (new.status = 'completed' and old.status <> 'completed')
  execute function private.after_attempt_completed();

-- ---------------------------------------------------------------------------
-- Row level security and privileges
-- ---------------------------------------------------------------------------

alter table public.user_progress enable row level security;
alter table public.learning_analytics enable row level security;

revoke all on public.user_progress, public.learning_analytics from anon, authenticated;
grant all on public.user_progress, public.learning_analytics to service_role;

-- user_progress: learners record their own; the completion times are the database's.
grant select on public.user_progress to authenticated;
grant insert (id, user_id, lesson_id, course_id, completed, time_spent, last_position)
  on public.user_progress to authenticated;
grant update (completed, time_spent, last_position) on public.user_progress to authenticated;
create policy "learners read their progress"
  on public.user_progress for select to authenticated
  using (user_id = (select auth.uid()));
create policy "learners record their own progress"
  on public.user_progress for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy "learners update their own progress"
  on public.user_progress for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

-- learning_analytics: read-only for the learner; only the database writes it.
grant select on public.learning_analytics to authenticated;
create policy "learners read their analytics"
  on public.learning_analytics for select to authenticated
  using (user_id = (select auth.uid()));

revoke all on all functions in schema private from public, anon, authenticated;
grant execute on function private.activity_time(), private.is_valid_timezone(text)
  to anon, authenticated, service_role;
