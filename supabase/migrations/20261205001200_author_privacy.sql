-- Issue #15 §3: authors see aggregates only, never which learner did what.
--
-- * The audit log: an author reads the entries about their own content (publication,
--   deletion); entries about a learner (enrollments, attempts and scores, achievements)
--   are readable by that learner alone, even when they concern the author's course.
-- * course_analytics: a per-item figure (a lesson's funnel, an assessment's pass rate
--   and average score, the rating average and distribution, the enrollment breakdown
--   and average progress) is shown only when at least 3 learners stand behind it;
--   otherwise it is null and the item says `withheld: true`. Counts of learners stay.
-- * The public rating summary (course_stats, shown in the catalog and the studio) keeps
--   its average only from 3 ratings on: one rating in, one learner's rating out.

create or replace function private.refresh_course_rating(p_course_id uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.course_stats (course_id, rating_count, rating_avg, updated_at)
  select p_course_id, count(*),
         case when count(*) >= 3 then round(avg(f.rating), 2) end, now()
  from public.user_feedback f
  where f.course_id = p_course_id and f.feedback_type = 'course_rating'
  on conflict (course_id) do update set
    rating_count = excluded.rating_count,
    rating_avg = excluded.rating_avg,
    updated_at = excluded.updated_at
$$;

update public.course_stats set rating_avg = null where rating_count < 3 and rating_avg is not null;

drop policy "audit entries are readable by their learner or course author" on public.audit_log;
create policy "audit entries are readable by their learner; authors read their content's"
  on public.audit_log for select to authenticated
  using (subject_user_id = (select auth.uid())
         or (subject_user_id is null and course_author_id = (select auth.uid())));

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
  -- No per-item figure is shown when it would come from fewer learners than this.
  min_learners constant integer := 3;
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
    'min_learners', min_learners,
    'course', jsonb_build_object('id', c.id, 'slug', c.slug, 'title', c.title,
                                 'is_published', c.is_published,
                                 'published_at', c.published_at, 'updated_at', c.updated_at),
    'enrollments', (
      select jsonb_build_object(
               'total', count(*),
               'withheld', count(*) between 1 and min_learners - 1,
               'active', case when count(*) not between 1 and min_learners - 1
                              then count(*) filter (where e.status = 'active') end,
               'paused', case when count(*) not between 1 and min_learners - 1
                              then count(*) filter (where e.status = 'paused') end,
               'completed', case when count(*) not between 1 and min_learners - 1
                                 then count(*) filter (where e.status = 'completed') end,
               'dropped', case when count(*) not between 1 and min_learners - 1
                               then count(*) filter (where e.status = 'dropped') end,
               'average_progress', case when count(*) not between 1 and min_learners - 1
                                        then round(avg(e.progress_percentage), 1) end)
      from public.course_enrollments e where e.course_id = c.id),
    'completion_rate', case when enrolled < min_learners then null
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
               'order_index', l.order_index,
               'withheld', enrolled between 1 and min_learners - 1,
               'started', case when enrolled not between 1 and min_learners - 1 then f.started end,
               'completed', case when enrolled not between 1 and min_learners - 1 then f.done end,
               'rate', case when enrolled < min_learners then null
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
               'attempts', s.attempts, 'learners', s.learners,
               'withheld', s.learners > 0 and s.learners < min_learners,
               'passed', case when s.learners not between 1 and min_learners - 1 then s.passed end,
               'pass_rate', case when s.attempts = 0 or s.learners < min_learners then null
                                 else round(100.0 * s.passed / s.attempts, 1) end,
               'average_score', case when s.learners >= min_learners
                                     then round(s.average_score, 1) end)
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
               'count', count(f.rating),
               'withheld', count(f.rating) > 0 and count(f.rating) < min_learners,
               'average', case when count(f.rating) >= min_learners
                               then round(avg(f.rating), 2) end,
               'distribution', case when count(f.rating) >= min_learners then jsonb_build_array(
                 count(*) filter (where f.rating = 1), count(*) filter (where f.rating = 2),
                 count(*) filter (where f.rating = 3), count(*) filter (where f.rating = 4),
                 count(*) filter (where f.rating = 5)) end)
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

revoke all on function private.course_analytics(uuid) from public, anon, authenticated;
grant execute on function private.course_analytics(uuid) to authenticated, service_role;
