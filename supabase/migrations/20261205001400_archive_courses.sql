-- Issue #15 §5: deleting a course never erases learners' history.
--
-- A course that any learner (anybody but its author) has touched — an enrollment,
-- progress, an attempt at one of its assessments, a rating or feedback, analytics — is
-- archived instead of deleted: unpublished, stamped archived_at, hidden from the
-- catalog, and still readable (with its published lessons and assessments) by the
-- learners enrolled in it. The DELETE affects no row. A course nobody else touched is
-- deleted as before. Lessons and assessments with learners' progress or attempts are
-- unpublished instead of deleted, for the same reason. Publishing an archived course
-- again brings it back (archived_at is cleared).

alter table public.courses add column archived_at timestamptz;

-- Has anybody but the author left a trace in this course?
create or replace function private.course_has_learner_history(p_course_id uuid, p_author uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.course_enrollments e
                 where e.course_id = p_course_id and e.user_id is distinct from p_author)
      or exists (select 1 from public.user_progress up
                 where up.course_id = p_course_id and up.user_id is distinct from p_author)
      or exists (select 1 from public.assessment_attempts t
                 join public.assessments a on a.id = t.assessment_id
                 where a.course_id = p_course_id and t.user_id is distinct from p_author)
      or exists (select 1 from public.user_feedback f
                 where f.course_id = p_course_id and f.user_id is distinct from p_author)
      or exists (select 1 from public.learning_analytics la
                 where la.course_id = p_course_id and la.user_id is distinct from p_author)
$$;

create or replace function private.archive_course_instead_of_delete()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not private.course_has_learner_history(old.id, old.created_by) then
    return old;
  end if;
  update public.courses set is_published = false, archived_at = coalesce(archived_at, now())
  where id = old.id;
  perform private.audit('course.archived', 'courses', old.id, null, old.created_by,
                        jsonb_build_object('is_published', old.is_published),
                        jsonb_build_object('archived', true));
  return null;   -- the row stays
end;
$$;

-- Named to fire before courses_audit_delete (triggers fire in name order).
create trigger courses_archive_instead_of_delete
  before delete on public.courses
  for each row execute function private.archive_course_instead_of_delete();

create or replace function private.keep_lesson_with_learner_history()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  author uuid;
begin
  select c.created_by into author from public.courses c where c.id = old.course_id;
  if not found then
    return old;   -- deleted with its course (which had no learner history)
  end if;
  if not exists (select 1 from public.user_progress up
                 where up.lesson_id = old.id and up.user_id is distinct from author) then
    return old;
  end if;
  update public.lessons set is_published = false where id = old.id and is_published;
  return null;
end;
$$;

create trigger lessons_keep_learner_history
  before delete on public.lessons
  for each row execute function private.keep_lesson_with_learner_history();

create or replace function private.keep_assessment_with_learner_history()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from public.assessment_attempts t
                 where t.assessment_id = old.id and t.user_id is distinct from old.created_by) then
    return old;
  end if;
  if old.course_id is not null
     and not exists (select 1 from public.courses c where c.id = old.course_id) then
    return old;   -- cannot happen: a course with attempts is archived, not deleted
  end if;
  update public.assessments set is_published = false where id = old.id and is_published;
  return null;
end;
$$;

create trigger assessments_keep_learner_history
  before delete on public.assessments
  for each row execute function private.keep_assessment_with_learner_history();

-- Publishing brings an archived course back.
create or replace function private.unarchive_on_publish()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.is_published then
    new.archived_at := null;
  end if;
  return new;
end;
$$;

create trigger courses_unarchive_on_publish
  before update of is_published on public.courses
  for each row when (new.is_published and old.archived_at is not null)
  execute function private.unarchive_on_publish();

-- ---------------------------------------------------------------------------
-- Who reads an archived course: its author and the learners enrolled in it.
-- (A published assessment now also needs its lesson, if any, to be published: §7.)
-- ---------------------------------------------------------------------------

-- Is the caller enrolled in the course? A definer helper: the enrollment policies read
-- courses, so a courses policy reading course_enrollments through RLS would recurse.
create or replace function private.is_enrolled(p_course_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.course_enrollments e
                 where e.course_id = p_course_id and e.user_id = auth.uid())
$$;

revoke all on function private.is_enrolled(uuid) from public, anon, authenticated;
grant execute on function private.is_enrolled(uuid) to anon, authenticated, service_role;

create index courses_archived_idx on public.courses (archived_at) where archived_at is not null;

drop policy "published courses are public; authors see their drafts" on public.courses;
create policy "published courses are public; authors see theirs; enrolled learners archived ones"
  on public.courses for select to anon, authenticated
  using (is_published
         or created_by = (select auth.uid())
         or (archived_at is not null and private.is_enrolled(id)));

drop policy "published lessons of published courses are public; authors see all of theirs"
  on public.lessons;
create policy "published lessons of visible courses are readable; authors see all of theirs"
  on public.lessons for select to anon, authenticated
  using (exists (
    select 1 from public.courses c
    where c.id = lessons.course_id
      and (((c.is_published or c.archived_at is not null) and lessons.is_published)
           or c.created_by = (select auth.uid()))));

drop policy "published assessments are public; authors see theirs" on public.assessments;
create policy "published assessments of visible courses and lessons are readable; authors see theirs"
  on public.assessments for select to anon, authenticated
  using (created_by = (select auth.uid())
         or (is_published
             and (course_id is null
                  or exists (select 1 from public.courses c
                             where c.id = assessments.course_id
                               and (c.is_published or c.archived_at is not null)))
             and (lesson_id is null
                  or exists (select 1 from public.lessons l
                             where l.id = assessments.lesson_id and l.is_published))));

-- Resuming an archived course.
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
  -- A learner already enrolled (in a course archived since) only resumes: the insert
  -- policy, checked before any conflict, admits published courses only.
  if not exists (select 1 from public.course_enrollments x
                 where x.user_id = auth.uid() and x.course_id = p_course_id) then
    insert into public.course_enrollments (user_id, course_id)
    values (auth.uid(), p_course_id)
    on conflict (user_id, course_id) do nothing;
  end if;
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

revoke all on function private.course_has_learner_history(uuid, uuid),
  private.archive_course_instead_of_delete(), private.keep_lesson_with_learner_history(),
  private.keep_assessment_with_learner_history(), private.unarchive_on_publish()
  from public, anon, authenticated;
