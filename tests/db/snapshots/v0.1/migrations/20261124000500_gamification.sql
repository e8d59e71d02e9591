-- Phase 5: gamification — achievements and learning streaks, both written only by
-- the database.

create table public.achievements (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 200),
  description text check (char_length(description) <= 1000),
  type text not null check (char_length(type) between 1 and 50),
  icon_url text check (char_length(icon_url) <= 2048),
  points integer not null default 0 check (points between 0 and 100000),
  earned_at timestamptz not null default now(),
  metadata jsonb not null default '{}'::jsonb check (octet_length(metadata::text) <= 10000),
  achievement_key text not null check (char_length(achievement_key) <= 120),
  created_at timestamptz not null default now(),
  constraint achievements_once_per_learner unique (user_id, achievement_key)
);

create index achievements_user_earned_idx on public.achievements (user_id, earned_at desc);

create table public.user_streaks (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null unique references auth.users (id) on delete cascade,
  current_streak integer not null default 0 check (current_streak >= 0),
  longest_streak integer not null default 0 check (longest_streak >= 0),
  last_activity_date date,
  streak_type text not null default 'daily' check (streak_type in ('daily', 'weekly')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (longest_streak >= current_streak)
);

create trigger user_streaks_updated_at
  before update on public.user_streaks
  for each row execute function private.set_updated_at();

-- Signup now creates the streak row beside the profile.
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
  insert into public.user_streaks (user_id) values (new.id)
  on conflict (user_id) do nothing;
  return new;
end;
$$;

-- Learners who signed up before this phase get their streak row too.
insert into public.user_streaks (user_id)
select p.id from public.profiles p
on conflict (user_id) do nothing;

-- Grants an achievement once per learner and key; returns true when it is new.
create or replace function private.grant_achievement(
  p_user_id uuid,
  p_key text,
  p_type text,
  p_title text,
  p_description text,
  p_points integer,
  p_metadata jsonb default '{}'::jsonb
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  new_id uuid;
begin
  insert into public.achievements
    (user_id, achievement_key, type, title, description, points, metadata, earned_at)
  values (p_user_id, p_key, p_type, p_title, p_description, p_points,
          coalesce(p_metadata, '{}'::jsonb), private.activity_time())
  on conflict on constraint achievements_once_per_learner do nothing
  returning id into new_id;
  return new_id is not null;
end;
$$;

-- The period a day falls in: the day itself, or the Monday of its ISO week.
create or replace function private.streak_period(p_day date, p_type text)
returns date
language sql
immutable
set search_path = ''
as $$
  select case when p_type = 'weekly' then date_trunc('week', p_day)::date else p_day end
$$;

-- Activity on the learner's local date of p_at: same period no change, the next
-- period +1, a gap back to 1, longest kept. Earlier periods (a late replay) change
-- nothing. Streak achievements follow.
create or replace function private.record_activity(p_user_id uuid, p_at timestamptz)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  s public.user_streaks;
  day date := private.local_date(p_user_id, p_at);
  period date;
  last_period date;
  step integer;
  milestone integer;
begin
  insert into public.user_streaks (user_id) values (p_user_id)
  on conflict (user_id) do nothing;
  select * into s from public.user_streaks where user_id = p_user_id for update;

  period := private.streak_period(day, s.streak_type);
  last_period := private.streak_period(s.last_activity_date, s.streak_type);
  step := case when s.streak_type = 'weekly' then 7 else 1 end;

  if s.last_activity_date is null or period > last_period + step then
    s.current_streak := 1;
  elsif period = last_period + step then
    s.current_streak := s.current_streak + 1;
  elsif period = last_period and s.current_streak = 0 then
    s.current_streak := 1;
  else
    return;   -- same period, or an earlier one
  end if;

  update public.user_streaks set
    current_streak = s.current_streak,
    longest_streak = greatest(s.longest_streak, s.current_streak),
    last_activity_date = greatest(s.last_activity_date, day)
  where user_id = p_user_id;

  foreach milestone in array array[3, 7, 30] loop
    if s.current_streak >= milestone then
      perform private.grant_achievement(
        p_user_id, 'streak_' || milestone, 'streak',
        milestone || (case when s.streak_type = 'weekly' then '-week' else '-day' end) || ' streak',
        'Learned on ' || milestone
          || (case when s.streak_type = 'weekly' then ' weeks' else ' days' end) || ' in a row.',
        case milestone when 3 then 15 when 7 then 40 else 200 end,
        jsonb_build_object('streak', milestone, 'streak_type', s.streak_type));
    end if;
  end loop;
end;
$$;

-- Switching between daily and weekly counting starts a fresh count.
create or replace function private.on_streak_type_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.current_streak := case when new.last_activity_date is null then 0 else 1 end;
  new.longest_streak := greatest(new.longest_streak, new.current_streak);
  return new;
end;
$$;

create trigger user_streaks_type_change
  before update of streak_type on public.user_streaks
  for each row when (old.streak_type is distinct from new.streak_type)
  execute function private.on_streak_type_change();

-- A lesson completed for the first time: streak, then "first lesson".
create or replace function private.gamify_lesson_completed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.record_activity(new.user_id, new.first_completed_at);
  perform private.grant_achievement(new.user_id, 'first_lesson', 'first_lesson',
                                    'First lesson', 'Completed your first lesson.', 10,
                                    jsonb_build_object('lesson_id', new.lesson_id,
                                                       'course_id', new.course_id));
  return null;
end;
$$;

create trigger user_progress_gamify_insert
  after insert on public.user_progress
  for each row when (new.first_completed_at is not null)
  execute function private.gamify_lesson_completed();
create trigger user_progress_gamify_update
  after update of completed on public.user_progress
  for each row when (new.first_completed_at is not null and old.first_completed_at is null)
  execute function private.gamify_lesson_completed();

-- A submitted attempt: streak, then "first passed assessment" and "perfect score".
create or replace function private.gamify_attempt_completed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  meta jsonb := jsonb_build_object('assessment_id', new.assessment_id, 'attempt_id', new.id,
                                   'score', new.score);
begin
  perform private.record_activity(new.user_id, new.completed_at);
  if new.score >= 70 then
    perform private.grant_achievement(new.user_id, 'first_assessment_passed',
                                      'first_assessment_passed', 'First assessment passed',
                                      'Passed your first coding assessment.', 20, meta);
  end if;
  if new.score >= 100 then
    perform private.grant_achievement(new.user_id, 'perfect_score', 'perfect_score',
                                      'Perfect score', 'Passed every test of an assessment.',
                                      30, meta);
  end if;
  return null;
end;
$$;

create trigger assessment_attempts_gamify_insert
  after insert on public.assessment_attempts
  for each row when (new.status = 'completed')
  execute function private.gamify_attempt_completed();
create trigger assessment_attempts_gamify_update
  after update of status on public.assessment_attempts
  for each row when (new.status = 'completed' and old.status <> 'completed')
  execute function private.gamify_attempt_completed();

-- A course completed: one achievement per course. Not for the course's own author:
-- anybody may write a course, so points for finishing your own would be free points.
create or replace function private.gamify_course_completed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  course_title text;
  author uuid;
begin
  select c.title, c.created_by into course_title, author
  from public.courses c where c.id = new.course_id;
  if author = new.user_id then
    return null;
  end if;
  perform private.grant_achievement(new.user_id, 'course_completed:' || new.course_id,
                                    'course_completed', 'Course completed',
                                    'Finished every lesson of ' || coalesce(course_title, 'a course')
                                      || '.',
                                    50, jsonb_build_object('course_id', new.course_id));
  return null;
end;
$$;

create trigger course_enrollments_gamify
  after insert or update of status on public.course_enrollments
  for each row when (new.status = 'completed')
  execute function private.gamify_course_completed();

-- Granted achievements are part of the audit trail.
create or replace function private.audit_achievement()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.audit('achievement.granted', 'achievements', new.id, new.user_id, null, null,
                        jsonb_build_object('type', new.type, 'title', new.title,
                                           'points', new.points));
  return null;
end;
$$;

create trigger achievements_audit
  after insert on public.achievements
  for each row execute function private.audit_achievement();

-- ---------------------------------------------------------------------------
-- Row level security and privileges
-- ---------------------------------------------------------------------------

alter table public.achievements enable row level security;
alter table public.user_streaks enable row level security;

revoke all on public.achievements, public.user_streaks from anon, authenticated;
grant all on public.achievements, public.user_streaks to service_role;

grant select on public.achievements to authenticated;
create policy "learners read their achievements"
  on public.achievements for select to authenticated
  using (user_id = (select auth.uid()));

-- The counts are the database's; a learner only chooses daily or weekly counting.
grant select on public.user_streaks to authenticated;
grant update (streak_type) on public.user_streaks to authenticated;
create policy "learners read their streak"
  on public.user_streaks for select to authenticated
  using (user_id = (select auth.uid()));
create policy "learners choose how their streak counts"
  on public.user_streaks for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

revoke all on all functions in schema private from public, anon, authenticated;
grant execute on function private.activity_time(), private.is_valid_timezone(text)
  to anon, authenticated, service_role;
