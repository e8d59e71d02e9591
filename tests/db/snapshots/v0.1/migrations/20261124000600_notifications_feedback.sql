-- Phase 6: notifications (written only by the database) and learner feedback, with
-- each course's rating summary kept by the database.

create table public.notifications (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 200),
  message text check (char_length(message) <= 2000),
  type text not null default 'info' check (char_length(type) between 1 and 50),
  is_read boolean not null default false,
  action_url text check (char_length(action_url) <= 2048),
  read_at timestamptz,
  created_at timestamptz not null default now()
);

create index notifications_user_unread_idx on public.notifications (user_id, is_read, created_at desc);

create or replace function private.stamp_read_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.read_at := case when new.is_read then coalesce(old.read_at, now()) end;
  return new;
end;
$$;

create trigger notifications_read_at
  before update of is_read on public.notifications
  for each row execute function private.stamp_read_at();

-- Every achievement tells the learner.
create or replace function private.notify_achievement()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.notifications (user_id, title, message, type, action_url)
  values (new.user_id, 'Achievement unlocked: ' || new.title,
          coalesce(new.description, '') || ' +' || new.points || ' points.',
          'achievement', 'learn://achievements/' || new.id);
  return null;
end;
$$;

create trigger achievements_notify
  after insert on public.achievements
  for each row execute function private.notify_achievement();

create table public.user_feedback (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  course_id uuid references public.courses (id) on delete cascade,
  lesson_id uuid references public.lessons (id) on delete cascade,
  assessment_id uuid references public.assessments (id) on delete cascade,
  rating smallint check (rating between 1 and 5),
  feedback_text text check (char_length(feedback_text) <= 5000),
  feedback_type text not null default 'general'
    check (feedback_type in ('general', 'course_rating', 'lesson', 'assessment', 'bug',
                             'suggestion', 'tutor')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (rating is not null or char_length(feedback_text) > 0),
  check (feedback_type <> 'course_rating' or (course_id is not null and rating is not null))
);

create index user_feedback_user_id_idx on public.user_feedback (user_id, created_at desc);
create index user_feedback_course_id_idx on public.user_feedback (course_id);
create index user_feedback_lesson_id_idx on public.user_feedback (lesson_id);
create index user_feedback_assessment_id_idx on public.user_feedback (assessment_id);
-- One rating per learner and course (rating again updates it).
create unique index user_feedback_one_course_rating_idx
  on public.user_feedback (user_id, course_id) where feedback_type = 'course_rating';

create trigger user_feedback_updated_at
  before update on public.user_feedback
  for each row execute function private.set_updated_at();

-- Course rating summary, kept by the database, readable wherever the course is.
create table public.course_stats (
  course_id uuid primary key references public.courses (id) on delete cascade,
  rating_count integer not null default 0 check (rating_count >= 0),
  rating_avg numeric(3, 2) check (rating_avg between 1 and 5),
  updated_at timestamptz not null default now()
);

create trigger course_stats_updated_at
  before update on public.course_stats
  for each row execute function private.set_updated_at();

create or replace function private.refresh_course_rating(p_course_id uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.course_stats (course_id, rating_count, rating_avg, updated_at)
  select p_course_id, count(*), round(avg(f.rating), 2), now()
  from public.user_feedback f
  where f.course_id = p_course_id and f.feedback_type = 'course_rating'
  on conflict (course_id) do update set
    rating_count = excluded.rating_count,
    rating_avg = excluded.rating_avg,
    updated_at = excluded.updated_at
$$;

create or replace function private.after_feedback_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') and old.feedback_type = 'course_rating'
     and exists (select 1 from public.courses c where c.id = old.course_id) then
    perform private.refresh_course_rating(old.course_id);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and new.feedback_type = 'course_rating'
     and (tg_op = 'INSERT' or new.course_id is distinct from old.course_id
          or new.rating is distinct from old.rating) then
    perform private.refresh_course_rating(new.course_id);
  end if;
  return null;
end;
$$;

create trigger user_feedback_rating
  after insert or update or delete on public.user_feedback
  for each row execute function private.after_feedback_change();

-- ---------------------------------------------------------------------------
-- Row level security and privileges
-- ---------------------------------------------------------------------------

alter table public.notifications enable row level security;
alter table public.user_feedback enable row level security;
alter table public.course_stats enable row level security;

revoke all on public.notifications, public.user_feedback, public.course_stats
  from anon, authenticated;
grant all on public.notifications, public.user_feedback, public.course_stats to service_role;

-- notifications: the learner reads, marks read and deletes their own.
grant select, delete on public.notifications to authenticated;
grant update (is_read) on public.notifications to authenticated;
create policy "learners read their notifications"
  on public.notifications for select to authenticated
  using (user_id = (select auth.uid()));
create policy "learners mark their notifications read"
  on public.notifications for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy "learners delete their notifications"
  on public.notifications for delete to authenticated
  using (user_id = (select auth.uid()));

-- user_feedback: the learner's own.
grant select, delete on public.user_feedback to authenticated;
grant insert (id, user_id, course_id, lesson_id, assessment_id, rating, feedback_text,
              feedback_type)
  on public.user_feedback to authenticated;
grant update (rating, feedback_text) on public.user_feedback to authenticated;
create policy "learners read their feedback"
  on public.user_feedback for select to authenticated
  using (user_id = (select auth.uid()));
-- What the feedback is about must be something the learner can see.
create policy "learners give their own feedback"
  on public.user_feedback for insert to authenticated
  with check (user_id = (select auth.uid())
              and (course_id is null
                   or exists (select 1 from public.courses c
                              where c.id = user_feedback.course_id))
              and (lesson_id is null
                   or exists (select 1 from public.lessons l
                              where l.id = user_feedback.lesson_id))
              and (assessment_id is null
                   or exists (select 1 from public.assessments a
                              where a.id = user_feedback.assessment_id)));
create policy "learners edit their feedback"
  on public.user_feedback for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy "learners delete their feedback"
  on public.user_feedback for delete to authenticated
  using (user_id = (select auth.uid()));

-- course_stats: public where the course is visible.
grant select on public.course_stats to anon, authenticated;
create policy "course stats are visible with their course"
  on public.course_stats for select to anon, authenticated
  using (exists (select 1 from public.courses c where c.id = course_stats.course_id));

revoke all on all functions in schema private from public, anon, authenticated;
grant execute on function private.activity_time(), private.is_valid_timezone(text)
  to anon, authenticated, service_role;
