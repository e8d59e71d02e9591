-- The API: screen-shaped functions. One call per screen, each SECURITY INVOKER so RLS
-- still decides what the caller sees and may change, each returning JSON shaped for
-- its screen. Writes the offline outbox may replay take a client-made event id
-- (p_event_id) and are idempotent on it; p_occurred_at says when the learner acted
-- (trusted within 48 hours, see private.activity_time()). Writes return what
-- changed, including achievements earned by this call.

-- ---------------------------------------------------------------------------
-- Search support: full-text everywhere, trigram matching where pg_trgm exists.
-- ---------------------------------------------------------------------------

do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_trgm') then
    create extension if not exists pg_trgm with schema extensions;
  end if;
end
$$;

alter table public.courses add column search_vector tsvector generated always as (
  setweight(to_tsvector('english', coalesce(title, '')), 'A')
  || setweight(to_tsvector('english', coalesce(short_description, '')), 'B')
  || setweight(array_to_tsvector(tags), 'B')
  || setweight(to_tsvector('english', coalesce(description, '')), 'C')
) stored;

create index courses_search_idx on public.courses using gin (search_vector);

alter table public.lessons add column search_vector tsvector generated always as (
  setweight(to_tsvector('english', coalesce(title, '')), 'A')
  || setweight(array_to_tsvector(key_points), 'B')
  || setweight(to_tsvector('english', coalesce(content, '')), 'C')
  || setweight(to_tsvector('english', coalesce(explanation, '')), 'C')
) stored;

create index lessons_search_idx on public.lessons using gin (search_vector);

-- Does `query` loosely match `subject`? Trigram word similarity where pg_trgm is
-- installed (as on Supabase), a substring match otherwise.
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_trgm') then
    execute $f$
      create function private.fuzzy_match(query text, subject text) returns boolean
      language sql stable set search_path = ''
      as $b$ select query operator(extensions.<%) subject $b$ $f$;
    execute 'create index courses_title_trgm_idx on public.courses
             using gin (title extensions.gin_trgm_ops)';
  else
    execute $f$
      create function private.fuzzy_match(query text, subject text) returns boolean
      language sql stable set search_path = ''
      as $b$ select strpos(lower(subject), lower(query)) > 0 $b$ $f$;
  end if;
end
$$;

-- ---------------------------------------------------------------------------
-- Idempotent writes
-- ---------------------------------------------------------------------------

create table public.applied_events (
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  event_id uuid not null,
  fn text not null check (char_length(fn) <= 64),
  result jsonb check (octet_length(result::text) <= 200000),
  occurred_at timestamptz,
  applied_at timestamptz not null default now(),
  primary key (user_id, event_id)
);

alter table public.applied_events enable row level security;
revoke all on public.applied_events from anon, authenticated;
grant all on public.applied_events to service_role;
grant select, insert (user_id, event_id, fn, occurred_at) on public.applied_events to authenticated;
grant update (result) on public.applied_events to authenticated;
create policy "learners read their applied events"
  on public.applied_events for select to authenticated
  using (user_id = (select auth.uid()));
create policy "learners record their own events"
  on public.applied_events for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy "learners store their events' results"
  on public.applied_events for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

-- Starts a write: requires a signed-in caller, sets the activity clock, and claims
-- the event id. Returns the stored result when the event was applied before (the
-- caller returns it as is), null when the write should go ahead.
create or replace function private.begin_write(p_fn text, p_event_id uuid, p_occurred_at timestamptz)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb;
begin
  if auth.uid() is null then
    raise exception 'sign in first: % needs a signed-in learner', p_fn using errcode = '42501';
  end if;
  perform set_config('learn.occurred_at', coalesce(p_occurred_at::text, ''), true);
  if p_event_id is null then
    return null;
  end if;
  insert into public.applied_events (event_id, fn, occurred_at)
  values (p_event_id, p_fn, p_occurred_at)
  on conflict (user_id, event_id) do nothing;
  if found then
    return null;
  end if;
  select e.result into prior from public.applied_events e
  where e.user_id = auth.uid() and e.event_id = p_event_id;
  return coalesce(prior, '{}'::jsonb) || jsonb_build_object('replayed', true);
end;
$$;

-- Ends a write: adds the achievements earned in this transaction, stores the result
-- for replays, returns it.
create or replace function private.end_write(p_event_id uuid, p_result jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  full_result jsonb := p_result || jsonb_build_object(
    'replayed', false,
    'achievements', coalesce((
      select jsonb_agg(jsonb_build_object('id', a.id, 'type', a.type, 'title', a.title,
                                          'description', a.description, 'points', a.points,
                                          'earned_at', a.earned_at) order by a.earned_at)
      from public.achievements a
      where a.user_id = auth.uid() and a.created_at = now()), '[]'::jsonb));
begin
  if p_event_id is not null then
    update public.applied_events set result = full_result
    where user_id = auth.uid() and event_id = p_event_id;
  end if;
  return full_result;
end;
$$;

-- The learner's local "today" and the streak as it reads now: 0 once a whole
-- local day (or week, for weekly streaks) has passed without activity.
create or replace function private.streak_now(p_user_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with s as (
    select st.*, (now() at time zone coalesce(p.timezone, 'UTC'))::date as today
    from public.user_streaks st
    left join public.profiles p on p.id = st.user_id
    where st.user_id = p_user_id
  )
  select jsonb_build_object(
    'current', case
      when s.last_activity_date is null then 0
      when s.streak_type = 'weekly'
        and date_trunc('week', s.last_activity_date) >= date_trunc('week', s.today) - interval '7 days'
        then s.current_streak
      when s.streak_type = 'daily' and s.last_activity_date >= s.today - 1 then s.current_streak
      else 0 end,
    'longest', s.longest_streak,
    'last_activity_date', s.last_activity_date,
    'streak_type', s.streak_type,
    'today', s.today,
    'active_today', case
      when s.streak_type = 'weekly'
        then date_trunc('week', s.last_activity_date) = date_trunc('week', s.today)
      else s.last_activity_date = s.today end)
  from s
$$;

-- ---------------------------------------------------------------------------
-- Reads
-- ---------------------------------------------------------------------------

-- The read functions are the same for anon and learners: they join the caller's
-- enrollments, progress, attempts and ratings. anon may read those tables, and RLS
-- shows it nothing (every policy on them is TO authenticated).
grant select on public.course_enrollments, public.user_progress, public.assessment_attempts,
  public.user_feedback to anon;


create or replace function public.catalog(
  p_search text default null,
  p_tags text[] default null,
  p_difficulty text default null,
  p_limit integer default 50,
  p_offset integer default 0
)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with q as (
    select nullif(btrim(p_search), '') as text,
           case when nullif(btrim(p_search), '') is not null
                then websearch_to_tsquery('english', p_search) end as ts,
           case when nullif(btrim(p_search), '') is not null
                then websearch_to_tsquery('simple', p_search) end as ts_simple
  ),
  matches as (
    select c.*,
           case when q.text is null then 0
                else ts_rank(c.search_vector, q.ts) + ts_rank(c.search_vector, q.ts_simple)
                     + case when private.fuzzy_match(q.text, c.title) then 0.5 else 0 end
           end as rank
    from public.courses c, q
    where (q.text is null
           or c.search_vector @@ q.ts
           or c.search_vector @@ q.ts_simple
           or private.fuzzy_match(q.text, c.title))
      and (p_tags is null or cardinality(p_tags) = 0 or c.tags && p_tags)
      and (p_difficulty is null or c.difficulty_level = p_difficulty)
  ),
  page as (
    select m.* from matches m
    order by m.rank desc, m.is_published desc, m.title, m.id
    limit least(greatest(coalesce(p_limit, 50), 1), 200) offset greatest(coalesce(p_offset, 0), 0)
  )
  select jsonb_build_object(
    'total', (select count(*) from matches),
    'tags', coalesce((select jsonb_agg(distinct t order by t)
                      from public.courses c2, unnest(c2.tags) t), '[]'::jsonb),
    'courses', coalesce(jsonb_agg(jsonb_build_object(
      'id', p.id, 'slug', p.slug, 'title', p.title,
      'short_description', p.short_description, 'description', p.description,
      'duration', p.duration, 'difficulty_level', p.difficulty_level,
      'estimated_hours', p.estimated_hours, 'tags', to_jsonb(p.tags),
      'thumbnail_url', p.thumbnail_url, 'is_published', p.is_published,
      'is_mine', p.created_by is not distinct from auth.uid(),
      'lesson_count', (select count(*) from public.lessons l
                       where l.course_id = p.id and l.is_published),
      'assessment_count', (select count(*) from public.assessments a
                           where a.course_id = p.id and a.is_published),
      'rating_avg', cs.rating_avg, 'rating_count', coalesce(cs.rating_count, 0),
      'enrolled', e.id is not null, 'status', e.status,
      'progress', e.progress_percentage
    ) order by p.rank desc, p.is_published desc, p.title, p.id), '[]'::jsonb))
  from page p
  left join public.course_stats cs on cs.course_id = p.id
  left join public.course_enrollments e on e.course_id = p.id and e.user_id = auth.uid()
$$;

create or replace function public.course_detail(p_course_id uuid default null, p_slug text default null)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  c public.courses;
  uid uuid := auth.uid();
begin
  select * into c from public.courses
  where (p_course_id is not null and id = p_course_id) or (p_course_id is null and slug = p_slug);
  if not found then
    raise exception 'course not found' using errcode = 'P0002';
  end if;
  return jsonb_build_object(
    'course', jsonb_build_object(
      'id', c.id, 'slug', c.slug, 'title', c.title, 'description', c.description,
      'short_description', c.short_description, 'duration', c.duration,
      'difficulty_level', c.difficulty_level, 'estimated_hours', c.estimated_hours,
      'tags', to_jsonb(c.tags), 'thumbnail_url', c.thumbnail_url,
      'is_published', c.is_published, 'is_mine', c.created_by is not distinct from uid,
      'rating_avg', (select cs.rating_avg from public.course_stats cs where cs.course_id = c.id),
      'rating_count', coalesce((select cs.rating_count from public.course_stats cs
                                where cs.course_id = c.id), 0)),
    'enrollment', (select jsonb_build_object(
                     'status', e.status, 'progress', e.progress_percentage,
                     'enrollment_date', e.enrollment_date, 'last_accessed', e.last_accessed,
                     'completed_at', e.completed_at)
                   from public.course_enrollments e
                   where e.course_id = c.id and e.user_id = uid),
    'lessons', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', l.id, 'slug', l.slug, 'title', l.title, 'duration', l.duration,
               'difficulty', l.difficulty, 'order_index', l.order_index,
               'is_published', l.is_published,
               'completed', coalesce(up.completed, false),
               'time_spent', coalesce(up.time_spent, 0))
             order by l.order_index, l.id)
      from public.lessons l
      left join public.user_progress up on up.lesson_id = l.id and up.user_id = uid
      where l.course_id = c.id), '[]'::jsonb),
    'assessments', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', a.id, 'slug', a.slug, 'title', a.title, 'description', a.description,
               'difficulty', a.difficulty, 'time_limit', a.time_limit, 'lesson_id', a.lesson_id,
               'language', a.language, 'is_published', a.is_published,
               'best_score', (select max(t.score) from public.assessment_attempts t
                              where t.assessment_id = a.id and t.user_id = uid
                                and t.status = 'completed'),
               'attempts', (select count(*) from public.assessment_attempts t
                            where t.assessment_id = a.id and t.user_id = uid
                              and t.status = 'completed'))
             order by (select l.order_index from public.lessons l where l.id = a.lesson_id)
                      nulls last, a.title)
      from public.assessments a
      where a.course_id = c.id), '[]'::jsonb),
    'my_rating', (select jsonb_build_object('rating', f.rating, 'feedback_text', f.feedback_text)
                  from public.user_feedback f
                  where f.user_id = uid and f.course_id = c.id
                    and f.feedback_type = 'course_rating'));
end;
$$;

create or replace function public.lesson_detail(p_lesson_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  l public.lessons;
  uid uuid := auth.uid();
begin
  select * into l from public.lessons where id = p_lesson_id;
  if not found then
    raise exception 'lesson not found' using errcode = 'P0002';
  end if;
  return jsonb_build_object(
    'lesson', jsonb_build_object(
      'id', l.id, 'course_id', l.course_id, 'slug', l.slug, 'title', l.title,
      'content', l.content, 'explanation', l.explanation, 'code_example', l.code_example,
      'key_points', to_jsonb(l.key_points), 'duration', l.duration, 'difficulty', l.difficulty,
      'order_index', l.order_index, 'is_published', l.is_published),
    'course', (select jsonb_build_object('id', c.id, 'slug', c.slug, 'title', c.title)
               from public.courses c where c.id = l.course_id),
    'previous', (select jsonb_build_object('id', p.id, 'title', p.title)
                 from public.lessons p
                 where p.course_id = l.course_id and p.is_published
                   and (p.order_index, p.id) < (l.order_index, l.id)
                 order by p.order_index desc, p.id desc limit 1),
    'next', (select jsonb_build_object('id', n.id, 'title', n.title)
             from public.lessons n
             where n.course_id = l.course_id and n.is_published
               and (n.order_index, n.id) > (l.order_index, l.id)
             order by n.order_index, n.id limit 1),
    'progress', (select jsonb_build_object('completed', up.completed, 'time_spent', up.time_spent,
                                           'last_position', up.last_position,
                                           'completed_at', up.completed_at)
                 from public.user_progress up where up.lesson_id = l.id and up.user_id = uid),
    'enrolled', exists (select 1 from public.course_enrollments e
                        where e.course_id = l.course_id and e.user_id = uid),
    'assessments', coalesce((select jsonb_agg(jsonb_build_object('id', a.id, 'title', a.title)
                                              order by a.title)
                             from public.assessments a where a.lesson_id = l.id), '[]'::jsonb));
end;
$$;

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
      'is_published', a.is_published),
    'course', (select jsonb_build_object('id', c.id, 'slug', c.slug, 'title', c.title)
               from public.courses c where c.id = a.course_id),
    'lesson', (select jsonb_build_object('id', l.id, 'title', l.title)
               from public.lessons l where l.id = a.lesson_id),
    'attempts', coalesce((
      select jsonb_agg(jsonb_build_object('id', t.id, 'status', t.status, 'score', t.score,
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

create or replace function public.dashboard()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  streak jsonb;
  today date;
begin
  if uid is null then
    raise exception 'sign in to see your dashboard' using errcode = '42501';
  end if;
  streak := private.streak_now(uid);
  today := coalesce((streak ->> 'today')::date,
                    (now() at time zone coalesce((select p.timezone from public.profiles p
                                                  where p.id = uid), 'UTC'))::date);
  return jsonb_build_object(
    'profile', (select jsonb_build_object('id', p.id, 'email', p.email, 'full_name', p.full_name,
                                          'timezone', p.timezone,
                                          'preferred_language', p.preferred_language)
                from public.profiles p where p.id = uid),
    'streak', coalesce(streak, jsonb_build_object('current', 0, 'longest', 0, 'today', today,
                                                  'active_today', false,
                                                  'streak_type', 'daily')),
    'enrollments', coalesce((
      select jsonb_agg(jsonb_build_object(
               'course_id', c.id, 'slug', c.slug, 'title', c.title, 'status', e.status,
               'progress', e.progress_percentage, 'last_accessed', e.last_accessed,
               'completed_at', e.completed_at,
               'next_lesson', (select jsonb_build_object('id', l.id, 'title', l.title)
                               from public.lessons l
                               where l.course_id = c.id and l.is_published
                                 and not exists (select 1 from public.user_progress up
                                                 where up.lesson_id = l.id and up.user_id = uid
                                                   and up.completed)
                               order by l.order_index, l.id limit 1))
             order by e.status = 'active' desc, e.last_accessed desc nulls last,
                      e.enrollment_date desc)
      from public.course_enrollments e
      join public.courses c on c.id = e.course_id
      where e.user_id = uid and e.status <> 'dropped'), '[]'::jsonb),
    'achievements', coalesce((
      select jsonb_agg(jsonb_build_object('id', a.id, 'type', a.type, 'title', a.title,
                                          'description', a.description, 'points', a.points,
                                          'earned_at', a.earned_at) order by a.earned_at desc)
      from (select * from public.achievements a where a.user_id = uid
            order by a.earned_at desc limit 5) a), '[]'::jsonb),
    'points', coalesce((select sum(a.points) from public.achievements a where a.user_id = uid), 0),
    'unread_notifications', (select count(*) from public.notifications n
                             where n.user_id = uid and not n.is_read),
    'activity', coalesce((
      select jsonb_agg(jsonb_build_object('date', d.session_date, 'lessons', d.lessons,
                                          'assessments', d.assessments, 'seconds', d.seconds)
                       order by d.session_date)
      from (select la.session_date, sum(la.lessons_completed) as lessons,
                   sum(la.assessments_completed) as assessments,
                   sum(la.session_duration) as seconds
            from public.learning_analytics la
            where la.user_id = uid and la.session_date > today - 365
            group by la.session_date) d), '[]'::jsonb));
end;
$$;

create or replace function public.my_profile()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception 'sign in to see your profile' using errcode = '42501';
  end if;
  return jsonb_build_object(
    'profile', (select to_jsonb(p) - 'updated_at' from public.profiles p where p.id = uid),
    'streak', private.streak_now(uid),
    'points', coalesce((select sum(a.points) from public.achievements a where a.user_id = uid), 0),
    'achievements', coalesce((
      select jsonb_agg(jsonb_build_object('id', a.id, 'type', a.type, 'title', a.title,
                                          'description', a.description, 'points', a.points,
                                          'earned_at', a.earned_at) order by a.earned_at desc)
      from public.achievements a where a.user_id = uid), '[]'::jsonb));
end;
$$;

create or replace function public.notifications_list(p_limit integer default 100)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'unread', (select count(*) from public.notifications n
               where n.user_id = auth.uid() and not n.is_read),
    'notifications', coalesce(jsonb_agg(jsonb_build_object(
        'id', n.id, 'title', n.title, 'message', n.message, 'type', n.type,
        'is_read', n.is_read, 'action_url', n.action_url, 'created_at', n.created_at)
      order by n.is_read, n.created_at desc), '[]'::jsonb))
  from (select * from public.notifications n where n.user_id = auth.uid()
        order by n.is_read, n.created_at desc
        limit least(greatest(coalesce(p_limit, 100), 1), 500)) n
$$;

create or replace function public.chat_history_for(
  p_context text default 'general_chat',
  p_course_id uuid default null,
  p_lesson_id uuid default null,
  p_assessment_id uuid default null,
  p_limit integer default 50
)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', h.id, 'question', h.question, 'answer', h.answer,
           'message_type', h.message_type, 'created_at', h.created_at)
         order by h.created_at), '[]'::jsonb)
  from (select * from public.chat_history h
        where h.user_id = auth.uid() and h.context = p_context
          and h.course_id is not distinct from p_course_id
          and h.lesson_id is not distinct from p_lesson_id
          and h.assessment_id is not distinct from p_assessment_id
        order by h.created_at desc
        limit least(greatest(coalesce(p_limit, 50), 1), 200)) h
$$;

-- Every course and lesson the caller can open, for the command palette.
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
                         where l.is_published or c.created_by = auth.uid()), '[]'::jsonb))
$$;

-- Course passages matching a question: the tutor's answer when no model is reachable.
create or replace function public.search_lessons(
  p_query text,
  p_course_id uuid default null,
  p_limit integer default 3
)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with q as (select websearch_to_tsquery('english', coalesce(p_query, '')) as ts)
  select coalesce(jsonb_agg(jsonb_build_object(
           'lesson_id', m.id, 'title', m.title, 'course_id', m.course_id,
           'course_title', m.course_title, 'rank', m.rank,
           'excerpt', ts_headline('english', m.prose, q.ts,
                                  'MaxFragments=2, MinWords=15, MaxWords=45, '
                                  'StartSel=**, StopSel=**, FragmentDelimiter=" … "'))
         order by m.rank desc), '[]'::jsonb)
  from q, lateral (
    select l.id, l.title, l.course_id, c.title as course_title,
           ts_rank(l.search_vector, q.ts) as rank,
           -- prose only: code blocks and heading marks make poor excerpts
           regexp_replace(regexp_replace(
             coalesce(l.content, '') || E'\n\n' || coalesce(l.explanation, ''),
             '```.*?```', ' ', 'g'), '^#+ *', '', 'gn') as prose
    from public.lessons l join public.courses c on c.id = l.course_id
    where l.search_vector @@ q.ts and (p_course_id is null or l.course_id = p_course_id)
    order by rank desc
    limit least(greatest(coalesce(p_limit, 3), 1), 20)) m
$$;

-- ---------------------------------------------------------------------------
-- Writes
-- ---------------------------------------------------------------------------

create or replace function public.enroll(
  p_course_id uuid,
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('enroll', p_event_id, p_occurred_at);
  e public.course_enrollments;
begin
  if prior is not null then
    return prior;
  end if;
  insert into public.course_enrollments (user_id, course_id)
  values (auth.uid(), p_course_id)
  on conflict (user_id, course_id) do nothing;
  update public.course_enrollments set status = 'active', last_accessed = now()
  where user_id = auth.uid() and course_id = p_course_id and status in ('paused', 'dropped');
  select * into e from public.course_enrollments
  where user_id = auth.uid() and course_id = p_course_id;
  return private.end_write(p_event_id, jsonb_build_object(
    'enrollment', jsonb_build_object('course_id', e.course_id, 'status', e.status,
                                     'progress', e.progress_percentage,
                                     'enrollment_date', e.enrollment_date)));
end;
$$;

create or replace function public.set_enrollment_status(
  p_course_id uuid,
  p_status text,
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('set_enrollment_status', p_event_id, p_occurred_at);
  e public.course_enrollments;
begin
  if prior is not null then
    return prior;
  end if;
  if p_status not in ('active', 'paused', 'dropped') then
    raise exception 'status must be active, paused or dropped, not %', p_status
      using errcode = '22023';
  end if;
  update public.course_enrollments set status = p_status, last_accessed = now()
  where user_id = auth.uid() and course_id = p_course_id
  returning * into e;
  if not found then
    raise exception 'you are not enrolled in this course' using errcode = 'P0002';
  end if;
  return private.end_write(p_event_id, jsonb_build_object(
    'enrollment', jsonb_build_object('course_id', e.course_id, 'status', e.status,
                                     'progress', e.progress_percentage)));
end;
$$;

create or replace function public.record_lesson_progress(
  p_lesson_id uuid,
  p_time_spent integer default 0,         -- seconds to add
  p_last_position integer default null,
  p_completed boolean default null,
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('record_lesson_progress', p_event_id, p_occurred_at);
  course uuid;
  up public.user_progress;
begin
  if prior is not null then
    return prior;
  end if;
  if p_time_spent is null or p_time_spent not between 0 and 86400 then
    raise exception 'time spent must be between 0 and 86400 seconds per call'
      using errcode = '22023';
  end if;
  select l.course_id into course from public.lessons l where l.id = p_lesson_id;
  if course is null then
    raise exception 'lesson not found' using errcode = 'P0002';
  end if;
  insert into public.user_progress (user_id, lesson_id, course_id, completed, time_spent,
                                    last_position)
  values (auth.uid(), p_lesson_id, course, coalesce(p_completed, false), p_time_spent,
          coalesce(p_last_position, 0))
  on conflict (user_id, lesson_id) do update set
    time_spent = least(public.user_progress.time_spent + excluded.time_spent, 10000000),
    last_position = coalesce(p_last_position, public.user_progress.last_position),
    completed = coalesce(p_completed, public.user_progress.completed)
  returning * into up;
  update public.course_enrollments set last_accessed = now()
  where user_id = auth.uid() and course_id = course;
  return private.end_write(p_event_id, jsonb_build_object(
    'progress', jsonb_build_object('lesson_id', up.lesson_id, 'completed', up.completed,
                                   'time_spent', up.time_spent,
                                   'last_position', up.last_position,
                                   'completed_at', up.completed_at),
    'enrollment', (select jsonb_build_object('course_id', e.course_id, 'status', e.status,
                                             'progress', e.progress_percentage)
                   from public.course_enrollments e
                   where e.user_id = auth.uid() and e.course_id = course),
    'streak', private.streak_now(auth.uid())));
end;
$$;

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
begin
  if prior is not null then
    return prior;
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

create or replace function public.submit_attempt(
  p_assessment_id uuid,
  p_code text,
  p_execution_result jsonb,
  p_score numeric,
  p_attempt_id uuid default null,
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('submit_attempt', p_event_id, p_occurred_at);
  t public.assessment_attempts;
begin
  if prior is not null then
    return prior;
  end if;
  if p_attempt_id is not null then
    update public.assessment_attempts set
      status = 'completed', submitted_code = p_code, execution_result = p_execution_result,
      score = p_score
    where id = p_attempt_id and user_id = auth.uid() and assessment_id = p_assessment_id
      and status = 'in-progress'
    returning * into t;
    if not found then
      raise exception 'that attempt is already submitted or is not yours' using errcode = 'P0002';
    end if;
  else
    insert into public.assessment_attempts
      (user_id, assessment_id, status, submitted_code, execution_result, score)
    values (auth.uid(), p_assessment_id, 'completed', p_code, p_execution_result, p_score)
    returning * into t;
  end if;
  return private.end_write(p_event_id, jsonb_build_object(
    'attempt', jsonb_build_object('id', t.id, 'status', t.status, 'score', t.score,
                                  'started_at', t.started_at, 'completed_at', t.completed_at,
                                  'time_spent', t.time_spent),
    'best_score', (select max(x.score) from public.assessment_attempts x
                   where x.user_id = auth.uid() and x.assessment_id = p_assessment_id
                     and x.status = 'completed'),
    'streak', private.streak_now(auth.uid())));
end;
$$;

create or replace function public.log_chat(
  p_question text,
  p_answer text,
  p_context text default 'general_chat',
  p_course_id uuid default null,
  p_lesson_id uuid default null,
  p_assessment_id uuid default null,
  p_message_type text default 'text',
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('log_chat', p_event_id, p_occurred_at);
  new_id uuid;
begin
  if prior is not null then
    return prior;
  end if;
  insert into public.chat_history (user_id, course_id, lesson_id, assessment_id, context,
                                   question, answer, message_type)
  values (auth.uid(), p_course_id, p_lesson_id, p_assessment_id, p_context, p_question,
          p_answer, coalesce(p_message_type, 'text'))
  returning id into new_id;
  return private.end_write(p_event_id, jsonb_build_object('id', new_id));
end;
$$;

create or replace function public.log_ai_interaction(
  p_interaction_type text,
  p_input_data jsonb default null,
  p_output_data jsonb default null,
  p_tokens_used integer default 0,
  p_processing_time integer default 0,
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('log_ai_interaction', p_event_id, p_occurred_at);
  new_id uuid;
begin
  if prior is not null then
    return prior;
  end if;
  insert into public.ai_interactions (user_id, interaction_type, input_data, output_data,
                                      tokens_used, processing_time)
  values (auth.uid(), p_interaction_type, p_input_data, p_output_data,
          coalesce(p_tokens_used, 0), coalesce(p_processing_time, 0))
  returning id into new_id;
  return private.end_write(p_event_id, jsonb_build_object('id', new_id));
end;
$$;

create or replace function public.mark_notifications_read(
  p_ids uuid[] default null,                -- null: all of them
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('mark_notifications_read', p_event_id, p_occurred_at);
  changed integer;
begin
  if prior is not null then
    return prior;
  end if;
  update public.notifications set is_read = true
  where user_id = auth.uid() and not is_read and (p_ids is null or id = any (p_ids));
  get diagnostics changed = row_count;
  return private.end_write(p_event_id, jsonb_build_object(
    'marked', changed,
    'unread', (select count(*) from public.notifications n
               where n.user_id = auth.uid() and not n.is_read)));
end;
$$;

create or replace function public.submit_feedback(
  p_rating integer default null,
  p_feedback_text text default null,
  p_feedback_type text default 'general',
  p_course_id uuid default null,
  p_lesson_id uuid default null,
  p_assessment_id uuid default null,
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('submit_feedback', p_event_id, p_occurred_at);
  f public.user_feedback;
begin
  if prior is not null then
    return prior;
  end if;
  if p_feedback_type = 'course_rating' then
    insert into public.user_feedback (user_id, course_id, rating, feedback_text, feedback_type)
    values (auth.uid(), p_course_id, p_rating, nullif(btrim(p_feedback_text), ''), 'course_rating')
    on conflict (user_id, course_id) where feedback_type = 'course_rating' do update set
      rating = excluded.rating, feedback_text = excluded.feedback_text
    returning * into f;
  else
    insert into public.user_feedback (user_id, course_id, lesson_id, assessment_id, rating,
                                      feedback_text, feedback_type)
    values (auth.uid(), p_course_id, p_lesson_id, p_assessment_id, p_rating,
            nullif(btrim(p_feedback_text), ''), coalesce(p_feedback_type, 'general'))
    returning * into f;
  end if;
  return private.end_write(p_event_id, jsonb_build_object(
    'feedback', jsonb_build_object('id', f.id, 'rating', f.rating, 'feedback_type', f.feedback_type),
    'course_rating', (select jsonb_build_object('rating_avg', cs.rating_avg,
                                                'rating_count', cs.rating_count)
                      from public.course_stats cs where cs.course_id = f.course_id)));
end;
$$;

-- p_changes: any of full_name, bio, avatar_url, learning_goals (array of strings),
-- preferred_language, timezone, streak_type ('daily' | 'weekly').
create or replace function public.update_profile(
  p_changes jsonb,
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('update_profile', p_event_id, p_occurred_at);
  unknown text;
begin
  if prior is not null then
    return prior;
  end if;
  if jsonb_typeof(p_changes) is distinct from 'object' then
    raise exception 'profile changes must be a JSON object' using errcode = '22023';
  end if;
  select string_agg(k, ', ') into unknown from jsonb_object_keys(p_changes) k
  where k not in ('full_name', 'bio', 'avatar_url', 'learning_goals', 'preferred_language',
                  'timezone', 'streak_type');
  if unknown is not null then
    raise exception 'these profile fields cannot be changed: %', unknown using errcode = '22023';
  end if;
  if p_changes ? 'learning_goals' and jsonb_typeof(p_changes -> 'learning_goals') <> 'array' then
    raise exception 'learning_goals must be a list of strings' using errcode = '22023';
  end if;
  update public.profiles p set
    full_name = case when p_changes ? 'full_name' then p_changes ->> 'full_name' else p.full_name end,
    bio = case when p_changes ? 'bio' then p_changes ->> 'bio' else p.bio end,
    avatar_url = case when p_changes ? 'avatar_url' then p_changes ->> 'avatar_url'
                      else p.avatar_url end,
    learning_goals = case when p_changes ? 'learning_goals'
                          then array(select jsonb_array_elements_text(p_changes -> 'learning_goals'))
                          else p.learning_goals end,
    preferred_language = case when p_changes ? 'preferred_language'
                              then coalesce(p_changes ->> 'preferred_language', 'en')
                              else p.preferred_language end,
    timezone = case when p_changes ? 'timezone' then coalesce(p_changes ->> 'timezone', 'UTC')
                    else p.timezone end
  where p.id = auth.uid();
  if p_changes ? 'streak_type' then
    update public.user_streaks set streak_type = p_changes ->> 'streak_type'
    where user_id = auth.uid();
  end if;
  return private.end_write(p_event_id, jsonb_build_object(
    'profile', (select to_jsonb(p) - 'updated_at' from public.profiles p where p.id = auth.uid()),
    'streak', private.streak_now(auth.uid())));
end;
$$;

-- ---------------------------------------------------------------------------
-- Privileges: reads of public content for anon too; everything else signed in.
-- ---------------------------------------------------------------------------

revoke all on all functions in schema public from public, anon, authenticated;
grant execute on function
  public.catalog(text, text[], text, integer, integer),
  public.course_detail(uuid, text),
  public.lesson_detail(uuid),
  public.assessment_detail(uuid),
  public.search_lessons(text, uuid, integer),
  public.navigation()
  to anon, authenticated, service_role;
grant execute on function
  public.dashboard(),
  public.my_profile(),
  public.notifications_list(integer),
  public.chat_history_for(text, uuid, uuid, uuid, integer),
  public.enroll(uuid, uuid, timestamptz),
  public.set_enrollment_status(uuid, text, uuid, timestamptz),
  public.record_lesson_progress(uuid, integer, integer, boolean, uuid, timestamptz),
  public.start_attempt(uuid, uuid, timestamptz),
  public.submit_attempt(uuid, text, jsonb, numeric, uuid, uuid, timestamptz),
  public.log_chat(text, text, text, uuid, uuid, uuid, text, uuid, timestamptz),
  public.log_ai_interaction(text, jsonb, jsonb, integer, integer, uuid, timestamptz),
  public.mark_notifications_read(uuid[], uuid, timestamptz),
  public.submit_feedback(integer, text, text, uuid, uuid, uuid, uuid, timestamptz),
  public.update_profile(jsonb, uuid, timestamptz)
  to authenticated, service_role;

revoke all on all functions in schema private from public, anon, authenticated;
grant execute on function
  private.activity_time(),
  private.is_valid_timezone(text),
  private.fuzzy_match(text, text),
  private.begin_write(text, uuid, timestamptz),
  private.end_write(uuid, jsonb),
  private.streak_now(uuid)
  to anon, authenticated, service_role;
