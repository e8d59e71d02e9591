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
