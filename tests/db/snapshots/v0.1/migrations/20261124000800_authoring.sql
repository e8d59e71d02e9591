-- Authoring: publish a course folder as its author, in one idempotent call.
--
-- publish_course(p_course) upserts the course by slug, its lessons and assessments by
-- (course, slug), and unpublishes (never deletes) lessons and assessments that are no
-- longer in the folder, so learners' progress survives. Rows that did not change are
-- not touched: publishing twice changes nothing (no updated_at bump, no audit entry).
-- SECURITY INVOKER: RLS decides that only the course's author can do this.

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

  select c.id into v_course from public.courses c where c.slug = p_course ->> 'slug';
  if v_course is not null and not exists (
       select 1 from public.courses c where c.id = v_course and c.created_by = uid) then
    raise exception 'the slug "%" belongs to another author''s course: choose another slug',
      p_course ->> 'slug' using errcode = '42501';
  end if;

  begin
    insert into public.courses as c
      (slug, title, description, short_description, duration, difficulty_level,
       estimated_hours, tags, thumbnail_url, is_published, created_by)
    values (p_course ->> 'slug', p_course ->> 'title', p_course ->> 'description',
            p_course ->> 'short_description', p_course ->> 'duration',
            coalesce(p_course ->> 'difficulty_level', 'Beginner'),
            (p_course ->> 'estimated_hours')::numeric,
            coalesce(array(select jsonb_array_elements_text(p_course -> 'tags')), '{}'),
            p_course ->> 'thumbnail_url', not p_draft, uid)
    on conflict (slug) do update set
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
  exception when insufficient_privilege then
    raise exception 'the slug "%" belongs to another author''s course: choose another slug',
      p_course ->> 'slug' using errcode = '42501';
  end;
  get diagnostics n = row_count;
  changed := changed + n;
  created := v_course is null;
  select c.id into v_course from public.courses c where c.slug = p_course ->> 'slug';

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

-- Publish or unpublish a whole course (the studio's toggle).
create or replace function public.set_course_published(p_course_id uuid, p_published boolean)
returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  update public.courses set is_published = p_published
  where id = p_course_id and created_by = auth.uid() and is_published is distinct from p_published;
  if not exists (select 1 from public.courses where id = p_course_id and created_by = auth.uid()) then
    raise exception 'course not found among your courses' using errcode = 'P0002';
  end if;
  return jsonb_build_object('course_id', p_course_id, 'published', p_published);
end;
$$;

-- A course as its folder would hold it (the author's view, solutions included),
-- for `learn course export`.
create or replace function public.export_course(p_slug text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  c public.courses;
begin
  select * into c from public.courses where slug = p_slug and created_by = auth.uid();
  if not found then
    raise exception 'no course "%" among your courses', p_slug using errcode = 'P0002';
  end if;
  return jsonb_build_object(
    'slug', c.slug, 'title', c.title, 'description', c.description,
    'short_description', c.short_description, 'duration', c.duration,
    'difficulty_level', c.difficulty_level, 'estimated_hours', c.estimated_hours,
    'tags', to_jsonb(c.tags), 'thumbnail_url', c.thumbnail_url,
    'is_published', c.is_published,
    'lessons', coalesce((select jsonb_agg(jsonb_build_object(
        'slug', l.slug, 'title', l.title, 'content', l.content, 'explanation', l.explanation,
        'code_example', l.code_example, 'key_points', to_jsonb(l.key_points),
        'duration', l.duration, 'difficulty', l.difficulty, 'order_index', l.order_index)
        order by l.order_index, l.slug)
      from public.lessons l where l.course_id = c.id and l.is_published), '[]'::jsonb),
    'assessments', coalesce((select jsonb_agg(jsonb_build_object(
        'slug', a.slug, 'title', a.title, 'description', a.description,
        'difficulty', a.difficulty, 'time_limit', a.time_limit,
        'instructions', a.instructions, 'starter_code', a.starter_code,
        'test_cases', a.test_cases, 'language', a.language, 'entry', a.entry,
        'limits', a.limits,
        'lesson_slug', (select l.slug from public.lessons l where l.id = a.lesson_id),
        'solution', (select s.solution from public.assessment_solutions s
                     where s.assessment_id = a.id))
        order by a.slug)
      from public.assessments a where a.course_id = c.id and a.is_published), '[]'::jsonb));
end;
$$;

revoke all on function public.publish_course(jsonb, boolean), public.set_course_published(uuid, boolean),
  public.export_course(text) from public, anon;
grant execute on function public.publish_course(jsonb, boolean),
  public.set_course_published(uuid, boolean), public.export_course(text)
  to authenticated, service_role;
