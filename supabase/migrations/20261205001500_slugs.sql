-- Issue #15 §6: slugs are unique per author.
--
-- Before, a slug was unique across every course, drafts included: a learner's invisible
-- draft could squat "python-foundations", and publish_course answered two oracles about
-- other authors' drafts (the "belongs to another author" error, and an upsert that
-- matched a hidden row before RLS). Now (created_by, slug) is the key: publishing only
-- ever meets the caller's own course, so nobody can squat a slug and nothing about
-- another author's drafts is revealed. Courses are addressed by id everywhere; a slug
-- lookup (course_detail p_slug) finds the caller's own course first, else the one
-- visible course with that slug, and asks for the id when several authors use it.
--
-- publish_course also checks the course limits of §8 up front (500 lessons, 500
-- assessments, 10 MB; the tables enforce them on every path, see 20261205001700).

alter table public.courses drop constraint courses_slug_key;
alter table public.courses add constraint courses_author_slug_key unique (created_by, slug);
create index courses_slug_idx on public.courses (slug);

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
    where (c.archived_at is null or c.created_by is not distinct from auth.uid())
      and (q.text is null
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
                      from public.courses c2, unnest(c2.tags) t
                      where c2.archived_at is null
                         or c2.created_by is not distinct from auth.uid()), '[]'::jsonb),
    'courses', coalesce(jsonb_agg(jsonb_build_object(
      'id', p.id, 'slug', p.slug, 'title', p.title,
      'short_description', p.short_description, 'description', p.description,
      'duration', p.duration, 'difficulty_level', p.difficulty_level,
      'estimated_hours', p.estimated_hours, 'tags', to_jsonb(p.tags),
      'thumbnail_url', p.thumbnail_url, 'is_published', p.is_published,
      'archived', p.archived_at is not null,
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
  if p_course_id is not null then
    select * into c from public.courses x where x.id = p_course_id;
  else
    -- A slug is unique per author: the caller's own course first, else the one
    -- visible course that uses it.
    select * into c from public.courses x
    where x.slug = p_slug
    order by x.created_by is not distinct from uid desc, x.is_published desc, x.id
    limit 1;
    if found and c.created_by is distinct from uid
       and (select count(*) from public.courses x
            where x.slug = p_slug and x.created_by is distinct from uid) > 1 then
      raise exception 'several courses use the slug "%": open the course by its id (`learn courses` lists them)',
        p_slug using errcode = '22023';
    end if;
  end if;
  if c.id is null then
    raise exception 'course not found' using errcode = 'P0002';
  end if;
  return jsonb_build_object(
    'course', jsonb_build_object(
      'id', c.id, 'slug', c.slug, 'title', c.title, 'description', c.description,
      'short_description', c.short_description, 'duration', c.duration,
      'difficulty_level', c.difficulty_level, 'estimated_hours', c.estimated_hours,
      'tags', to_jsonb(c.tags), 'thumbnail_url', c.thumbnail_url,
      'is_published', c.is_published, 'archived', c.archived_at is not null,
      'is_mine', c.created_by is not distinct from uid,
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

create or replace function public.publish_course(p_course jsonb, p_draft boolean default false)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  v_course uuid;
  created boolean := false;
  n integer;
  changed integer := 0;
  lesson_slugs text[];
  assessment_slugs text[];
begin
  if uid is null then
    raise exception 'sign in as the course author to publish' using errcode = '42501';
  end if;
  if jsonb_typeof(p_course) is distinct from 'object' or coalesce(p_course ->> 'slug', '') = '' then
    raise exception 'a course needs a slug and a title' using errcode = '22023';
  end if;

  if jsonb_typeof(p_course -> 'lessons') = 'array'
     and jsonb_array_length(p_course -> 'lessons') > 500 then
    raise exception 'limit: a course holds at most 500 lessons (this one has %)',
      jsonb_array_length(p_course -> 'lessons') using errcode = '54000';
  end if;
  if jsonb_typeof(p_course -> 'assessments') = 'array'
     and jsonb_array_length(p_course -> 'assessments') > 500 then
    raise exception 'limit: a course holds at most 500 assessments (this one has %)',
      jsonb_array_length(p_course -> 'assessments') using errcode = '54000';
  end if;
  if octet_length(p_course::text) > 12 * 1024 * 1024 then
    raise exception 'limit: a course holds at most 10 MB of text (this one is % MB)',
      round(octet_length(p_course::text) / 1048576.0, 1) using errcode = '54000';
  end if;

  -- Slugs are unique per author: only the caller's own course can match.
  select c.id into v_course from public.courses c
  where c.created_by = uid and c.slug = p_course ->> 'slug';

  insert into public.courses as c
    (slug, title, description, short_description, duration, difficulty_level,
     estimated_hours, tags, thumbnail_url, is_published, created_by)
  values (p_course ->> 'slug', p_course ->> 'title', p_course ->> 'description',
          p_course ->> 'short_description', p_course ->> 'duration',
          coalesce(p_course ->> 'difficulty_level', 'Beginner'),
          (p_course ->> 'estimated_hours')::numeric,
          coalesce(array(select jsonb_array_elements_text(p_course -> 'tags')), '{}'),
          p_course ->> 'thumbnail_url', not p_draft, uid)
  on conflict on constraint courses_author_slug_key do update set
    title = excluded.title, description = excluded.description,
    short_description = excluded.short_description, duration = excluded.duration,
    difficulty_level = excluded.difficulty_level, estimated_hours = excluded.estimated_hours,
    tags = excluded.tags, thumbnail_url = excluded.thumbnail_url,
    is_published = excluded.is_published
  where (c.title, c.description, c.short_description, c.duration, c.difficulty_level,
         c.estimated_hours, c.tags, c.thumbnail_url, c.is_published)
        is distinct from
        (excluded.title, excluded.description, excluded.short_description, excluded.duration,
         excluded.difficulty_level, excluded.estimated_hours, excluded.tags,
         excluded.thumbnail_url, excluded.is_published);
  get diagnostics n = row_count;
  changed := changed + n;
  created := v_course is null;
  select c.id into v_course from public.courses c
  where c.created_by = uid and c.slug = p_course ->> 'slug';

  -- Lessons: upsert what the folder has, unpublish what it no longer has.
  insert into public.lessons as l
    (course_id, slug, title, content, explanation, code_example, key_points, duration,
     difficulty, order_index, is_published)
  select v_course, x ->> 'slug', x ->> 'title', x ->> 'content', x ->> 'explanation',
         x ->> 'code_example',
         coalesce(array(select jsonb_array_elements_text(x -> 'key_points')), '{}'),
         x ->> 'duration', x ->> 'difficulty', coalesce((x ->> 'order_index')::integer, 0), true
  from jsonb_array_elements(coalesce(p_course -> 'lessons', '[]'::jsonb)) x
  on conflict on constraint lessons_course_id_slug_key do update set
    title = excluded.title, content = excluded.content, explanation = excluded.explanation,
    code_example = excluded.code_example, key_points = excluded.key_points,
    duration = excluded.duration, difficulty = excluded.difficulty,
    order_index = excluded.order_index, is_published = true
  where (l.title, l.content, l.explanation, l.code_example, l.key_points, l.duration,
         l.difficulty, l.order_index, l.is_published)
        is distinct from
        (excluded.title, excluded.content, excluded.explanation, excluded.code_example,
         excluded.key_points, excluded.duration, excluded.difficulty, excluded.order_index,
         true);
  get diagnostics n = row_count;
  changed := changed + n;

  lesson_slugs := array(select x ->> 'slug'
                        from jsonb_array_elements(coalesce(p_course -> 'lessons', '[]'::jsonb)) x);
  update public.lessons l set is_published = false
  where l.course_id = v_course and l.is_published
    and not (l.slug = any (lesson_slugs));
  get diagnostics n = row_count;
  changed := changed + n;

  -- Assessments, the same way; their reference solutions go where only the author reads.
  insert into public.assessments as a
    (course_id, slug, title, description, difficulty, time_limit, instructions, starter_code,
     test_cases, expected_output, language, entry, limits, lesson_id, is_published, created_by)
  select v_course, x ->> 'slug', x ->> 'title', x ->> 'description', x ->> 'difficulty',
         (x ->> 'time_limit')::integer, x ->> 'instructions', x ->> 'starter_code',
         coalesce(x -> 'test_cases', '[]'::jsonb), x -> 'expected_output',
         coalesce(x ->> 'language', 'python'), x ->> 'entry', coalesce(x -> 'limits', '{}'::jsonb),
         (select l.id from public.lessons l
          where l.course_id = v_course and l.slug = x ->> 'lesson_slug'),
         true, uid
  from jsonb_array_elements(coalesce(p_course -> 'assessments', '[]'::jsonb)) x
  on conflict on constraint assessments_course_id_slug_key do update set
    title = excluded.title, description = excluded.description,
    difficulty = excluded.difficulty, time_limit = excluded.time_limit,
    instructions = excluded.instructions, starter_code = excluded.starter_code,
    test_cases = excluded.test_cases, expected_output = excluded.expected_output,
    language = excluded.language, entry = excluded.entry, limits = excluded.limits,
    lesson_id = excluded.lesson_id, is_published = true
  where (a.title, a.description, a.difficulty, a.time_limit, a.instructions, a.starter_code,
         a.test_cases, a.expected_output, a.language, a.entry, a.limits, a.lesson_id,
         a.is_published)
        is distinct from
        (excluded.title, excluded.description, excluded.difficulty, excluded.time_limit,
         excluded.instructions, excluded.starter_code, excluded.test_cases,
         excluded.expected_output, excluded.language, excluded.entry, excluded.limits,
         excluded.lesson_id, true);
  get diagnostics n = row_count;
  changed := changed + n;

  assessment_slugs := array(select x ->> 'slug'
                            from jsonb_array_elements(coalesce(p_course -> 'assessments',
                                                               '[]'::jsonb)) x);
  update public.assessments a set is_published = false
  where a.course_id = v_course and a.is_published
    and not (a.slug = any (assessment_slugs));
  get diagnostics n = row_count;
  changed := changed + n;

  insert into public.assessment_solutions as s (assessment_id, solution)
  select a.id, x ->> 'solution'
  from jsonb_array_elements(coalesce(p_course -> 'assessments', '[]'::jsonb)) x
  join public.assessments a on a.course_id = v_course and a.slug = x ->> 'slug'
  where coalesce(x ->> 'solution', '') <> ''
  on conflict (assessment_id) do update set solution = excluded.solution
  where s.solution is distinct from excluded.solution;
  get diagnostics n = row_count;
  changed := changed + n;

  return jsonb_build_object('course_id', v_course, 'slug', p_course ->> 'slug',
                            'created', created, 'changed', changed,
                            'published', not p_draft);
end;
$$;

