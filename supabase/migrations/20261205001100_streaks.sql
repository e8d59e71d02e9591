-- Issue #15 §2: streaks cannot be built in one sitting.
--
-- 1. A profile's time zone is an IANA name PostgreSQL knows (pg_timezone_names):
--    "Europe/Berlin", "UTC", "Etc/GMT+5". POSIX strings such as "XXX+167" (offsets up
--    to ±167 h) are refused. Rows already holding one keep it until it is changed.
-- 2. A streak counts moments, not labels. user_streaks remembers the moment of the
--    last counted activity (last_activity_at) and the moment the current run started
--    (streak_started_at). A new activity is compared with them in the time zone in
--    force now, so switching time zones never turns the same moment into a new day;
--    and a run never holds more days than the local dates between its first moment
--    and now (in today's zone) — what the same learner in one place could have done.
--    Back-dating inside the 48-hour offline window (private.activity_time) may still
--    claim the days it honestly covers: at most 3 in one sitting.
--    When the date moved on faster than time (a traveller flying east), the day is not
--    added but the run is kept: the next day counts.

create or replace function private.is_valid_timezone(tz text)
returns boolean
language sql
stable
set search_path = ''
as $$
  select tz is not null and char_length(tz) <= 64
         and exists (select 1 from pg_catalog.pg_timezone_names n where n.name = tz)
$$;

-- A time zone is checked when it is set or changed; a legacy value stays readable.
create or replace function private.check_profile()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.timezone is not distinct from old.timezone then
    return new;
  end if;
  if not private.is_valid_timezone(new.timezone) then
    raise exception 'unknown time zone "%": use an IANA name such as Europe/Berlin or UTC',
      new.timezone using errcode = '22023';
  end if;
  return new;
end;
$$;

alter table public.user_streaks
  add column last_activity_at timestamptz,
  add column streak_started_at timestamptz;

-- Existing streaks: the last day's noon in the learner's zone, and a run that started
-- (current - 1) periods before it.
update public.user_streaks s set
  last_activity_at = (s.last_activity_date + time '12:00') at time zone coalesce(p.timezone, 'UTC'),
  streak_started_at = ((s.last_activity_date + time '12:00') at time zone coalesce(p.timezone, 'UTC'))
                      - make_interval(days => greatest(s.current_streak - 1, 0)
                                              * case when s.streak_type = 'weekly' then 7 else 1 end)
from public.profiles p
where p.id = s.user_id and s.last_activity_date is not null;

-- Activity at moment p_at. Compared in the learner's time zone as it is now:
-- the same period as the last activity changes nothing, the next one adds one (if the
-- run is not longer than the periods since it started), a gap starts again at 1, and
-- an earlier moment (a late replay) changes nothing. Streak achievements follow.
create or replace function private.record_activity(p_user_id uuid, p_at timestamptz)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  s public.user_streaks;
  tz text := coalesce((select p.timezone from public.profiles p where p.id = p_user_id), 'UTC');
  day date;
  period date;
  last_period date;
  start_period date;
  step integer;
  milestone integer;
  grew boolean := false;
begin
  insert into public.user_streaks (user_id) values (p_user_id)
  on conflict (user_id) do nothing;
  select * into s from public.user_streaks where user_id = p_user_id for update;

  if s.last_activity_at is not null and p_at < s.last_activity_at then
    return;   -- an earlier moment than the last one counted
  end if;

  day := (p_at at time zone tz)::date;
  step := case when s.streak_type = 'weekly' then 7 else 1 end;
  period := private.streak_period(day, s.streak_type);
  last_period := private.streak_period(
    coalesce((s.last_activity_at at time zone tz)::date, s.last_activity_date), s.streak_type);

  if period < last_period then
    return;   -- an earlier period (legacy rows have no moment to compare)
  end if;
  if s.last_activity_date is null or period > last_period + step then
    s.current_streak := 1;
    s.streak_started_at := p_at;
    grew := true;
  elsif period = last_period + step then
    start_period := coalesce(
      private.streak_period((s.streak_started_at at time zone tz)::date, s.streak_type),
      last_period - step * greatest(s.current_streak - 1, 0));
    if s.current_streak + 1 <= (period - start_period) / step + 1 then
      s.current_streak := s.current_streak + 1;
      grew := true;
    end if;
  elsif period = last_period and s.current_streak = 0 then
    s.current_streak := 1;
    s.streak_started_at := p_at;
    grew := true;
  end if;

  update public.user_streaks set
    current_streak = s.current_streak,
    longest_streak = greatest(s.longest_streak, s.current_streak),
    streak_started_at = s.streak_started_at,
    last_activity_at = p_at,
    last_activity_date = day
  where user_id = p_user_id;

  if not grew then
    return;
  end if;
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

-- Switching between daily and weekly counting starts a fresh run at the last activity.
create or replace function private.on_streak_type_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.current_streak := case when new.last_activity_date is null then 0 else 1 end;
  new.longest_streak := greatest(new.longest_streak, new.current_streak);
  new.streak_started_at := new.last_activity_at;
  return new;
end;
$$;

-- The streak as it reads now, with the last activity's date seen from today's zone.
create or replace function private.streak_now(p_user_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with z as (
    select st.*, coalesce(p.timezone, 'UTC') as tz
    from public.user_streaks st
    left join public.profiles p on p.id = st.user_id
    where st.user_id = p_user_id
  ),
  s as (
    select z.*, (now() at time zone z.tz)::date as today,
           coalesce((z.last_activity_at at time zone z.tz)::date, z.last_activity_date) as last_day
    from z
  )
  select jsonb_build_object(
    'current', case
      when s.last_day is null then 0
      when s.streak_type = 'weekly'
        and date_trunc('week', s.last_day) >= date_trunc('week', s.today) - interval '7 days'
        then s.current_streak
      when s.streak_type = 'daily' and s.last_day >= s.today - 1 then s.current_streak
      else 0 end,
    'longest', s.longest_streak,
    'last_activity_date', s.last_day,
    'streak_type', s.streak_type,
    'today', s.today,
    'active_today', case
      when s.streak_type = 'weekly'
        then date_trunc('week', s.last_day) = date_trunc('week', s.today)
      else s.last_day = s.today end)
  from s
$$;

revoke all on function private.record_activity(uuid, timestamptz) from public, anon, authenticated;
grant execute on function private.is_valid_timezone(text), private.streak_now(uuid)
  to anon, authenticated, service_role;
