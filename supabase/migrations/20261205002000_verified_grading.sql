-- Verified grading (issue #16): scores the database can trust, hidden tests that stay hidden.
--
-- * Hidden tests move to private.assessment_tests (the whole list, in order), read by the
--   owning author (RLS) and by the grader (through its functions). public.assessments
--   keeps the visible tests and, for a hidden one, its name only. A trigger does this on
--   every write of test_cases, so publish_course stays as it is.
-- * courses.grading = 'verified' | 'self'. In a verified course a learner's submission
--   (status 'completed' from any client) becomes status 'submitted' with no score and
--   no execution result; a job is queued in private.grading_jobs. A grader (role
--   learn_grader) claims jobs (FOR UPDATE SKIP LOCKED, a lease with a token), runs the
--   code with every test and records the result with private.record_grade, which checks
--   the lease. Only then is the attempt 'completed', and the existing triggers
--   (analytics, streak, achievements, audit) run on the verified score.
-- * In a self-graded course today's behaviour stays; the attempt is marked grading='self'.
-- * A job whose grader died holds its attempt until the lease ends; after 3 tries it is
--   recorded as an error instead of blocking the queue.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'learn_grader') then
    create role learn_grader nologin noinherit;
  end if;
end
$$;

-- ---------------------------------------------------------------------------
-- Courses choose how they are graded; attempts say how they were.
-- ---------------------------------------------------------------------------

alter table public.courses add column grading text not null default 'self'
  check (grading in ('verified', 'self'));
grant update (grading) on public.courses to authenticated;

alter table public.assessment_attempts
  add column grading text check (grading in ('self', 'pending', 'verified', 'error')),
  add column submitted_at timestamptz;
alter table public.assessment_attempts drop constraint assessment_attempts_status_check;
alter table public.assessment_attempts add constraint assessment_attempts_status_check
  check (status in ('not-started', 'in-progress', 'submitted', 'completed', 'abandoned'));

-- Every score recorded before this migration was the learner's own claim.
alter table public.assessment_attempts disable trigger user;
update public.assessment_attempts set grading = 'self', submitted_at = completed_at
where status = 'completed';
alter table public.assessment_attempts enable trigger user;

-- The author sets a course's grading after publishing it (`learn course publish` sends
-- course.toml's `grading`); SECURITY INVOKER: RLS decides who may.
create or replace function public.set_course_grading(p_course_id uuid, p_grading text)
returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  if p_grading is null or p_grading not in ('verified', 'self') then
    raise exception 'grading must be "verified" or "self"' using errcode = '22023';
  end if;
  if not exists (select 1 from public.courses c
                 where c.id = p_course_id and c.created_by = auth.uid()) then
    raise exception 'course not found among your courses' using errcode = 'P0002';
  end if;
  update public.courses set grading = p_grading
  where id = p_course_id and grading is distinct from p_grading;
  return jsonb_build_object('course_id', p_course_id, 'grading', p_grading,
                            'changed', found);
end;
$$;

-- ---------------------------------------------------------------------------
-- Hidden tests: where only authors and graders read them.
-- ---------------------------------------------------------------------------

create table private.assessment_tests (
  assessment_id uuid primary key references public.assessments (id) on delete cascade,
  tests jsonb not null
    check (jsonb_typeof(tests) = 'array' and octet_length(tests::text) <= 500000),
  revision integer not null default 1,
  updated_at timestamptz not null default now()
);

alter table private.assessment_tests enable row level security;
revoke all on private.assessment_tests from public, anon, authenticated;
grant select on private.assessment_tests to authenticated;
grant all on private.assessment_tests to service_role;
create policy "authors read their assessments' full tests"
  on private.assessment_tests for select to authenticated
  using (exists (select 1 from public.assessments a
                 where a.id = assessment_tests.assessment_id
                   and a.created_by = (select auth.uid())));

-- A test entry that holds a hidden test's inputs or expectations (not just its name).
create or replace function private.is_withheld_test(t jsonb)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select jsonb_typeof(t) = 'object' and (t ->> 'hidden') = 'true'
         and (t ? 'args' or t ? 'stdin' or t ? 'expected' or t ? 'expected_stdout')
$$;

-- BEFORE insert/update of an assessment: the public row keeps a hidden test's name and
-- the revision of the hidden tests (so publish_course's upsert sees a change when only a
-- hidden test changed, and none when nothing did: publishing twice changes nothing). The
-- whole list goes to the AFTER trigger through a transaction-local setting keyed by
-- course and slug (the private row can only be written once the assessment row exists,
-- and an upsert's BEFORE UPDATE sees the stripped proposal, not the author's list).
create or replace function private.withheld_key(p_course_id uuid, p_slug text, p_id uuid)
returns text
language sql
immutable
set search_path = ''
as $$
  select 'learn.withheld_' || md5(coalesce(p_course_id::text, '') || '/'
                                  || coalesce(p_slug, p_id::text))
$$;

create or replace function private.withhold_hidden_tests()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  key text := private.withheld_key(new.course_id, new.slug, new.id);
  pending text := coalesce(current_setting(key, true), '');
  full_tests jsonb;
  stored jsonb;
  rev integer;
  action text := '';
  target uuid := new.id;
begin
  if jsonb_typeof(new.test_cases) <> 'array' then
    return new;                          -- the table's CHECK refuses it
  end if;
  if exists (select 1 from jsonb_array_elements(new.test_cases) t
             where private.is_withheld_test(t)) then
    full_tests := new.test_cases;
  elsif tg_op = 'UPDATE' and pending like '{%' then
    full_tests := (pending::jsonb) -> 'tests';  -- this upsert's proposal, stripped already
  elsif not exists (select 1 from jsonb_array_elements(new.test_cases) t
                    where jsonb_typeof(t) = 'object' and (t ->> 'hidden') = 'true') then
    action := 'none';                    -- no hidden tests (any more)
  end if;                                -- else: names only were sent; keep what is stored

  if tg_op = 'INSERT' then
    select a.id into target from public.assessments a
    where a.course_id = new.course_id and a.slug = new.slug;
  end if;
  select s.tests, s.revision into stored, rev
  from private.assessment_tests s where s.assessment_id = target;

  if full_tests is not null then
    if stored is distinct from full_tests then
      rev := coalesce(rev, 0) + 1;
      action := jsonb_build_object('revision', rev, 'tests', full_tests)::text;
    end if;
    new.test_cases := (
      select coalesce(jsonb_agg(case when jsonb_typeof(t) = 'object' and (t ->> 'hidden') = 'true'
                                     then jsonb_build_object('name', t -> 'name', 'hidden', true,
                                                             'revision', rev)
                                     else t end order by i), '[]'::jsonb)
      from jsonb_array_elements(full_tests) with ordinality x (t, i));
  elsif action = 'none' and stored is null then
    action := '';
  end if;

  perform set_config(key, action, true);
  return new;
end;
$$;

create or replace function private.store_hidden_tests()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  key text := private.withheld_key(new.course_id, new.slug, new.id);
  action text := coalesce(current_setting(key, true), '');
begin
  if action = 'none' then
    delete from private.assessment_tests where assessment_id = new.id;
  elsif action like '{%' then
    insert into private.assessment_tests (assessment_id, tests, revision)
    values (new.id, (action::jsonb) -> 'tests', ((action::jsonb) ->> 'revision')::integer)
    on conflict (assessment_id) do update
      set tests = excluded.tests, revision = excluded.revision, updated_at = now();
  end if;
  perform set_config(key, '', true);
  return null;
end;
$$;

create trigger assessments_hidden_tests
  before insert or update on public.assessments
  for each row execute function private.withhold_hidden_tests();
create trigger assessments_hidden_tests_store
  after insert or update on public.assessments
  for each row execute function private.store_hidden_tests();

-- Assessments already in the database: the same, once.
update public.assessments a set test_cases = a.test_cases
where exists (select 1 from jsonb_array_elements(a.test_cases) t where private.is_withheld_test(t));

-- ---------------------------------------------------------------------------
-- Submissions in verified courses wait for a grader.
-- ---------------------------------------------------------------------------

-- BEFORE insert/update of an attempt by a learner (runs before assessment_attempts_prepare,
-- triggers fire in name order): a completed attempt of a verified course becomes
-- 'submitted' without the client's score or result; of a self-graded one, 'self'. A
-- submitted attempt cannot be changed by its learner.
create or replace function private.route_attempt()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  mode text;
begin
  if current_user not in ('anon', 'authenticated') then
    return new;
  end if;
  if tg_op = 'UPDATE' and old.status = 'submitted' then
    raise exception 'that attempt is being graded and cannot change' using errcode = '42501';
  end if;
  select c.grading into mode
  from public.assessments a left join public.courses c on c.id = a.course_id
  where a.id = new.assessment_id;
  new.grading := null;
  new.submitted_at := null;
  if new.status = 'submitted' then
    new.status := 'completed';
  end if;
  if coalesce(mode, 'self') = 'verified' then
    new.score := null;
    if new.status = 'completed' then
      new.status := 'submitted';
      new.execution_result := null;
      new.grading := 'pending';
      new.submitted_at := private.activity_time();
    end if;
  elsif new.status = 'completed' then
    new.grading := 'self';
    new.submitted_at := private.activity_time();
  end if;
  return new;
end;
$$;

create trigger assessment_attempts_grading
  before insert or update on public.assessment_attempts
  for each row execute function private.route_attempt();

-- The queue.
create table private.grading_jobs (
  attempt_id uuid primary key references public.assessment_attempts (id) on delete cascade,
  state text not null default 'pending' check (state in ('pending', 'running', 'done', 'error')),
  tries integer not null default 0,
  lease uuid,                       -- the current holder's token; record_grade checks it
  locked_by text,                   -- the grader's name, for people
  locked_until timestamptz,
  last_error text,
  enqueued_at timestamptz not null default now(),
  finished_at timestamptz
);
create index grading_jobs_open_idx on private.grading_jobs (enqueued_at)
  where state in ('pending', 'running');
alter table private.grading_jobs enable row level security;
revoke all on private.grading_jobs from public, anon, authenticated;
grant all on private.grading_jobs to service_role;

create table private.grader_heartbeats (
  worker text primary key check (char_length(worker) <= 200),
  seen_at timestamptz not null default now(),
  graded bigint not null default 0
);
alter table private.grader_heartbeats enable row level security;
revoke all on private.grader_heartbeats from public, anon, authenticated;
grant all on private.grader_heartbeats to service_role;

create or replace function private.enqueue_grading()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.grading_jobs (attempt_id) values (new.id)
  on conflict (attempt_id) do nothing;
  perform pg_notify('learn_grading', new.id::text);
  return null;
end;
$$;

create trigger assessment_attempts_enqueue_insert
  after insert on public.assessment_attempts
  for each row when (new.status = 'submitted')
  execute function private.enqueue_grading();
create trigger assessment_attempts_enqueue_update
  after update of status on public.assessment_attempts
  for each row when (new.status = 'submitted' and old.status <> 'submitted')
  execute function private.enqueue_grading();

-- ---------------------------------------------------------------------------
-- The grader's functions (executable by learn_grader and service_role only).
-- ---------------------------------------------------------------------------

-- Ends a job without a grade (the grader gave up on it): the attempt is completed with
-- score 0 and an error result saying why, so the learner is not left waiting.
create or replace function private.fail_grading(p_attempt_id uuid, p_message text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  at timestamptz;
begin
  update private.grading_jobs set state = 'error', lease = null, locked_until = null,
    last_error = left(p_message, 2000), finished_at = now()
  where attempt_id = p_attempt_id;
  select t.submitted_at into at from public.assessment_attempts t where t.id = p_attempt_id;
  perform set_config('learn.occurred_at', coalesce(at::text, ''), true);
  update public.assessment_attempts set status = 'completed', score = 0, grading = 'error',
    execution_result = jsonb_build_object('version', 1, 'status', 'error',
                                          'message', left(p_message, 2000))
  where id = p_attempt_id and status = 'submitted';
  perform set_config('learn.occurred_at', '', true);
  perform pg_notify('learn_graded', p_attempt_id::text);
end;
$$;

-- Claims up to p_max jobs for p_lease_seconds: pending ones, and running ones whose
-- grader's lease ran out (it died). A job that used its 3 tries is failed instead.
-- Returns what grading needs, hidden tests included, and the lease token per job.
create or replace function private.claim_grading_jobs(
  p_worker text,
  p_max integer default 1,
  p_lease_seconds integer default 60
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  poisoned uuid;
  result jsonb;
begin
  insert into private.grader_heartbeats as h (worker, seen_at)
  values (left(coalesce(p_worker, 'grader'), 200), now())
  on conflict (worker) do update set seen_at = excluded.seen_at;
  if random() < 0.01 then                -- graders that stopped a week ago: forget them
    delete from private.grader_heartbeats where seen_at < now() - interval '7 days';
  end if;

  for poisoned in
    select j.attempt_id from private.grading_jobs j
    where j.state = 'running' and j.locked_until < clock_timestamp() and j.tries >= 3
    for update skip locked
  loop
    perform private.fail_grading(poisoned,
      'this submission could not be graded: the grader failed on it 3 times '
      '(it may crash or exhaust the test runner)');
  end loop;

  with picked as (
    select j.attempt_id from private.grading_jobs j
    where (j.state = 'pending' or (j.state = 'running' and j.locked_until < clock_timestamp()))
      and j.tries < 3
    order by j.enqueued_at
    limit greatest(1, least(coalesce(p_max, 1), 50))
    for update skip locked
  ), claimed as (
    update private.grading_jobs j set
      state = 'running', tries = j.tries + 1, lease = gen_random_uuid(),
      locked_by = left(coalesce(p_worker, 'grader'), 200),
      locked_until = clock_timestamp()
                     + make_interval(secs => greatest(1, least(coalesce(p_lease_seconds, 60), 3600)))
    from picked where j.attempt_id = picked.attempt_id
    returning j.attempt_id, j.lease, j.tries
  )
  select coalesce(jsonb_agg(jsonb_build_object(
      'attempt_id', c.attempt_id, 'lease', c.lease, 'tries', c.tries,
      'assessment_id', a.id, 'title', a.title, 'language', a.language, 'entry', a.entry,
      'limits', a.limits, 'starter_code', a.starter_code,
      'test_cases', coalesce(h.tests, a.test_cases),
      'code', coalesce(t.submitted_code, ''))), '[]'::jsonb)
  into result
  from claimed c
  join public.assessment_attempts t on t.id = c.attempt_id
  join public.assessments a on a.id = t.assessment_id
  left join private.assessment_tests h on h.assessment_id = a.id;
  return result;
end;
$$;

-- Records a verified result. Only the lease's current holder may: a grader whose lease
-- ran out and whose job another grader claimed gets 'lease lost' (SQLSTATE 55000).
-- The score is computed from the result (private.prepare_attempt); the attempt's clock
-- is the submission's, so streaks count the day the learner submitted.
create or replace function private.record_grade(p_attempt_id uuid, p_lease uuid, p_result jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  j private.grading_jobs;
  t public.assessment_attempts;
begin
  select * into j from private.grading_jobs where attempt_id = p_attempt_id for update;
  if not found or j.state <> 'running' or j.lease is distinct from p_lease then
    raise exception 'lease lost: attempt % is no longer held by this grader', p_attempt_id
      using errcode = '55000';
  end if;
  select x.submitted_at into t.submitted_at from public.assessment_attempts x where x.id = p_attempt_id;
  perform set_config('learn.occurred_at', coalesce(t.submitted_at::text, ''), true);
  update public.assessment_attempts set status = 'completed', score = null,
    execution_result = p_result, grading = 'verified'
  where id = p_attempt_id and status = 'submitted'
  returning * into t;
  perform set_config('learn.occurred_at', '', true);
  update private.grading_jobs set state = 'done', lease = null, locked_until = null,
    finished_at = now()
  where attempt_id = p_attempt_id;
  update private.grader_heartbeats set seen_at = now(), graded = graded + 1
  where worker = j.locked_by;
  perform pg_notify('learn_graded', p_attempt_id::text);
  return jsonb_build_object('attempt_id', p_attempt_id, 'score', t.score,
                            'status', coalesce(t.status, 'gone'));
end;
$$;

-- A grader gives a job back (it could not grade it: an exception of its own). After the
-- third try the job is failed; before, it waits for the next claim.
create or replace function private.release_grading_job(p_attempt_id uuid, p_lease uuid,
                                                       p_error text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  j private.grading_jobs;
begin
  select * into j from private.grading_jobs where attempt_id = p_attempt_id for update;
  if not found or j.state <> 'running' or j.lease is distinct from p_lease then
    return jsonb_build_object('released', false);
  end if;
  if j.tries >= 3 then
    perform private.fail_grading(p_attempt_id,
      'this submission could not be graded after 3 tries: ' || left(coalesce(p_error, ''), 500));
    return jsonb_build_object('released', true, 'state', 'error');
  end if;
  update private.grading_jobs set state = 'pending', lease = null, locked_until = null,
    last_error = left(p_error, 2000)
  where attempt_id = p_attempt_id;
  return jsonb_build_object('released', true, 'state', 'pending');
end;
$$;

-- What a learner's client and `learn doctor` may know about grading: when a grader was
-- last seen, how many jobs wait. Nothing about anybody's attempts.
create or replace function private.grading_overview()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'grader_seen_at', (select max(h.seen_at) from private.grader_heartbeats h),
    'pending', (select count(*) from private.grading_jobs j
                where j.state in ('pending', 'running')),
    'oldest_pending_at', (select min(j.enqueued_at) from private.grading_jobs j
                          where j.state in ('pending', 'running')))
$$;

-- One of the caller's attempts as grading sees it (the client polls this after submitting).
create or replace function private.attempt_grading(p_attempt_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object('state', j.state, 'tries', j.tries,
                            'enqueued_at', j.enqueued_at, 'finished_at', j.finished_at)
  from private.grading_jobs j
  join public.assessment_attempts t on t.id = j.attempt_id
  where j.attempt_id = p_attempt_id and t.user_id = auth.uid()
$$;

create or replace function public.grading_status()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select private.grading_overview()
$$;

create or replace function public.attempt_result(p_attempt_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  t public.assessment_attempts;
begin
  select * into t from public.assessment_attempts
  where id = p_attempt_id and user_id = auth.uid();
  if not found then
    raise exception 'attempt not found' using errcode = 'P0002';
  end if;
  return jsonb_build_object(
    'attempt', jsonb_build_object('id', t.id, 'assessment_id', t.assessment_id,
                                  'status', t.status, 'grading', t.grading, 'score', t.score,
                                  'execution_result', t.execution_result,
                                  'submitted_at', t.submitted_at,
                                  'completed_at', t.completed_at),
    'job', private.attempt_grading(t.id),
    'grader_seen_at', private.grading_overview() -> 'grader_seen_at',
    'achievements', coalesce((
      select jsonb_agg(jsonb_build_object('id', a.id, 'type', a.type, 'title', a.title,
                                          'description', a.description, 'points', a.points,
                                          'earned_at', a.earned_at) order by a.earned_at)
      from public.achievements a
      where a.user_id = auth.uid() and a.metadata ->> 'attempt_id' = t.id::text), '[]'::jsonb));
end;
$$;

-- ---------------------------------------------------------------------------
-- Export keeps the hidden tests (the author reads them through RLS).
-- Redefined from 20261124000800_authoring.sql: only 'test_cases' changed.
-- ---------------------------------------------------------------------------

create or replace function public.export_course(p_slug text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  c public.courses;
begin
  select * into c from public.courses where slug = p_slug and created_by = auth.uid();
  if not found then
    raise exception 'no course "%" among your courses', p_slug using errcode = 'P0002';
  end if;
  return jsonb_build_object(
    'slug', c.slug, 'title', c.title, 'description', c.description,
    'short_description', c.short_description, 'duration', c.duration,
    'difficulty_level', c.difficulty_level, 'estimated_hours', c.estimated_hours,
    'tags', to_jsonb(c.tags), 'thumbnail_url', c.thumbnail_url,
    'is_published', c.is_published, 'grading', c.grading,
    'lessons', coalesce((select jsonb_agg(jsonb_build_object(
        'slug', l.slug, 'title', l.title, 'content', l.content, 'explanation', l.explanation,
        'code_example', l.code_example, 'key_points', to_jsonb(l.key_points),
        'duration', l.duration, 'difficulty', l.difficulty, 'order_index', l.order_index)
        order by l.order_index, l.slug)
      from public.lessons l where l.course_id = c.id and l.is_published), '[]'::jsonb),
    'assessments', coalesce((select jsonb_agg(jsonb_build_object(
        'slug', a.slug, 'title', a.title, 'description', a.description,
        'difficulty', a.difficulty, 'time_limit', a.time_limit,
        'instructions', a.instructions, 'starter_code', a.starter_code,
        'test_cases', coalesce((select h.tests from private.assessment_tests h
                                where h.assessment_id = a.id), a.test_cases),
        'language', a.language, 'entry', a.entry,
        'limits', a.limits,
        'lesson_slug', (select l.slug from public.lessons l where l.id = a.lesson_id),
        'solution', (select s.solution from public.assessment_solutions s
                     where s.assessment_id = a.id))
        order by a.slug)
      from public.assessments a where a.course_id = c.id and a.is_published), '[]'::jsonb));
end;
$$;

-- ---------------------------------------------------------------------------
-- The assessment screen shows how each attempt was graded, and the course's mode.
-- Redefined from 20261124000700_api.sql: only 'grading' (attempts, assessment) added.
-- ---------------------------------------------------------------------------

create or replace function public.assessment_detail(p_assessment_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  a public.assessments;
  uid uuid := auth.uid();
begin
  select * into a from public.assessments where id = p_assessment_id;
  if not found then
    raise exception 'assessment not found' using errcode = 'P0002';
  end if;
  return jsonb_build_object(
    'assessment', jsonb_build_object(
      'id', a.id, 'slug', a.slug, 'title', a.title, 'description', a.description,
      'difficulty', a.difficulty, 'time_limit', a.time_limit, 'instructions', a.instructions,
      'starter_code', a.starter_code, 'test_cases', a.test_cases,
      'expected_output', a.expected_output, 'language', a.language, 'entry', a.entry,
      'limits', a.limits, 'course_id', a.course_id, 'lesson_id', a.lesson_id,
      'is_published', a.is_published,
      'grading', (select c.grading from public.courses c where c.id = a.course_id)),
    'course', (select jsonb_build_object('id', c.id, 'slug', c.slug, 'title', c.title)
               from public.courses c where c.id = a.course_id),
    'lesson', (select jsonb_build_object('id', l.id, 'title', l.title)
               from public.lessons l where l.id = a.lesson_id),
    'attempts', coalesce((
      select jsonb_agg(jsonb_build_object('id', t.id, 'status', t.status, 'score', t.score,
                                          'grading', t.grading,
                                          'started_at', t.started_at,
                                          'completed_at', t.completed_at,
                                          'time_spent', t.time_spent)
                       order by t.started_at desc)
      from (select * from public.assessment_attempts t
            where t.assessment_id = a.id and t.user_id = uid
            order by t.started_at desc limit 20) t), '[]'::jsonb),
    'best_score', (select max(t.score) from public.assessment_attempts t
                   where t.assessment_id = a.id and t.user_id = uid and t.status = 'completed'),
    'open_attempt', (select jsonb_build_object('id', t.id, 'started_at', t.started_at,
                                               'submitted_code', t.submitted_code)
                     from public.assessment_attempts t
                     where t.assessment_id = a.id and t.user_id = uid and t.status = 'in-progress'
                     order by t.started_at desc limit 1));
end;
$$;

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------

revoke all on function
  private.is_withheld_test(jsonb), private.withheld_key(uuid, text, uuid),
  private.withhold_hidden_tests(),
  private.store_hidden_tests(), private.route_attempt(), private.enqueue_grading(),
  private.fail_grading(uuid, text), private.claim_grading_jobs(text, integer, integer),
  private.record_grade(uuid, uuid, jsonb), private.release_grading_job(uuid, uuid, text),
  private.grading_overview(), private.attempt_grading(uuid)
  from public, anon, authenticated;
revoke all on function public.set_course_grading(uuid, text), public.grading_status(),
  public.attempt_result(uuid) from public, anon;
-- `learn doctor` asks with the anon key: when a grader was last seen, how many wait.
grant execute on function private.grading_overview() to anon;
grant execute on function public.grading_status() to anon;

grant usage on schema private to learn_grader;
grant execute on function
  private.claim_grading_jobs(text, integer, integer),
  private.record_grade(uuid, uuid, jsonb),
  private.release_grading_job(uuid, uuid, text)
  to learn_grader, service_role;
grant execute on function private.grading_overview(), private.attempt_grading(uuid)
  to authenticated, service_role;
grant execute on function public.set_course_grading(uuid, text), public.grading_status(),
  public.attempt_result(uuid)
  to authenticated, service_role;
