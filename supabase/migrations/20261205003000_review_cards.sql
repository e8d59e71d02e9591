-- Spaced review (issue #18): a review card for every key point of a completed lesson
-- and for every passed assessment, made by the database; an append-only log of
-- reviews; the card's scheduling state, stored for querying due cards.
--
-- Who computes the schedule. The scheduler is FSRS-6 (the `fsrs` package), which
-- PostgreSQL cannot run, so the client computes the card's next state and sends it
-- with the review. The log is the record; the state is derived from it:
--   * review_logs is append-only (no UPDATE or DELETE for anybody but service_role),
--     one row per (learner, client event id), so a replayed review is stored once;
--   * the state a client sends is checked for shape and ranges (state 1..3, step,
--     stability > 0, difficulty 1..10, due after the review and within the
--     scheduler's 36,500-day maximum interval, last_review = the review's time);
--   * it is applied only when it was computed from the state the server holds
--     (p_basis = the card's last_review the client started from). Otherwise — two
--     machines reviewed the same card offline, or reviews arrive out of order — the
--     log is kept, the card is marked `stale`, and a client rebuilds it from all of
--     its logs (fsrs reschedule_card, deterministic: no fuzzing) with rebuild_card(),
--     which checks that it was computed from exactly the logs stored now.
-- A learner could still send a state that the logs do not give (an easy schedule for
-- a hard card). That is accepted by design: it changes only that learner's own
-- schedule, nobody else's data, no points and no streak (the streak counts review
-- sessions that have logs, not card states); and any client can re-derive the state
-- from the logs. Learners never write these tables directly: the functions below are
-- the only way in.

create table public.review_cards (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  lesson_id uuid references public.lessons (id) on delete cascade,
  key_point_index integer check (key_point_index between 0 and 999),
  assessment_id uuid references public.assessments (id) on delete cascade,
  prompt text not null check (char_length(prompt) between 1 and 2000),
  -- FSRS card state (fsrs.State: 1 learning, 2 review, 3 relearning)
  state smallint not null default 1 check (state between 1 and 3),
  step integer default 0 check (step is null or step between 0 and 100),
  stability double precision check (stability is null or (stability > 0 and stability <= 1e6)),
  difficulty double precision check (difficulty is null or difficulty between 1 and 10),
  due timestamptz not null default now(),
  last_review timestamptz,
  reps integer not null default 0,
  stale boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint review_cards_one_source check (
    (lesson_id is not null and key_point_index is not null and assessment_id is null)
    or (assessment_id is not null and lesson_id is null and key_point_index is null))
);

create unique index review_cards_lesson_point_key
  on public.review_cards (user_id, lesson_id, key_point_index) where lesson_id is not null;
create unique index review_cards_assessment_key
  on public.review_cards (user_id, assessment_id) where assessment_id is not null;
create index review_cards_user_due_idx on public.review_cards (user_id, due);
create index review_cards_lesson_idx on public.review_cards (lesson_id);
create index review_cards_assessment_idx on public.review_cards (assessment_id);

create table public.review_logs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  card_id uuid not null references public.review_cards (id) on delete cascade,
  rating smallint not null check (rating between 1 and 4),
  reviewed_at timestamptz not null,
  duration_ms integer check (duration_ms between 0 and 86400000),
  source text not null default 'review' check (source in ('review', 'assessment', 'quiz')),
  event_id uuid not null,
  created_at timestamptz not null default now(),
  unique (user_id, event_id)
);

create index review_logs_card_idx on public.review_logs (card_id, reviewed_at);
create index review_logs_user_idx on public.review_logs (user_id, reviewed_at);

create table public.review_sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  reviews integer not null check (reviews >= 0),
  event_id uuid not null,
  created_at timestamptz not null default now(),
  unique (user_id, event_id)
);

create index review_sessions_user_idx on public.review_sessions (user_id, finished_at);

-- ---------------------------------------------------------------------------
-- Cards are made by the database
-- ---------------------------------------------------------------------------

-- A lesson completed for the first time: one card per non-blank key point, due at once.
create or replace function private.review_cards_for_lesson()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.review_cards (user_id, lesson_id, key_point_index, prompt, due)
  select new.user_id, new.lesson_id, (k.ord - 1)::integer, left(btrim(k.point), 2000),
         new.first_completed_at
  from public.lessons l, unnest(l.key_points) with ordinality as k(point, ord)
  where l.id = new.lesson_id and btrim(coalesce(k.point, '')) <> ''
  on conflict (user_id, lesson_id, key_point_index) where lesson_id is not null do nothing;
  return null;
end;
$$;

create trigger user_progress_review_cards_insert
  after insert on public.user_progress
  for each row when (new.first_completed_at is not null)
  execute function private.review_cards_for_lesson();
create trigger user_progress_review_cards_update
  after update of completed on public.user_progress
  for each row when (new.first_completed_at is not null and old.first_completed_at is null)
  execute function private.review_cards_for_lesson();

-- An assessment passed (score >= 70, as for "first assessment passed"): one card.
create or replace function private.review_card_for_assessment()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.score is null or new.score < 70 then
    return null;
  end if;
  insert into public.review_cards (user_id, assessment_id, prompt, due)
  select new.user_id, a.id, left(coalesce(nullif(btrim(a.title), ''), 'An assessment'), 2000),
         coalesce(new.completed_at, now())
  from public.assessments a where a.id = new.assessment_id
  on conflict (user_id, assessment_id) where assessment_id is not null do nothing;
  return null;
end;
$$;

create trigger assessment_attempts_review_card_insert
  after insert on public.assessment_attempts
  for each row when (new.status = 'completed')
  execute function private.review_card_for_assessment();
create trigger assessment_attempts_review_card_update
  after update of status on public.assessment_attempts
  for each row when (new.status = 'completed' and old.status <> 'completed')
  execute function private.review_card_for_assessment();

-- ---------------------------------------------------------------------------
-- Private helpers (SECURITY DEFINER: the only writers of the review tables)
-- ---------------------------------------------------------------------------

-- A card as the API returns it (its lesson or assessment, and course, by one join each).
create or replace function private.review_card_json(c public.review_cards)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', c.id, 'prompt', c.prompt, 'key_point_index', c.key_point_index,
    'lesson_id', c.lesson_id, 'assessment_id', c.assessment_id,
    'lesson_title', l.title, 'key_point_count', cardinality(l.key_points),
    'assessment_title', a.title, 'assessment_slug', a.slug,
    'course_id', co.id, 'course_title', co.title,
    'state', c.state, 'step', c.step, 'stability', c.stability, 'difficulty', c.difficulty,
    'due', c.due, 'last_review', c.last_review, 'reps', c.reps, 'stale', c.stale)
  from (select 1) as one
  left join public.lessons l on l.id = c.lesson_id
  left join public.assessments a on a.id = c.assessment_id
  left join public.courses co on co.id = coalesce(l.course_id, a.course_id)
$$;

-- Checks a card state sent by a client (see the top of this file); returns it typed.
create or replace function private.checked_review_state(p_state jsonb, p_reviewed_at timestamptz)
returns public.review_cards
language plpgsql
stable
set search_path = ''
as $$
declare
  c public.review_cards;
begin
  if jsonb_typeof(p_state) is distinct from 'object' then
    raise exception 'the card state must be a JSON object' using errcode = '22023';
  end if;
  begin
    c.state := (p_state ->> 'state')::smallint;
    c.step := (p_state ->> 'step')::integer;
    c.stability := (p_state ->> 'stability')::double precision;
    c.difficulty := (p_state ->> 'difficulty')::double precision;
    c.due := (p_state ->> 'due')::timestamptz;
    c.last_review := (p_state ->> 'last_review')::timestamptz;
  exception when others then
    raise exception 'the card state has a value of the wrong type' using errcode = '22023';
  end;
  if c.state is null or c.state not between 1 and 3
     or (c.step is not null and c.step not between 0 and 100)
     or (c.state in (1, 3) and c.step is null)
     or c.stability is null or c.stability <= 0 or c.stability > 1e6
     or c.difficulty is null or c.difficulty not between 1 and 10
     or c.due is null or c.last_review is null then
    raise exception 'the card state is out of range' using errcode = '22023';
  end if;
  if p_reviewed_at is not null and c.last_review <> p_reviewed_at then
    raise exception 'the card state must be the one after this review' using errcode = '22023';
  end if;
  if c.due < c.last_review or c.due > c.last_review + interval '36501 days' then
    raise exception 'the card''s next review must be after this one and within 100 years'
      using errcode = '22023';
  end if;
  return c;
end;
$$;

-- Stores one review: the log always; the state when it follows from the stored one.
create or replace function private.apply_review(
  p_card_id uuid, p_assessment_id uuid, p_rating integer, p_reviewed_at timestamptz,
  p_duration_ms integer, p_new_state jsonb, p_basis timestamptz, p_source text,
  p_event_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  card public.review_cards;
  next public.review_cards;
  in_order boolean;
begin
  if uid is null then
    raise exception 'sign in first: reviews need a signed-in learner' using errcode = '42501';
  end if;
  if p_rating is null or p_rating not between 1 and 4 then
    raise exception 'rating must be 1 (again), 2 (hard), 3 (good) or 4 (easy)'
      using errcode = '22023';
  end if;
  if p_reviewed_at is null or p_reviewed_at > now() + interval '5 minutes' then
    raise exception 'a review needs the time it happened, not in the future'
      using errcode = '22023';
  end if;
  if p_duration_ms is not null and p_duration_ms not between 0 and 86400000 then
    raise exception 'duration must be between 0 and 86400000 ms' using errcode = '22023';
  end if;
  if coalesce(p_source, 'review') not in ('review', 'assessment', 'quiz') then
    raise exception 'source must be review, assessment or quiz' using errcode = '22023';
  end if;
  next := private.checked_review_state(p_new_state, p_reviewed_at);

  select * into card from public.review_cards c
  where c.user_id = uid
    and ((p_card_id is not null and c.id = p_card_id)
         or (p_card_id is null and c.assessment_id = p_assessment_id))
  for update;
  if not found then
    if p_card_id is null and p_assessment_id is not null then
      -- An assessment never passed has no card: nothing to rate yet.
      return jsonb_build_object('card', null, 'skipped', true);
    end if;
    raise exception 'review card not found' using errcode = 'P0002';
  end if;

  insert into public.review_logs (user_id, card_id, rating, reviewed_at, duration_ms, source,
                                  event_id)
  values (uid, card.id, p_rating, p_reviewed_at, p_duration_ms, coalesce(p_source, 'review'),
          coalesce(p_event_id, gen_random_uuid()));

  in_order := not card.stale
    and card.last_review is not distinct from p_basis
    and (card.last_review is null or p_reviewed_at >= card.last_review);
  if in_order then
    update public.review_cards set
      state = next.state, step = next.step, stability = next.stability,
      difficulty = next.difficulty, due = next.due, last_review = next.last_review,
      reps = reps + 1, updated_at = now()
    where id = card.id
    returning * into card;
  else
    update public.review_cards set stale = true, reps = reps + 1, updated_at = now()
    where id = card.id
    returning * into card;
  end if;
  return jsonb_build_object('card', private.review_card_json(card), 'stale', card.stale);
end;
$$;

-- A card's state rebuilt by a client from all of its logs.
create or replace function private.apply_rebuild(
  p_card_id uuid, p_new_state jsonb, p_log_count integer, p_last_reviewed_at timestamptz)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  card public.review_cards;
  next public.review_cards;
  n integer;
  last_at timestamptz;
begin
  if uid is null then
    raise exception 'sign in first: reviews need a signed-in learner' using errcode = '42501';
  end if;
  select * into card from public.review_cards where id = p_card_id and user_id = uid
  for update;
  if not found then
    raise exception 'review card not found' using errcode = 'P0002';
  end if;
  select count(*), max(reviewed_at) into n, last_at
  from public.review_logs where card_id = card.id;
  if n <> coalesce(p_log_count, -1) or last_at is distinct from p_last_reviewed_at then
    -- Another review arrived meanwhile: the caller reads the logs again.
    return jsonb_build_object('card', private.review_card_json(card), 'rebuilt', false);
  end if;
  if n = 0 then
    update public.review_cards set state = 1, step = 0, stability = null, difficulty = null,
      last_review = null, stale = false, updated_at = now()
    where id = card.id returning * into card;
  else
    next := private.checked_review_state(p_new_state, last_at);
    update public.review_cards set
      state = next.state, step = next.step, stability = next.stability,
      difficulty = next.difficulty, due = next.due, last_review = next.last_review,
      stale = false, updated_at = now()
    where id = card.id
    returning * into card;
  end if;
  return jsonb_build_object('card', private.review_card_json(card), 'rebuilt', true);
end;
$$;

-- A review session finished: it counts for the streak when it holds at least one
-- review made between its start and its end (the database decides, not the client).
create or replace function private.apply_review_session(p_started_at timestamptz, p_event_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  finished timestamptz := private.activity_time();
  n integer;
begin
  if uid is null then
    raise exception 'sign in first: reviews need a signed-in learner' using errcode = '42501';
  end if;
  if p_started_at is null or p_started_at > now() + interval '5 minutes' then
    raise exception 'a review session needs the time it started, not in the future'
      using errcode = '22023';
  end if;
  select count(*) into n from public.review_logs
  where user_id = uid
    and reviewed_at between least(p_started_at, finished) - interval '1 minute'
                        and finished + interval '1 minute';
  if n = 0 then
    return jsonb_build_object('counted', false, 'reviews', 0);
  end if;
  insert into public.review_sessions (user_id, started_at, finished_at, reviews, event_id)
  values (uid, least(p_started_at, finished), finished, n, coalesce(p_event_id, gen_random_uuid()))
  on conflict (user_id, event_id) do nothing;
  -- The streak's rules live in record_activity (local day, time zone): called, not copied.
  perform private.record_activity(uid, finished);
  return jsonb_build_object('counted', true, 'reviews', n);
end;
$$;

-- Due counts for the learner's local today, and when the next cards come.
create or replace function private.review_summary_for(p_user_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with tz as (
    select coalesce((select p.timezone from public.profiles p where p.id = p_user_id), 'UTC')
      as name
  ), bounds as (
    select (((now() at time zone tz.name)::date + 1)::timestamp at time zone tz.name)
      as end_of_today
    from tz
  )
  select jsonb_build_object(
    'total', (select count(*) from public.review_cards c where c.user_id = p_user_id),
    'due_now', (select count(*) from public.review_cards c
                where c.user_id = p_user_id and c.due <= now()),
    'due_today', (select count(*) from public.review_cards c, bounds b
                  where c.user_id = p_user_id and c.due < b.end_of_today),
    'next_due', (select min(c.due) from public.review_cards c
                 where c.user_id = p_user_id and c.due > now()),
    'next_day_due', (select min(c.due) from public.review_cards c, bounds b
                     where c.user_id = p_user_id and c.due >= b.end_of_today),
    'next_day_count', (select count(*) from public.review_cards c, bounds b
                       where c.user_id = p_user_id and c.due >= b.end_of_today
                         and c.due < b.end_of_today + interval '1 day'),
    'reviewed_today', (select count(*) from public.review_logs g, bounds b
                       where g.user_id = p_user_id
                         and g.reviewed_at >= b.end_of_today - interval '1 day'),
    'stale', (select count(*) from public.review_cards c
              where c.user_id = p_user_id and c.stale))
$$;

-- ---------------------------------------------------------------------------
-- The API (SECURITY INVOKER, like every public function)
-- ---------------------------------------------------------------------------

-- The review screen: due cards (oldest due first) and stale cards with their logs.
create or replace function public.review_queue(p_limit integer default 100)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception 'sign in first: reviews need a signed-in learner' using errcode = '42501';
  end if;
  return jsonb_build_object(
    'due', coalesce((
      select jsonb_agg(private.review_card_json(c) order by c.due, c.lesson_id, c.key_point_index, c.id)
      from (select * from public.review_cards c
            where c.user_id = uid and c.due <= now() and not c.stale
            order by c.due, c.lesson_id, c.key_point_index, c.id
            limit least(greatest(coalesce(p_limit, 100), 1), 500)) c), '[]'::jsonb),
    'stale', coalesce((
      select jsonb_agg(private.review_card_json(c) || jsonb_build_object('logs', coalesce((
               select jsonb_agg(jsonb_build_object('rating', g.rating,
                                                   'reviewed_at', g.reviewed_at,
                                                   'duration_ms', g.duration_ms)
                                order by g.reviewed_at, g.id)
               from public.review_logs g where g.card_id = c.id), '[]'::jsonb)))
      from public.review_cards c where c.user_id = uid and c.stale), '[]'::jsonb),
    'summary', private.review_summary_for(uid));
end;
$$;

create or replace function public.review_summary()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  if auth.uid() is null then
    raise exception 'sign in first: reviews need a signed-in learner' using errcode = '42501';
  end if;
  return private.review_summary_for(auth.uid());
end;
$$;

-- One card by id, or the card of an assessment (null when it has none yet).
create or replace function public.review_card(p_card_id uuid default null,
                                              p_assessment_id uuid default null)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select private.review_card_json(c) from public.review_cards c
  where c.user_id = auth.uid()
    and ((p_card_id is not null and c.id = p_card_id)
         or (p_card_id is null and c.assessment_id = p_assessment_id))
$$;

-- A review: rating 1..4, when, how long, the state the client's scheduler computed,
-- and the card's last_review that state was computed from (p_basis; null for a card
-- never reviewed). Queued by the offline outbox; idempotent on p_event_id.
create or replace function public.record_review(
  p_rating integer,
  p_reviewed_at timestamptz,
  p_new_state jsonb,
  p_card_id uuid default null,
  p_assessment_id uuid default null,
  p_basis timestamptz default null,
  p_duration_ms integer default null,
  p_source text default 'review',
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('record_review', p_event_id, p_occurred_at);
begin
  if prior is not null then
    return prior;
  end if;
  if p_card_id is null and p_assessment_id is null then
    raise exception 'name the card (or the assessment) reviewed' using errcode = '22023';
  end if;
  return private.end_write(p_event_id, private.apply_review(
    p_card_id, p_assessment_id, p_rating, p_reviewed_at, p_duration_ms, p_new_state, p_basis,
    p_source, p_event_id));
end;
$$;

-- A stale card's state rebuilt from its p_log_count logs (the last at p_last_reviewed_at).
create or replace function public.rebuild_review_card(
  p_card_id uuid,
  p_new_state jsonb,
  p_log_count integer,
  p_last_reviewed_at timestamptz default null
)
returns jsonb
language sql
set search_path = ''
as $$
  select private.apply_rebuild(p_card_id, p_new_state, p_log_count, p_last_reviewed_at)
$$;

create or replace function public.finish_review_session(
  p_started_at timestamptz,
  p_event_id uuid default null,
  p_occurred_at timestamptz default null
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  prior jsonb := private.begin_write('finish_review_session', p_event_id, p_occurred_at);
  session jsonb;
begin
  if prior is not null then
    return prior;
  end if;
  session := private.apply_review_session(p_started_at, p_event_id);
  -- A statement of its own: a stable function sees the streak as this statement starts.
  return private.end_write(p_event_id,
    session || jsonb_build_object('streak', private.streak_now(auth.uid())));
end;
$$;

-- ---------------------------------------------------------------------------
-- Row level security and privileges: learners read their own rows; nobody but the
-- functions above (and service_role) writes them.
-- ---------------------------------------------------------------------------

alter table public.review_cards enable row level security;
alter table public.review_logs enable row level security;
alter table public.review_sessions enable row level security;

revoke all on public.review_cards, public.review_logs, public.review_sessions
  from public, anon, authenticated;
grant all on public.review_cards, public.review_logs, public.review_sessions to service_role;
grant select on public.review_cards, public.review_logs, public.review_sessions
  to authenticated;

create policy "learners read their review cards"
  on public.review_cards for select to authenticated
  using (user_id = (select auth.uid()));
create policy "learners read their review logs"
  on public.review_logs for select to authenticated
  using (user_id = (select auth.uid()));
create policy "learners read their review sessions"
  on public.review_sessions for select to authenticated
  using (user_id = (select auth.uid()));

revoke all on function
  public.review_queue(integer),
  public.review_summary(),
  public.review_card(uuid, uuid),
  public.record_review(integer, timestamptz, jsonb, uuid, uuid, timestamptz, integer, text,
                       uuid, timestamptz),
  public.rebuild_review_card(uuid, jsonb, integer, timestamptz),
  public.finish_review_session(timestamptz, uuid, timestamptz)
  from public, anon;
grant execute on function
  public.review_queue(integer),
  public.review_summary(),
  public.review_card(uuid, uuid),
  public.record_review(integer, timestamptz, jsonb, uuid, uuid, timestamptz, integer, text,
                       uuid, timestamptz),
  public.rebuild_review_card(uuid, jsonb, integer, timestamptz),
  public.finish_review_session(timestamptz, uuid, timestamptz)
  to authenticated, service_role;

revoke all on function
  private.review_cards_for_lesson(),
  private.review_card_for_assessment(),
  private.review_card_json(public.review_cards),
  private.checked_review_state(jsonb, timestamptz),
  private.apply_review(uuid, uuid, integer, timestamptz, integer, jsonb, timestamptz, text, uuid),
  private.apply_rebuild(uuid, jsonb, integer, timestamptz),
  private.apply_review_session(timestamptz, uuid),
  private.review_summary_for(uuid)
  from public, anon, authenticated;
grant execute on function
  private.review_card_json(public.review_cards),
  private.checked_review_state(jsonb, timestamptz),
  private.apply_review(uuid, uuid, integer, timestamptz, integer, jsonb, timestamptz, text, uuid),
  private.apply_rebuild(uuid, jsonb, integer, timestamptz),
  private.apply_review_session(timestamptz, uuid),
  private.review_summary_for(uuid)
  to authenticated, service_role;
