-- Issue #15 §8: quotas, enforced by the database on every path. A refused write fails
-- with SQLSTATE 54000 (program_limit_exceeded) and a message that starts "limit:" and
-- names the limit. No real learner or author comes near them (see README, "Limits").
--
--   chat_history row (question + answer)            ≤ 64 kB
--   ai_interactions row (input_data + output_data)  ≤ 64 kB
--   chat_history per learner per clock hour         ≤ 300 rows and ≤ 4 MB
--   ai_interactions per learner per clock hour      ≤ 600 rows and ≤ 8 MB
--   enrollment status changes per learner per hour  ≤ 60
--   a course                                        ≤ 500 lessons, ≤ 500 assessments,
--                                                     ≤ 10 MB of text
--
-- Hourly rates count writes, not rows that still exist: deleting chat history does not
-- refill the allowance. Operators (service_role, the database itself) are not rated.

-- Usage per learner, kind of write and clock hour; written by private.charge() only.
create table private.usage (
  user_id uuid not null references auth.users (id) on delete cascade,
  kind text not null,
  window_start timestamptz not null,
  rows integer not null default 0,
  bytes bigint not null default 0,
  primary key (user_id, kind, window_start)
);
alter table private.usage enable row level security;
revoke all on private.usage from public, anon, authenticated;

-- Counts one write of `p_bytes` against the caller's hourly allowance of `p_kind`;
-- raises when it would exceed p_max_rows rows or p_max_bytes bytes this hour. The
-- row triggers (definer: they need no grant) call it for requests made as anon or
-- authenticated (auth.role()), never for service_role or the database itself.
create or replace function private.charge(
  p_kind text,
  p_what text,
  p_bytes bigint,
  p_max_rows integer,
  p_max_bytes bigint
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  hour timestamptz := date_trunc('hour', now());
  u private.usage;
begin
  if uid is null then
    return;
  end if;
  insert into private.usage as x (user_id, kind, window_start, rows, bytes)
  values (uid, p_kind, hour, 1, coalesce(p_bytes, 0))
  on conflict (user_id, kind, window_start) do update set
    rows = x.rows + 1, bytes = x.bytes + excluded.bytes
  returning * into u;
  if u.rows > p_max_rows then
    raise exception 'limit: at most % % an hour; try again after %', p_max_rows, p_what,
      to_char(hour + interval '1 hour', 'HH24:MI "UTC"') using errcode = '54000';
  end if;
  if p_max_bytes is not null and u.bytes > p_max_bytes then
    raise exception 'limit: at most % MB of % an hour; try again after %',
      p_max_bytes / 1048576, p_what, to_char(hour + interval '1 hour', 'HH24:MI "UTC"')
      using errcode = '54000';
  end if;
  if u.rows = 1 then
    delete from private.usage x where x.user_id = uid and x.window_start < hour - interval '1 day';
  end if;
end;
$$;

-- ---------------------------------------------------------------------------
-- Chat history and AI usage logs
-- ---------------------------------------------------------------------------

create or replace function private.limit_chat()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  bytes bigint := octet_length(new.question) + coalesce(octet_length(new.answer), 0);
begin
  if bytes > 65536 then
    raise exception 'limit: a chat message (question and answer) holds at most 64 kB, not % kB',
      ceil(bytes / 1024.0) using errcode = '54000';
  end if;
  if auth.role() in ('anon', 'authenticated') then
    perform private.charge('chat_history', 'chat messages', bytes, 300, 4 * 1048576);
  end if;
  return new;
end;
$$;

create trigger chat_history_limits
  before insert on public.chat_history
  for each row execute function private.limit_chat();

create or replace function private.limit_ai_interaction()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  bytes bigint := coalesce(octet_length(new.input_data::text), 0)
                  + coalesce(octet_length(new.output_data::text), 0);
begin
  if bytes > 65536 then
    raise exception 'limit: an AI usage record (input and output data) holds at most 64 kB, not % kB',
      ceil(bytes / 1024.0) using errcode = '54000';
  end if;
  if auth.role() in ('anon', 'authenticated') then
    perform private.charge('ai_interactions', 'AI usage records', bytes, 600, 8 * 1048576);
  end if;
  return new;
end;
$$;

create trigger ai_interactions_limits
  before insert on public.ai_interactions
  for each row execute function private.limit_ai_interaction();

-- ---------------------------------------------------------------------------
-- Enrollment status changes (each one is an audit entry)
-- ---------------------------------------------------------------------------

create or replace function private.limit_enrollment_status()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if auth.role() in ('anon', 'authenticated') then
    perform private.charge('enrollment_status', 'enrollment status changes', 0, 60, null);
  end if;
  return new;
end;
$$;

create trigger course_enrollments_status_limit
  before update of status on public.course_enrollments
  for each row when (old.status is distinct from new.status)
  execute function private.limit_enrollment_status();

-- ---------------------------------------------------------------------------
-- Course size: checked once per statement for every course it touched
-- ---------------------------------------------------------------------------

create or replace function private.course_text_bytes(p_course_id uuid)
returns bigint
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select sum(octet_length(coalesce(l.title, '')) + octet_length(coalesce(l.content, ''))
                              + octet_length(coalesce(l.explanation, ''))
                              + octet_length(coalesce(l.code_example, ''))
                              + octet_length(array_to_string(l.key_points, '')))
                   from public.lessons l where l.course_id = p_course_id), 0)
       + coalesce((select sum(octet_length(coalesce(a.title, '')) + octet_length(coalesce(a.description, ''))
                              + octet_length(coalesce(a.instructions, ''))
                              + octet_length(coalesce(a.starter_code, ''))
                              + octet_length(a.test_cases::text)
                              + coalesce(octet_length(a.expected_output::text), 0))
                   from public.assessments a where a.course_id = p_course_id), 0)
$$;

create or replace function private.check_course_size()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  course uuid;
  n bigint;
  bytes bigint;
begin
  for course in select distinct x.course_id from changed x where x.course_id is not null loop
    if tg_table_name = 'lessons' then
      select count(*) into n from public.lessons l where l.course_id = course;
      if n > 500 then
        raise exception 'limit: a course holds at most 500 lessons (this one would hold %)', n
          using errcode = '54000';
      end if;
    else
      select count(*) into n from public.assessments a where a.course_id = course;
      if n > 500 then
        raise exception 'limit: a course holds at most 500 assessments (this one would hold %)', n
          using errcode = '54000';
      end if;
    end if;
    bytes := private.course_text_bytes(course);
    if bytes > 10 * 1048576 then
      raise exception 'limit: a course holds at most 10 MB of text (this one would hold % MB)',
        round(bytes / 1048576.0, 1) using errcode = '54000';
    end if;
  end loop;
  return null;
end;
$$;

create trigger lessons_size_limit_insert
  after insert on public.lessons
  referencing new table as changed
  for each statement execute function private.check_course_size();
create trigger lessons_size_limit_update
  after update on public.lessons
  referencing new table as changed
  for each statement execute function private.check_course_size();
create trigger assessments_size_limit_insert
  after insert on public.assessments
  referencing new table as changed
  for each statement execute function private.check_course_size();
create trigger assessments_size_limit_update
  after update on public.assessments
  referencing new table as changed
  for each statement execute function private.check_course_size();

revoke all on function private.charge(text, text, bigint, integer, bigint),
  private.limit_chat(), private.limit_ai_interaction(),
  private.limit_enrollment_status(), private.course_text_bytes(uuid),
  private.check_course_size()
  from public, anon, authenticated;
