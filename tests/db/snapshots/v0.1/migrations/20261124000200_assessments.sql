-- Phase 2: the assessment system — assessments, their reference solutions (authors
-- only) and learners' attempts.

create table public.assessments (
  id uuid primary key default gen_random_uuid(),
  slug text check (slug ~ '^[a-z0-9][a-z0-9-]{0,79}$'),
  title text not null check (char_length(title) between 1 and 200),
  description text check (char_length(description) <= 2000),
  difficulty text check (difficulty in ('Beginner', 'Intermediate', 'Advanced')),
  time_limit integer check (time_limit between 1 and 600),          -- minutes
  instructions text check (char_length(instructions) <= 50000),
  starter_code text check (char_length(starter_code) <= 50000),
  test_cases jsonb not null default '[]'::jsonb
    check (jsonb_typeof(test_cases) = 'array' and octet_length(test_cases::text) <= 500000),
  expected_output jsonb check (octet_length(expected_output::text) <= 100000),
  language text not null default 'python' check (language in ('python', 'javascript', 'bash')),
  entry text check (entry ~ '^[A-Za-z_][A-Za-z0-9_]{0,63}$'),
  limits jsonb not null default '{}'::jsonb
    check (jsonb_typeof(limits) = 'object' and octet_length(limits::text) <= 1000),
  course_id uuid references public.courses (id) on delete cascade,
  lesson_id uuid references public.lessons (id) on delete set null,
  is_published boolean not null default false,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (course_id, slug)
);

create index assessments_course_id_idx on public.assessments (course_id);
create index assessments_lesson_id_idx on public.assessments (lesson_id);
create index assessments_created_by_idx on public.assessments (created_by);

create trigger assessments_updated_at
  before update on public.assessments
  for each row execute function private.set_updated_at();

-- An assessment's lesson must belong to its course.
create or replace function private.check_assessment()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.lesson_id is not null and not exists (
       select 1 from public.lessons l
       where l.id = new.lesson_id and l.course_id is not distinct from new.course_id) then
    raise exception 'lesson % is not a lesson of course %', new.lesson_id, new.course_id
      using errcode = '23514';
  end if;
  return new;
end;
$$;

create trigger assessments_check
  before insert or update of lesson_id, course_id on public.assessments
  for each row execute function private.check_assessment();

-- Reference solutions stay with the author: a table no learner can read.
create table public.assessment_solutions (
  assessment_id uuid primary key references public.assessments (id) on delete cascade,
  solution text not null check (char_length(solution) <= 100000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger assessment_solutions_updated_at
  before update on public.assessment_solutions
  for each row execute function private.set_updated_at();

create table public.assessment_attempts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  assessment_id uuid not null references public.assessments (id) on delete cascade,
  status text not null default 'in-progress'
    check (status in ('not-started', 'in-progress', 'completed', 'abandoned')),
  score numeric(5, 2) check (score between 0 and 100),
  submitted_code text check (char_length(submitted_code) <= 100000),
  execution_result jsonb check (octet_length(execution_result::text) <= 200000),
  time_spent integer check (time_spent between 0 and 31536000),      -- seconds
  started_at timestamptz not null default now(),
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index assessment_attempts_user_assessment_idx
  on public.assessment_attempts (user_id, assessment_id, started_at desc);
create index assessment_attempts_assessment_id_idx on public.assessment_attempts (assessment_id);

create trigger assessment_attempts_updated_at
  before update on public.assessment_attempts
  for each row execute function private.set_updated_at();

-- The database owns an attempt's clock: started_at when it is created, completed_at
-- and time_spent when it is submitted. A learner's completed attempt carries the
-- execution result it was scored from (`score.passed` / `score.total`, or else its
-- `tests` list counted by status 'pass'); the score is computed from it, and a score
-- the client sends must agree with it.
create or replace function private.prepare_attempt()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  passed numeric;
  total numeric;
  scored boolean := false;
begin
  if tg_op = 'INSERT' then
    if current_user in ('anon', 'authenticated') then
      new.started_at := private.activity_time();
      new.completed_at := null;
      new.time_spent := null;
    end if;
    -- The assessment must be one the learner can see (RLS decides).
    if not exists (select 1 from public.assessments a where a.id = new.assessment_id) then
      raise exception 'assessment % not found', new.assessment_id using errcode = '23503';
    end if;
  end if;

  if new.status in ('completed', 'abandoned')
     and (tg_op = 'INSERT' or old.status not in ('completed', 'abandoned')) then
    new.completed_at := greatest(new.started_at, private.activity_time());
    new.time_spent := least(31536000,
                            floor(extract(epoch from new.completed_at - new.started_at)))::integer;
  end if;

  if new.status = 'completed' and jsonb_typeof(new.execution_result -> 'score') = 'object' then
    scored := true;
    begin
      passed := (new.execution_result #>> '{score,passed}')::numeric;
      total := (new.execution_result #>> '{score,total}')::numeric;
    exception when others then
      raise exception 'execution_result.score must hold numbers passed and total'
        using errcode = '22023';
    end;
  elsif new.status = 'completed' and jsonb_typeof(new.execution_result -> 'tests') = 'array' then
    scored := true;
    select count(*) filter (where t ->> 'status' = 'pass'), count(*)
      into passed, total
      from jsonb_array_elements(new.execution_result -> 'tests') as t;
  elsif new.status = 'completed' and current_user in ('anon', 'authenticated') then
    raise exception 'a completed attempt needs the execution result it was scored from'
      using errcode = '23502';
  end if;
  if scored then
    if total is null or passed is null or total <= 0 or passed < 0 or passed > total then
      raise exception 'execution_result.score is inconsistent (passed %, total %)', passed, total
        using errcode = '22023';
    end if;
    -- A client may send the whole percent (rounded either way); the database keeps
    -- the exact figure.
    if new.score is not null and abs(new.score - 100 * passed / total) >= 1 then
      raise exception 'score % does not match the execution result (% of % tests passed)',
        new.score, passed, total using errcode = '22023';
    end if;
    new.score := round(100 * passed / total, 2);
  end if;
  if new.status = 'completed' and new.score is null then
    raise exception 'a completed attempt needs a score' using errcode = '23502';
  end if;
  return new;
end;
$$;

create trigger assessment_attempts_prepare
  before insert or update on public.assessment_attempts
  for each row execute function private.prepare_attempt();

create or replace function private.audit_attempt()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  author uuid;
begin
  select a.created_by into author from public.assessments a where a.id = new.assessment_id;
  perform private.audit('attempt.submitted', 'assessment_attempts', new.id, new.user_id, author,
                        null,
                        jsonb_build_object('assessment_id', new.assessment_id,
                                           'score', new.score, 'time_spent', new.time_spent));
  return new;
end;
$$;

create trigger assessment_attempts_audit_insert
  after insert on public.assessment_attempts
  for each row when (new.status = 'completed')
  execute function private.audit_attempt();
create trigger assessment_attempts_audit_update
  after update of status on public.assessment_attempts
  for each row when (new.status = 'completed' and old.status <> 'completed')
  execute function private.audit_attempt();

create or replace function private.audit_assessment()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    perform private.audit('assessment.deleted', 'assessments', old.id, null, old.created_by,
                          jsonb_build_object('course_id', old.course_id, 'title', old.title,
                                             'is_published', old.is_published), null);
    return old;
  end if;
  if tg_op = 'INSERT' and new.is_published then
    perform private.audit('assessment.published', 'assessments', new.id, null, new.created_by,
                          null, jsonb_build_object('title', new.title));
  elsif tg_op = 'UPDATE' and new.is_published is distinct from old.is_published then
    perform private.audit(case when new.is_published then 'assessment.published'
                               else 'assessment.unpublished' end,
                          'assessments', new.id, null, new.created_by,
                          jsonb_build_object('is_published', old.is_published),
                          jsonb_build_object('is_published', new.is_published));
  end if;
  return new;
end;
$$;

create trigger assessments_audit
  after insert or update of is_published or delete on public.assessments
  for each row execute function private.audit_assessment();

-- ---------------------------------------------------------------------------
-- Row level security and privileges
-- ---------------------------------------------------------------------------

alter table public.assessments enable row level security;
alter table public.assessment_solutions enable row level security;
alter table public.assessment_attempts enable row level security;

revoke all on public.assessments, public.assessment_solutions, public.assessment_attempts
  from anon, authenticated;
grant all on public.assessments, public.assessment_solutions, public.assessment_attempts
  to service_role;

-- assessments: published ones (of a published course, if any) for everybody; authors
-- manage their own, and only inside their own courses.
grant select on public.assessments to anon, authenticated;
grant insert (id, slug, title, description, difficulty, time_limit, instructions, starter_code,
              test_cases, expected_output, language, entry, limits, course_id, lesson_id,
              is_published, created_by)
  on public.assessments to authenticated;
grant update (slug, title, description, difficulty, time_limit, instructions, starter_code,
              test_cases, expected_output, language, entry, limits, lesson_id, is_published)
  on public.assessments to authenticated;
grant delete on public.assessments to authenticated;
create policy "published assessments are public; authors see theirs"
  on public.assessments for select to anon, authenticated
  using ((is_published
          and (course_id is null
               or exists (select 1 from public.courses c
                          where c.id = assessments.course_id and c.is_published)))
         or created_by = (select auth.uid()));
create policy "authors create assessments in their own courses"
  on public.assessments for insert to authenticated
  with check (created_by = (select auth.uid())
              and (course_id is null
                   or exists (select 1 from public.courses c
                              where c.id = assessments.course_id
                                and c.created_by = (select auth.uid()))));
create policy "authors update their assessments"
  on public.assessments for update to authenticated
  using (created_by = (select auth.uid()))
  with check (created_by = (select auth.uid()));
create policy "authors delete their assessments"
  on public.assessments for delete to authenticated
  using (created_by = (select auth.uid()));

-- assessment_solutions: the author only.
grant select, insert, update, delete on public.assessment_solutions to authenticated;
create policy "authors read their reference solutions"
  on public.assessment_solutions for select to authenticated
  using (exists (select 1 from public.assessments a
                 where a.id = assessment_solutions.assessment_id
                   and a.created_by = (select auth.uid())));
create policy "authors add reference solutions"
  on public.assessment_solutions for insert to authenticated
  with check (exists (select 1 from public.assessments a
                      where a.id = assessment_solutions.assessment_id
                        and a.created_by = (select auth.uid())));
create policy "authors update reference solutions"
  on public.assessment_solutions for update to authenticated
  using (exists (select 1 from public.assessments a
                 where a.id = assessment_solutions.assessment_id
                   and a.created_by = (select auth.uid())))
  with check (exists (select 1 from public.assessments a
                      where a.id = assessment_solutions.assessment_id
                        and a.created_by = (select auth.uid())));
create policy "authors delete reference solutions"
  on public.assessment_solutions for delete to authenticated
  using (exists (select 1 from public.assessments a
                 where a.id = assessment_solutions.assessment_id
                   and a.created_by = (select auth.uid())));

-- assessment_attempts: learners start and submit their own; a submitted (or
-- abandoned) attempt is final.
grant select on public.assessment_attempts to authenticated;
grant insert (id, user_id, assessment_id, status, score, submitted_code, execution_result)
  on public.assessment_attempts to authenticated;
grant update (status, score, submitted_code, execution_result)
  on public.assessment_attempts to authenticated;
create policy "learners read their attempts"
  on public.assessment_attempts for select to authenticated
  using (user_id = (select auth.uid()));
create policy "learners start their own attempts"
  on public.assessment_attempts for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy "learners update their unfinished attempts"
  on public.assessment_attempts for update to authenticated
  using (user_id = (select auth.uid()) and completed_at is null)
  with check (user_id = (select auth.uid()));

revoke all on all functions in schema private from public, anon, authenticated;
grant execute on function private.activity_time(), private.is_valid_timezone(text)
  to anon, authenticated, service_role;
