-- Phase 4: AI interactions — the tutor's chat history and usage records.

create table public.chat_history (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  course_id uuid references public.courses (id) on delete set null,
  lesson_id uuid references public.lessons (id) on delete set null,
  assessment_id uuid references public.assessments (id) on delete set null,
  context text not null default 'general_chat'
    check (context in ('general_chat', 'lesson_chat', 'assessment_help', 'course_guidance')),
  question text not null check (char_length(question) between 1 and 20000),
  answer text check (char_length(answer) <= 100000),
  message_type text not null default 'text' check (message_type in ('text', 'code', 'explanation')),
  created_at timestamptz not null default now()
);

create index chat_history_user_context_idx on public.chat_history (user_id, context, created_at desc);
create index chat_history_course_id_idx on public.chat_history (course_id);
create index chat_history_lesson_id_idx on public.chat_history (lesson_id);
create index chat_history_assessment_id_idx on public.chat_history (assessment_id);

create table public.ai_interactions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  interaction_type text not null check (char_length(interaction_type) between 1 and 50),
  input_data jsonb check (octet_length(input_data::text) <= 100000),
  output_data jsonb check (octet_length(output_data::text) <= 100000),
  tokens_used integer not null default 0 check (tokens_used between 0 and 10000000),
  processing_time integer not null default 0 check (processing_time between 0 and 86400000), -- ms
  created_at timestamptz not null default now()
);

create index ai_interactions_user_created_idx on public.ai_interactions (user_id, created_at desc);

-- ---------------------------------------------------------------------------
-- Row level security and privileges
-- ---------------------------------------------------------------------------

alter table public.chat_history enable row level security;
alter table public.ai_interactions enable row level security;

revoke all on public.chat_history, public.ai_interactions from anon, authenticated;
grant all on public.chat_history, public.ai_interactions to service_role;

-- chat_history: private to the learner; they may delete it but not rewrite it.
grant select, delete on public.chat_history to authenticated;
grant insert (id, user_id, course_id, lesson_id, assessment_id, context, question, answer,
              message_type)
  on public.chat_history to authenticated;
create policy "learners read their chats"
  on public.chat_history for select to authenticated
  using (user_id = (select auth.uid()));
-- The course, lesson or assessment a chat is about must be one the learner can see.
create policy "learners log their own chats"
  on public.chat_history for insert to authenticated
  with check (user_id = (select auth.uid())
              and (course_id is null
                   or exists (select 1 from public.courses c
                              where c.id = chat_history.course_id))
              and (lesson_id is null
                   or exists (select 1 from public.lessons l
                              where l.id = chat_history.lesson_id))
              and (assessment_id is null
                   or exists (select 1 from public.assessments a
                              where a.id = chat_history.assessment_id)));
create policy "learners delete their chats"
  on public.chat_history for delete to authenticated
  using (user_id = (select auth.uid()));

-- ai_interactions: usage records the learner's client writes and may read.
grant select on public.ai_interactions to authenticated;
grant insert (id, user_id, interaction_type, input_data, output_data, tokens_used, processing_time)
  on public.ai_interactions to authenticated;
create policy "learners read their AI usage"
  on public.ai_interactions for select to authenticated
  using (user_id = (select auth.uid()));
create policy "learners log their own AI usage"
  on public.ai_interactions for insert to authenticated
  with check (user_id = (select auth.uid()));
