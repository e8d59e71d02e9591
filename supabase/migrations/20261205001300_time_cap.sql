-- Issue #15 §4: the study-time cap holds on every path.
--
-- * user_progress: a learner's write adds at most 86,400 s (a day) to a lesson's time,
--   whether through record_lesson_progress or a direct insert/update (PostgREST).
-- * learning_analytics: no learner is credited more than 86,400 s of study on one local
--   day, summed over all courses (lessons and assessment attempts alike). Time beyond
--   the day's cap is not added (the lesson's own time_spent still records it).

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
      if new.time_spent > 86400 then
        raise exception 'time spent must be between 0 and 86400 seconds per write, not %',
          new.time_spent using errcode = '22023';
      end if;
    else
      new.time_spent := greatest(new.time_spent, old.time_spent);   -- time only adds up
      if new.time_spent - old.time_spent > 86400 then
        raise exception 'time spent grows by at most 86400 seconds per write, not %',
          new.time_spent - old.time_spent using errcode = '22023';
      end if;
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

-- Adds to the learner's analytics row for the local day of p_at; study time stops at
-- 86,400 s a day across the learner's rows of that day.
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
language plpgsql
security definer
set search_path = ''
as $$
declare
  day date := private.local_date(p_user_id, p_at);
  used bigint;
  seconds integer := greatest(coalesce(p_seconds, 0), 0);
begin
  if seconds > 0 then
    -- one writer per learner and day, so two sessions cannot both take the last second
    perform pg_advisory_xact_lock(hashtextextended('learn.analytics:' || p_user_id || ':' || day, 0));
    select coalesce(sum(la.session_duration), 0) into used
    from public.learning_analytics la
    where la.user_id = p_user_id and la.session_date = day;
    seconds := least(seconds, greatest(86400 - used, 0));
  end if;
  if seconds = 0 and coalesce(p_lessons, 0) = 0 and coalesce(p_assessments, 0) = 0
     and coalesce(p_score, 0) = 0 then
    return;
  end if;
  insert into public.learning_analytics
    (user_id, course_id, session_date, session_duration, lessons_completed,
     assessments_completed, total_score)
  values (p_user_id, p_course_id, day, seconds, p_lessons, p_assessments, coalesce(p_score, 0))
  on conflict on constraint learning_analytics_one_row_per_day do update set
    session_duration = public.learning_analytics.session_duration + excluded.session_duration,
    lessons_completed = public.learning_analytics.lessons_completed + excluded.lessons_completed,
    assessments_completed = public.learning_analytics.assessments_completed
                            + excluded.assessments_completed,
    total_score = public.learning_analytics.total_score + excluded.total_score;
end;
$$;

revoke all on function private.bump_analytics(uuid, uuid, timestamptz, integer, integer, integer, numeric)
  from public, anon, authenticated;
