-- The author studio and the operators' monitoring.
--
-- Authors: `public.studio_courses()` lists the caller's own courses, drafts included
-- (SECURITY INVOKER: RLS shows authors their drafts). `public.course_analytics(id)`
-- returns one course's aggregates — enrollments, completion, a per-lesson funnel,
-- assessment pass rates, ratings and recent feedback, tutor usage. Learners' rows
-- are private to each learner (RLS), so the aggregates come from a SECURITY DEFINER
-- function in `private` (not exposed by the API) that first checks that auth.uid()
-- is the course's author and returns counts and averages only, never a learner's id.
-- The public wrapper is SECURITY INVOKER and executable by `authenticated` alone.
--
-- Operators: views in schema `monitoring`, which the API does not expose and only
-- service_role may use. They are security_invoker views, so even a grant made by
-- mistake would show a learner nothing but their own rows. `public.admin_report()`
-- gathers them for `learn admin report` (service_role only).

-- ---------------------------------------------------------------------------
-- Authors
-- ---------------------------------------------------------------------------

create or replace function public.studio_courses()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  if auth.uid() is null then
    raise exception 'sign in to see your courses' using errcode = '42501';
  end if;
  return coalesce((
    select jsonb_agg(jsonb_build_object(
             'id', c.id, 'slug', c.slug, 'title', c.title,
             'short_description', c.short_description,
             'difficulty_level', c.difficulty_level, 'is_published', c.is_published,
             'published_at', c.published_at, 'updated_at', c.updated_at,
             'lesson_count', (select count(*) from public.lessons l
                              where l.course_id = c.id and l.is_published),
             'unpublished_lessons', (select count(*) from public.lessons l
                                     where l.course_id = c.id and not l.is_published),
             'assessment_count', (select count(*) from public.assessments a
                                  where a.course_id = c.id and a.is_published),
             'rating_avg', cs.rating_avg, 'rating_count', coalesce(cs.rating_count, 0))
           order by c.updated_at desc, c.title)
    from public.courses c
    left join public.course_stats cs on cs.course_id = c.id
    where c.created_by = auth.uid()), '[]'::jsonb);
end;
$$;

-- One course's aggregates, for its author only. Weeks are ISO weeks in UTC; the
-- series cover the last 12 weeks, oldest first, with zero weeks included.
create or replace function private.course_analytics(p_course_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  c public.courses;
  enrolled bigint;
  completed bigint;
  this_week date := date_trunc('week', now() at time zone 'UTC')::date;
begin
  if uid is null then
    raise exception 'sign in as the course''s author to see its analytics'
      using errcode = '42501';
  end if;
  select * into c from public.courses x where x.id = p_course_id and x.created_by = uid;
  if not found then
    raise exception 'course not found among your courses' using errcode = 'P0002';
  end if;
  select count(*), count(*) filter (where e.status = 'completed')
    into enrolled, completed
  from public.course_enrollments e where e.course_id = c.id;

  return jsonb_build_object(
    'course', jsonb_build_object('id', c.id, 'slug', c.slug, 'title', c.title,
                                 'is_published', c.is_published,
                                 'published_at', c.published_at, 'updated_at', c.updated_at),
    'enrollments', (
      select jsonb_build_object(
               'total', count(*),
               'active', count(*) filter (where e.status = 'active'),
               'paused', count(*) filter (where e.status = 'paused'),
               'completed', count(*) filter (where e.status = 'completed'),
               'dropped', count(*) filter (where e.status = 'dropped'),
               'average_progress', round(avg(e.progress_percentage), 1))
      from public.course_enrollments e where e.course_id = c.id),
    'completion_rate', case when enrolled = 0 then null
                            else round(100.0 * completed / enrolled, 1) end,
    'enrollments_by_week', (
      select jsonb_agg(jsonb_build_object('week', w.week, 'count', (
               select count(*) from public.course_enrollments e
               where e.course_id = c.id
                 and date_trunc('week', e.enrollment_date at time zone 'UTC')::date = w.week))
             order by w.week)
      from (select this_week - 7 * g as week from generate_series(0, 11) g) w),
    -- Of the enrolled learners, how many completed each published lesson.
    'funnel', coalesce((
      select jsonb_agg(jsonb_build_object(
               'lesson_id', l.id, 'slug', l.slug, 'title', l.title,
               'order_index', l.order_index, 'started', f.started, 'completed', f.done,
               'rate', case when enrolled = 0 then null
                            else round(100.0 * f.done / enrolled, 1) end)
             order by l.order_index, l.slug)
      from public.lessons l
      cross join lateral (
        select count(*) as started, count(*) filter (where up.completed) as done
        from public.user_progress up
        where up.lesson_id = l.id
          and exists (select 1 from public.course_enrollments e
                      where e.course_id = c.id and e.user_id = up.user_id)) f
      where l.course_id = c.id and l.is_published), '[]'::jsonb),
    -- Submitted attempts: a pass scores at least 70.
    'assessments', coalesce((
      select jsonb_agg(jsonb_build_object(
               'assessment_id', a.id, 'slug', a.slug, 'title', a.title,
               'attempts', s.attempts, 'learners', s.learners, 'passed', s.passed,
               'pass_rate', case when s.attempts = 0 then null
                                 else round(100.0 * s.passed / s.attempts, 1) end,
               'average_score', round(s.average_score, 1))
             order by (select l.order_index from public.lessons l where l.id = a.lesson_id)
                      nulls last, a.title)
      from public.assessments a
      cross join lateral (
        select count(*) as attempts, count(distinct t.user_id) as learners,
               count(*) filter (where t.score >= 70) as passed, avg(t.score) as average_score
        from public.assessment_attempts t
        where t.assessment_id = a.id and t.status = 'completed') s
      where a.course_id = c.id and a.is_published), '[]'::jsonb),
    'rating', (
      select jsonb_build_object(
               'average', round(avg(f.rating), 2), 'count', count(f.rating),
               'distribution', jsonb_build_array(
                 count(*) filter (where f.rating = 1), count(*) filter (where f.rating = 2),
                 count(*) filter (where f.rating = 3), count(*) filter (where f.rating = 4),
                 count(*) filter (where f.rating = 5)))
      from public.user_feedback f
      where f.course_id = c.id and f.feedback_type = 'course_rating'),
    -- The latest written feedback on the course, its lessons and its assessments:
    -- the text and what it is about, never who wrote it.
    'feedback', coalesce((
      select jsonb_agg(jsonb_build_object('rating', r.rating, 'text', r.feedback_text,
                                          'type', r.feedback_type, 'about', r.about,
                                          'at', r.updated_at)
                       order by r.updated_at desc)
      from (
        select f.rating, f.feedback_text, f.feedback_type, f.updated_at,
               coalesce((select l.title from public.lessons l where l.id = f.lesson_id),
                        (select a.title from public.assessments a where a.id = f.assessment_id))
                 as about
        from public.user_feedback f
        where f.feedback_text is not null
          and (f.course_id = c.id
               or f.lesson_id in (select l.id from public.lessons l where l.course_id = c.id)
               or f.assessment_id in (select a.id from public.assessments a
                                      where a.course_id = c.id))
        order by f.updated_at desc
        limit 10) r), '[]'::jsonb),
    'tutor', (
      with asked as (
        select h.user_id, date_trunc('week', h.created_at at time zone 'UTC')::date as week
        from public.chat_history h
        where h.course_id = c.id
           or h.lesson_id in (select l.id from public.lessons l where l.course_id = c.id)
           or h.assessment_id in (select a.id from public.assessments a
                                  where a.course_id = c.id))
      select jsonb_build_object(
               'questions', (select count(*) from asked),
               'learners', (select count(distinct q.user_id) from asked q),
               'by_week', (select jsonb_agg(jsonb_build_object(
                                    'week', w.week,
                                    'count', (select count(*) from asked q where q.week = w.week))
                                  order by w.week)
                           from (select this_week - 7 * g as week
                                 from generate_series(0, 11) g) w))));
end;
$$;

create or replace function public.course_analytics(p_course_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select private.course_analytics(p_course_id)
$$;

revoke all on function private.course_analytics(uuid) from public, anon, authenticated;
grant execute on function private.course_analytics(uuid) to authenticated, service_role;
revoke all on function public.course_analytics(uuid), public.studio_courses()
  from public, anon;
grant execute on function public.course_analytics(uuid), public.studio_courses()
  to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Operators: monitoring views (service_role only)
-- ---------------------------------------------------------------------------

create schema if not exists monitoring;
revoke all on schema monitoring from public, anon, authenticated;
grant usage on schema monitoring to service_role;

-- A learner is active on a (local) day when the database recorded learning for them:
-- time in a lesson, a completed lesson or a submitted assessment.
create or replace view monitoring.daily_active_learners with (security_invoker = true) as
select la.session_date as day,
       count(distinct la.user_id) as learners,
       sum(la.lessons_completed) as lessons_completed,
       sum(la.assessments_completed) as assessments_completed,
       sum(la.session_duration) as seconds
from public.learning_analytics la
group by la.session_date;

create or replace view monitoring.weekly_active_learners with (security_invoker = true) as
select date_trunc('week', la.session_date)::date as week,
       count(distinct la.user_id) as learners,
       sum(la.lessons_completed) as lessons_completed,
       sum(la.assessments_completed) as assessments_completed,
       sum(la.session_duration) as seconds
from public.learning_analytics la
group by 1;

create or replace view monitoring.course_completion with (security_invoker = true) as
select c.id as course_id, c.slug, c.title, c.is_published,
       (select count(*) from public.lessons l
        where l.course_id = c.id and l.is_published) as lessons,
       count(e.id) as enrollments,
       count(e.id) filter (where e.status = 'active') as active,
       count(e.id) filter (where e.status = 'completed') as completed,
       count(e.id) filter (where e.status = 'dropped') as dropped,
       round(100.0 * count(e.id) filter (where e.status = 'completed')
             / nullif(count(e.id), 0), 1) as completion_rate,
       round(avg(e.progress_percentage), 1) as average_progress
from public.courses c
left join public.course_enrollments e on e.course_id = c.id
group by c.id;

-- Submitted attempts; a pass scores at least 70.
create or replace view monitoring.assessment_performance with (security_invoker = true) as
select a.id as assessment_id, c.slug as course_slug, a.slug, a.title,
       count(t.id) as attempts,
       count(distinct t.user_id) as learners,
       count(t.id) filter (where t.score >= 70) as passed,
       round(100.0 * count(t.id) filter (where t.score >= 70) / nullif(count(t.id), 0), 1)
         as pass_rate,
       round(avg(t.score), 1) as average_score,
       round(avg(t.time_spent)) as average_seconds
from public.assessments a
left join public.courses c on c.id = a.course_id
left join public.assessment_attempts t on t.assessment_id = a.id and t.status = 'completed'
group by a.id, c.slug;

create or replace view monitoring.ai_usage_daily with (security_invoker = true) as
select (i.created_at at time zone 'UTC')::date as day,
       count(*) as requests,
       count(distinct i.user_id) as learners,
       sum(i.tokens_used) as tokens,
       round(avg(i.processing_time)) as average_ms,
       percentile_cont(0.95) within group (order by i.processing_time) as p95_ms
from public.ai_interactions i
group by 1;

create or replace view monitoring.ai_usage_by_type with (security_invoker = true) as
select i.interaction_type,
       count(*) as requests,
       count(distinct i.user_id) as learners,
       sum(i.tokens_used) as tokens,
       round(avg(i.tokens_used)) as average_tokens,
       round(avg(i.processing_time)) as average_ms,
       percentile_cont(0.5) within group (order by i.processing_time) as median_ms,
       percentile_cont(0.95) within group (order by i.processing_time) as p95_ms,
       max(i.processing_time) as max_ms
from public.ai_interactions i
group by i.interaction_type;

create or replace view monitoring.tutor_questions with (security_invoker = true) as
select h.context,
       count(*) as questions,
       count(distinct h.user_id) as learners,
       count(*) filter (where h.answer is null) as unanswered,
       round(avg(char_length(h.question))) as average_question_chars
from public.chat_history h
group by h.context;

-- Streaks as they read now (0 once a whole period passed without activity).
create or replace view monitoring.streak_distribution with (security_invoker = true) as
with s as (
  select (private.streak_now(st.user_id) ->> 'current')::integer as current,
         st.longest_streak as longest
  from public.user_streaks st
)
select b.bucket, b.low as from_periods, b.high as to_periods,
       count(s.current) as learners,
       round(avg(s.longest), 1) as average_longest
from (values ('0', 0, 0), ('1', 1, 1), ('2-6', 2, 6), ('7-29', 7, 29),
             ('30+', 30, 2147483647)) as b (bucket, low, high)
left join s on s.current between b.low and b.high
group by b.bucket, b.low, b.high;

create or replace view monitoring.achievement_distribution with (security_invoker = true) as
select a.achievement_key, max(a.title) as title, max(a.type) as type,
       count(*) as learners,
       sum(a.points) as points,
       round(100.0 * count(*) / nullif((select count(*) from public.profiles), 0), 1)
         as share_of_learners
from public.achievements a
group by a.achievement_key;

revoke all on all tables in schema monitoring from public, anon, authenticated;
grant select on all tables in schema monitoring to service_role;
grant execute on function private.streak_now(uuid) to service_role;

-- Everything `learn admin report` prints, in one call (service_role only). The daily
-- and weekly series are complete (zeros included), ending today — or tomorrow, when
-- learners east of UTC have already started it.
create or replace function public.admin_report(p_days integer default 30)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with span as (
    select s.days, s.today,
           greatest(s.today, coalesce((select max(d.day) from monitoring.daily_active_learners d
                                       where d.day <= s.today + 1), s.today)) as last_day
    from (select least(greatest(coalesce(p_days, 30), 1), 366) as days,
                 (now() at time zone 'UTC')::date as today) s
  ),
  days as (
    select (span.last_day - g)::date as day from span, generate_series(0, span.days - 1) g
  ),
  weeks as (
    select (date_trunc('week', span.last_day)::date - 7 * g)::date as week
    from span, generate_series(0, 11) g
  ),
  ai_days as (
    select (span.today - g)::date as day from span, generate_series(0, span.days - 1) g
  )
  select jsonb_build_object(
    'generated_at', now(),
    'days', span.days,
    'learners', (select count(*) from public.profiles),
    'daily_active', (
      select jsonb_agg(jsonb_build_object(
               'day', x.day, 'learners', coalesce(d.learners, 0),
               'lessons_completed', coalesce(d.lessons_completed, 0),
               'assessments_completed', coalesce(d.assessments_completed, 0),
               'seconds', coalesce(d.seconds, 0)) order by x.day)
      from days x left join monitoring.daily_active_learners d on d.day = x.day),
    'weekly_active', (
      select jsonb_agg(jsonb_build_object(
               'week', x.week, 'learners', coalesce(w.learners, 0),
               'lessons_completed', coalesce(w.lessons_completed, 0),
               'assessments_completed', coalesce(w.assessments_completed, 0),
               'seconds', coalesce(w.seconds, 0)) order by x.week)
      from weeks x left join monitoring.weekly_active_learners w on w.week = x.week),
    'courses', coalesce((
      select jsonb_agg(to_jsonb(x) order by x.enrollments desc, x.title)
      from monitoring.course_completion x), '[]'::jsonb),
    'assessments', coalesce((
      select jsonb_agg(to_jsonb(x) order by x.course_slug, x.attempts desc, x.title)
      from monitoring.assessment_performance x), '[]'::jsonb),
    'ai_daily', (
      select jsonb_agg(jsonb_build_object(
               'day', x.day, 'requests', coalesce(a.requests, 0),
               'learners', coalesce(a.learners, 0), 'tokens', coalesce(a.tokens, 0),
               'average_ms', a.average_ms, 'p95_ms', a.p95_ms) order by x.day)
      from ai_days x left join monitoring.ai_usage_daily a on a.day = x.day),
    'ai_by_type', coalesce((
      select jsonb_agg(to_jsonb(x) order by x.requests desc)
      from monitoring.ai_usage_by_type x), '[]'::jsonb),
    'tutor', coalesce((
      select jsonb_agg(to_jsonb(x) order by x.questions desc)
      from monitoring.tutor_questions x), '[]'::jsonb),
    'streaks', coalesce((
      select jsonb_agg(to_jsonb(x) order by x.from_periods)
      from monitoring.streak_distribution x), '[]'::jsonb),
    'achievements', coalesce((
      select jsonb_agg(to_jsonb(x) order by x.learners desc, x.achievement_key)
      from monitoring.achievement_distribution x), '[]'::jsonb))
  from span
$$;

revoke all on function public.admin_report(integer) from public, anon, authenticated;
grant execute on function public.admin_report(integer) to service_role;
