-- Continue where you left off: the dashboard's one key needs the assessment attempt the
-- learner has open, if any (the dashboard's own payload, which the start-up head start
-- prefetches, is left as it is: the app asks for this once the home screen shows).
-- And the command palette's index (navigation) names assessments too.
create or replace function public.resume_point()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception 'sign in to continue where you left off' using errcode = '42501';
  end if;
  return jsonb_build_object(
    'assessment', (
      select jsonb_build_object('id', a.id, 'title', a.title, 'time_limit', a.time_limit,
                                'course_id', c.id, 'course_title', c.title,
                                'started_at', t.started_at)
      from public.assessment_attempts t
      join public.assessments a on a.id = t.assessment_id
      left join public.courses c on c.id = a.course_id
      where t.user_id = uid and t.status = 'in-progress'
      order by t.started_at desc
      limit 1));
end;
$$;

revoke all on function public.resume_point() from public, anon;
grant execute on function public.resume_point() to authenticated, service_role;

-- The command palette reaches assessments too (ctrl+p, then part of a title).
create or replace function public.navigation()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'courses', coalesce((select jsonb_agg(jsonb_build_object('id', c.id, 'title', c.title)
                                          order by c.title)
                         from public.courses c), '[]'::jsonb),
    'lessons', coalesce((select jsonb_agg(jsonb_build_object('id', l.id, 'title', l.title,
                                                             'course_title', c.title)
                                          order by c.title, l.order_index)
                         from public.lessons l join public.courses c on c.id = l.course_id
                         where l.is_published or c.created_by = auth.uid()), '[]'::jsonb),
    'assessments', coalesce((select jsonb_agg(jsonb_build_object('id', a.id, 'title', a.title,
                                                                 'course_title', c.title)
                                              order by c.title, a.title)
                             from public.assessments a join public.courses c on c.id = a.course_id
                             where a.is_published or c.created_by = auth.uid()), '[]'::jsonb))
$$;

-- `learn admin report` counted the local account that owns the bundled courses
-- (services/seed.py: courses@learn.local, a reserved name no person signs up with) as a
-- learner: "Learners: 2" on a one-person machine. The same function, without it.
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
    'learners', (select count(*) from public.profiles p
                 where p.email is distinct from 'courses@learn.local'),
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
