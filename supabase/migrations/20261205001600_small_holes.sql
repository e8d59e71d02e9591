-- Issue #15 §7: smaller holes.
--
-- * Sequences: nothing in the API may move one. Supabase's default privileges grant
--   every new sequence in public to anon and authenticated (`setval` on
--   audit_log_id_seq broke every audited write); they are revoked, now and for
--   sequences made later by this role.
-- * applied_events (the outbox replay record) is written by the write functions only:
--   learners read their rows, and begin_write / end_write become SECURITY DEFINER.
-- * A course that shrinks does not complete anybody: progress is recomputed, but an
--   enrollment completes only on the learner's own action (their next progress write
--   in the course, e.g. opening a lesson). Completion points scale with the course's
--   size (10 a published lesson, at most 50) and at most 100 completion points are
--   earned per local day; the achievement itself is always granted.
-- * Notification text is plain text: titles are quoted, and §1 refuses control
--   characters in them.
-- * course_enrollments.last_accessed is never in the future.
-- * (A published assessment on an unpublished lesson is no longer public: the policy
--   in 20261205001400 requires its lesson to be published.)

-- ---------------------------------------------------------------------------
-- Sequences
-- ---------------------------------------------------------------------------

revoke all on all sequences in schema public from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;

-- ---------------------------------------------------------------------------
-- applied_events: written by the write functions only
-- ---------------------------------------------------------------------------

revoke insert, update on public.applied_events from anon, authenticated;
drop policy "learners record their own events" on public.applied_events;
drop policy "learners store their events' results" on public.applied_events;

create or replace function private.begin_write(p_fn text, p_event_id uuid, p_occurred_at timestamptz)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  prior jsonb;
begin
  if uid is null then
    raise exception 'sign in first: % needs a signed-in learner', p_fn using errcode = '42501';
  end if;
  perform set_config('learn.occurred_at', coalesce(p_occurred_at::text, ''), true);
  if p_event_id is null then
    return null;
  end if;
  insert into public.applied_events (user_id, event_id, fn, occurred_at)
  values (uid, p_event_id, p_fn, p_occurred_at)
  on conflict (user_id, event_id) do nothing;
  if found then
    return null;
  end if;
  select e.result into prior from public.applied_events e
  where e.user_id = uid and e.event_id = p_event_id;
  return coalesce(prior, '{}'::jsonb) || jsonb_build_object('replayed', true);
end;
$$;

create or replace function private.end_write(p_event_id uuid, p_result jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  full_result jsonb := p_result || jsonb_build_object(
    'replayed', false,
    'achievements', coalesce((
      select jsonb_agg(jsonb_build_object('id', a.id, 'type', a.type, 'title', a.title,
                                          'description', a.description, 'points', a.points,
                                          'earned_at', a.earned_at) order by a.earned_at)
      from public.achievements a
      where a.user_id = auth.uid() and a.created_at = now()), '[]'::jsonb));
begin
  if p_event_id is not null and uid is not null then
    update public.applied_events set result = full_result
    where user_id = uid and event_id = p_event_id;
  end if;
  return full_result;
end;
$$;

-- ---------------------------------------------------------------------------
-- Completion: only on the learner's own action
-- ---------------------------------------------------------------------------

-- Recomputes progress_percentage / status / completed_at of a course's enrollments:
-- completed published lessons ÷ published lessons. For one learner (p_user_id, their
-- own action) a full course completes; for everybody (p_user_id null: the author
-- changed the lessons) progress follows but nobody is completed by it.
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
    select e.id as enrollment_id, e.status,
           (select count(*) from public.user_progress up
              join public.lessons l on l.id = up.lesson_id
            where up.user_id = e.user_id and up.course_id = p_course_id
              and up.completed and l.is_published) as n
    from public.course_enrollments e
    where e.course_id = p_course_id and (p_user_id is null or e.user_id = p_user_id)
  ),
  pct as (
    select d.enrollment_id, d.status,
           case when t.n = 0 then 0 else round(100.0 * least(d.n, t.n) / t.n, 2) end as pct
    from done d cross join total t
  ),
  computed as (
    select p.enrollment_id, p.pct,
           case when p.pct >= 100 and (p_user_id is not null or p.status = 'completed')
                  then 'completed'
                when p.status = 'completed' and p.pct < 100 then 'active'
                else p.status end as status
    from pct p
  )
  update public.course_enrollments e set
    progress_percentage = c.pct,
    status = c.status,
    completed_at = case when c.status = 'completed'
                        then coalesce(e.completed_at, private.activity_time()) end
  from computed c
  where e.id = c.enrollment_id
    and (e.progress_percentage, e.status, e.completed_at is not null)
        is distinct from (c.pct, c.status, c.status = 'completed')
$$;

-- Every progress write of the learner refreshes their enrollment (so a course that
-- shrank to what they finished completes on their next visit), then the analytics.
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
  perform private.refresh_course_progress(new.course_id, new.user_id);
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

-- A course completed: one achievement per course (never for its own author). Points
-- scale with the course: 10 a published lesson, at most 50; and at most 100 completion
-- points a local day, so completing a stream of tiny courses is not worth it.
create or replace function private.gamify_course_completed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  course_title text;
  author uuid;
  lessons integer;
  points integer;
  today date := private.local_date(new.user_id, private.activity_time());
  earned_today integer;
begin
  select c.title, c.created_by into course_title, author
  from public.courses c where c.id = new.course_id;
  if author = new.user_id then
    return null;
  end if;
  select count(*) into lessons from public.lessons l
  where l.course_id = new.course_id and l.is_published;
  select coalesce(sum(a.points), 0) into earned_today
  from public.achievements a
  where a.user_id = new.user_id and a.type = 'course_completed'
    and a.earned_at > now() - interval '2 days'
    and private.local_date(new.user_id, a.earned_at) = today;
  points := greatest(0, least(50, 10 * lessons, 100 - earned_today));
  perform private.grant_achievement(new.user_id, 'course_completed:' || new.course_id,
                                    'course_completed', 'Course completed',
                                    'Finished every lesson of "'
                                      || coalesce(course_title, 'a course') || '".',
                                    points,
                                    jsonb_build_object('course_id', new.course_id,
                                                       'lessons', lessons));
  return null;
end;
$$;

-- ---------------------------------------------------------------------------
-- last_accessed is never in the future
-- ---------------------------------------------------------------------------

create or replace function private.check_last_accessed()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user not in ('anon', 'authenticated') or new.last_accessed is null then
    return new;
  end if;
  if new.last_accessed > now() + interval '5 minutes' then
    raise exception 'last_accessed cannot be in the future (%)', new.last_accessed
      using errcode = '22023';
  end if;
  new.last_accessed := least(new.last_accessed, now());
  return new;
end;
$$;

create trigger course_enrollments_last_accessed
  before insert or update of last_accessed on public.course_enrollments
  for each row execute function private.check_last_accessed();

revoke all on function private.check_last_accessed(), private.gamify_course_completed(),
  private.after_progress(), private.refresh_course_progress(uuid, uuid)
  from public, anon, authenticated;
grant execute on function private.begin_write(text, uuid, timestamptz),
  private.end_write(uuid, jsonb) to anon, authenticated, service_role;
