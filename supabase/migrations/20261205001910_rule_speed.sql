-- The rules at the speed of the queries they guard (benchmarks/rules_load.py, db_scale.py).
--
-- 1. refresh_course_progress runs on every progress write. As one SQL statement with
--    `p_user_id is null or e.user_id = p_user_id` its cached plan read every enrollment
--    of the course (2,000 at 100k learners) to refresh one: ~5 ms a write. Now the
--    enrollments to refresh are chosen first, by the index that fits, then refreshed
--    by id. Same rules as 20261205001600_small_holes.sql.
create or replace function private.refresh_course_progress(p_course_id uuid, p_user_id uuid default null)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  ids uuid[];
begin
  if p_user_id is not null then
    ids := array(select e.id from public.course_enrollments e
                 where e.user_id = p_user_id and e.course_id = p_course_id);
  else
    ids := array(select e.id from public.course_enrollments e where e.course_id = p_course_id);
  end if;
  if cardinality(ids) = 0 then
    return;
  end if;
  with total as (
    select count(*) as n from public.lessons l
    where l.course_id = p_course_id and l.is_published
  ),
  done as (
    select e.id as enrollment_id, e.status,
           (select count(*) from public.user_progress up
              join public.lessons l on l.id = up.lesson_id
            where up.user_id = e.user_id and up.course_id = p_course_id
              and up.completed and l.is_published) as n
    from public.course_enrollments e
    where e.id = any (ids)
  ),
  pct as (
    select d.enrollment_id, d.status,
           case when t.n = 0 then 0 else round(100.0 * least(d.n, t.n) / t.n, 2) end as pct
    from done d cross join total t
  ),
  computed as (
    -- Only the learner's own write completes a course (an author's change completes
    -- nobody); a completed enrollment whose course grew goes back to active.
    select p.enrollment_id, p.pct,
           case when p.pct >= 100 and (p_user_id is not null or p.status = 'completed')
                  then 'completed'
                when p.status = 'completed' and p.pct < 100 then 'active'
                else p.status end as status
    from pct p
  )
  update public.course_enrollments e set
    progress_percentage = c.pct,
    status = c.status,
    completed_at = case when c.status = 'completed'
                        then coalesce(e.completed_at, private.activity_time()) end
  from computed c
  where e.id = c.enrollment_id
    and (e.progress_percentage, e.status, e.completed_at is not null)
        is distinct from (c.pct, c.status, c.status = 'completed');
end;
$$;

revoke all on function private.refresh_course_progress(uuid, uuid) from public, anon, authenticated;

-- 2. Reading lessons. The lessons policy joined courses for every lesson row (a subplan
--    per row, itself under the courses policy): 1.5x the superuser's time for a
--    course's lesson list, and ~4 ms of search_lessons on 720 lessons. The course's
--    state a lesson's visibility depends on is now kept on the lesson by the database
--    (as Supabase's RLS guide advises: no join in a policy), so the policy reads only
--    the row. Clients cannot write these columns (column grants), and a trigger sets
--    them on every insert and update of a lesson and whenever its course changes.
alter table public.lessons
  add column course_published boolean not null default false,
  add column course_archived boolean not null default false,
  add column course_created_by uuid;

comment on column public.lessons.course_published is
  'Written by the database: the lesson''s course is published (read by the lessons policy).';
comment on column public.lessons.course_archived is
  'Written by the database: the lesson''s course is archived (read by the lessons policy).';
comment on column public.lessons.course_created_by is
  'Written by the database: the author of the lesson''s course (read by the lessons policy).';

create or replace function private.lesson_course_state()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select c.is_published, c.archived_at is not null, c.created_by
    into new.course_published, new.course_archived, new.course_created_by
  from public.courses c
  where c.id = new.course_id;
  return new;
end;
$$;

-- Named to run before lessons_updated_at, whose condition reads what this one sets.
create trigger lessons_course_state
  before insert or update on public.lessons
  for each row execute function private.lesson_course_state();

create or replace function private.courses_to_lessons()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.lessons l
  set course_published = new.is_published,
      course_archived = new.archived_at is not null,
      course_created_by = new.created_by
  where l.course_id = new.id;
  return null;
end;
$$;

create trigger courses_to_lessons
  after update of is_published, archived_at, created_by on public.courses
  for each row
  when (old.is_published is distinct from new.is_published
        or (old.archived_at is null) <> (new.archived_at is null)
        or old.created_by is distinct from new.created_by)
  execute function private.courses_to_lessons();

-- A lesson's updated_at tells when its author changed it, not when its course was
-- published: the copy of the course's state alone does not stamp it.
drop trigger lessons_updated_at on public.lessons;
create trigger lessons_updated_at
  before update on public.lessons
  for each row
  when (old.course_id is distinct from new.course_id
        or (old.course_published, old.course_archived, old.course_created_by)
           is not distinct from (new.course_published, new.course_archived, new.course_created_by))
  execute function private.set_updated_at();

revoke all on function private.lesson_course_state(), private.courses_to_lessons()
  from public, anon, authenticated;

-- Existing lessons, once, without stamping or auditing them.
alter table public.lessons disable trigger user;
update public.lessons l
set course_published = c.is_published,
    course_archived = c.archived_at is not null,
    course_created_by = c.created_by
from public.courses c
where c.id = l.course_id;
alter table public.lessons enable trigger user;

-- Same rule as 20261205001400_archive_courses.sql: published lessons of a published
-- course; of an archived one, for the learners enrolled in it; all of an author's own.
drop policy "published lessons of visible courses are readable; authors see all of theirs"
  on public.lessons;
create policy "published lessons of visible courses are readable; authors see all of theirs"
  on public.lessons for select to anon, authenticated
  using ((is_published
          and (course_published or (course_archived and private.is_enrolled(course_id))))
         or course_created_by = (select auth.uid()));

create index lessons_course_created_by_idx on public.lessons (course_created_by);
