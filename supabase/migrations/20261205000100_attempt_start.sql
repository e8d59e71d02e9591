-- Starting an attempt after its clock ran out gives a fresh clock.
--
-- Until v0.1 the app started a timed attempt as soon as the assessment screen opened,
-- so a learner who only looked at an assessment was left with an 'in-progress' attempt
-- whose time kept running. start_attempt() returned that same attempt when they came
-- back to work on it: the timer was already at zero and their starter code was
-- submitted. Now an open attempt whose time limit has passed is closed as 'abandoned'
-- (no score, no activity, no achievement: those follow 'completed' only) and a new
-- attempt starts. An open attempt still within its time, or of an untimed assessment,
-- is returned as before. submit_attempt() of an expired attempt is unchanged: the
-- client submits work done in time as it stands.
create or replace function public.start_attempt(
  p_assessment_id uuid,
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('start_attempt', p_event_id, p_occurred_at);
  t public.assessment_attempts;
  minutes integer;
begin
  if prior is not null then
    return prior;
  end if;
  select a.time_limit into minutes from public.assessments a where a.id = p_assessment_id;
  if minutes > 0 then
    update public.assessment_attempts x set status = 'abandoned'
    where x.user_id = auth.uid() and x.assessment_id = p_assessment_id
      and x.status = 'in-progress'
      and x.started_at + make_interval(mins => minutes) <= now();
  end if;
  select * into t from public.assessment_attempts
  where user_id = auth.uid() and assessment_id = p_assessment_id and status = 'in-progress'
  order by started_at desc limit 1;
  if not found then
    insert into public.assessment_attempts (user_id, assessment_id, status)
    values (auth.uid(), p_assessment_id, 'in-progress')
    returning * into t;
  end if;
  return private.end_write(p_event_id, jsonb_build_object(
    'attempt', jsonb_build_object('id', t.id, 'status', t.status, 'started_at', t.started_at,
                                  'submitted_code', t.submitted_code)));
end;
$$;
