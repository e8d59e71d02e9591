-- Issue #15 §1: the database refuses control characters in author-facing text.
--
-- Text that reaches another person's terminal (course, lesson and assessment text,
-- notifications, achievements, profile names, feedback an author reads) may not hold
-- C0 or C1 control characters: ESC (terminal escape sequences), BEL, CSI (U+009B),
-- DEL and the rest. Newline and tab are text and stay allowed. The client cleans what
-- it shows as well (one function); this is the second wall, on every write path.
--
-- A write with a control character fails with SQLSTATE 22023 and a message naming the
-- column, the character and where it is. Rows written before this migration are
-- cleaned once (the characters removed), so every stored row follows the rule.

-- The characters refused: C0 except tab (U+0009) and newline (U+000A), DEL, C1.
create or replace function private.control_character_pattern()
returns text
language sql
immutable
set search_path = ''
as $$
  select '[\x01-\x08\x0b-\x1f\x7f-\x9f]'::text
$$;

create or replace function private.strip_control_characters(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$
  select regexp_replace(p_text, private.control_character_pattern(), '', 'g')
$$;

-- Trigger: refuses control characters in the columns named as trigger arguments (text
-- or text[]). On update only changed columns are checked.
create or replace function private.refuse_control_characters()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  col text;
  val jsonb;
  txt text;
  bad text;
  pos integer;
  n jsonb := to_jsonb(new);
  o jsonb := case when tg_op = 'UPDATE' then to_jsonb(old) end;
begin
  foreach col in array tg_argv loop
    val := n -> col;
    if val is null or jsonb_typeof(val) = 'null' then
      continue;
    end if;
    if o is not null and (o -> col) is not distinct from val then
      continue;
    end if;
    if jsonb_typeof(val) = 'array' then
      select string_agg(x, E'\n') into txt from jsonb_array_elements_text(val) x;
    else
      txt := val #>> '{}';
    end if;
    bad := substring(txt from private.control_character_pattern());
    if bad is not null then
      pos := strpos(txt, bad);
      raise exception '%.% contains a control character (U+% at character %): remove terminal control characters (only newline and tab are allowed)',
        tg_table_name, col, upper(lpad(to_hex(ascii(bad)), 4, '0')), pos
        using errcode = '22023',
              hint = 'Escape sequences (ESC, CSI), BEL, DEL and other C0/C1 controls are refused.';
    end if;
  end loop;
  return new;
end;
$$;

-- Signup must never fail: control characters in a name from the sign-up metadata are
-- removed instead of refused.
create or replace function private.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  meta jsonb := case when jsonb_typeof(new.raw_user_meta_data) = 'object'
                     then new.raw_user_meta_data else '{}'::jsonb end;
  name text;
  tz text;
begin
  name := coalesce(
    nullif(btrim(private.strip_control_characters(
      case when jsonb_typeof(meta -> 'full_name') = 'string' then meta ->> 'full_name' end)), ''),
    nullif(btrim(private.strip_control_characters(
      case when jsonb_typeof(meta -> 'name') = 'string' then meta ->> 'name' end)), ''),
    nullif(private.strip_control_characters(split_part(coalesce(new.email, ''), '@', 1)), ''));
  tz := case when jsonb_typeof(meta -> 'timezone') = 'string' then meta ->> 'timezone' end;
  if not private.is_valid_timezone(tz) then
    tz := 'UTC';
  end if;

  insert into public.profiles (id, email, full_name, timezone)
  values (new.id, left(new.email, 320), left(name, 200), tz)
  on conflict (id) do nothing;
  insert into public.user_streaks (user_id) values (new.id)
  on conflict (user_id) do nothing;
  return new;
end;
$$;

-- ---------------------------------------------------------------------------
-- Clean what is already stored, then guard every write.
-- ---------------------------------------------------------------------------

do $$
declare
  t record;
  col text;
  is_array boolean;
begin
  for t in
    select * from (values
      ('profiles', array['full_name', 'bio', 'learning_goals', 'avatar_url', 'preferred_language']),
      ('courses', array['title', 'description', 'short_description', 'duration', 'tags',
                        'thumbnail_url']),
      ('lessons', array['title', 'content', 'explanation', 'code_example', 'key_points',
                        'duration']),
      ('assessments', array['title', 'description', 'instructions', 'starter_code']),
      ('notifications', array['title', 'message', 'action_url']),
      ('achievements', array['title', 'description']),
      ('user_feedback', array['feedback_text'])) as x (tbl, cols)
  loop
    foreach col in array t.cols loop
      select a.atttypid = 'text[]'::regtype into is_array
      from pg_catalog.pg_attribute a
      where a.attrelid = ('public.' || t.tbl)::regclass and a.attname = col;
      if is_array then
        execute format(
          'update public.%I set %I = array(select private.strip_control_characters(x) from unnest(%I) x)'
          ' where array_to_string(%I, '''') ~ private.control_character_pattern()',
          t.tbl, col, col, col);
      else
        execute format(
          'update public.%I set %I = private.strip_control_characters(%I)'
          ' where %I ~ private.control_character_pattern()', t.tbl, col, col, col);
      end if;
    end loop;
  end loop;
end
$$;

create trigger profiles_text_safety
  before insert or update on public.profiles
  for each row execute function private.refuse_control_characters(
    'full_name', 'bio', 'learning_goals', 'avatar_url', 'preferred_language');
create trigger courses_text_safety
  before insert or update on public.courses
  for each row execute function private.refuse_control_characters(
    'title', 'description', 'short_description', 'duration', 'tags', 'thumbnail_url');
create trigger lessons_text_safety
  before insert or update on public.lessons
  for each row execute function private.refuse_control_characters(
    'title', 'content', 'explanation', 'code_example', 'key_points', 'duration');
create trigger assessments_text_safety
  before insert or update on public.assessments
  for each row execute function private.refuse_control_characters(
    'title', 'description', 'instructions', 'starter_code');
create trigger notifications_text_safety
  before insert or update on public.notifications
  for each row execute function private.refuse_control_characters(
    'title', 'message', 'action_url');
create trigger achievements_text_safety
  before insert or update on public.achievements
  for each row execute function private.refuse_control_characters('title', 'description');
create trigger user_feedback_text_safety
  before insert or update on public.user_feedback
  for each row execute function private.refuse_control_characters('feedback_text');

revoke all on function private.control_character_pattern(), private.strip_control_characters(text),
  private.refuse_control_characters() from public, anon, authenticated;
-- Triggers run as the writer: the checks are invoker helpers that reveal nothing.
grant execute on function private.control_character_pattern(),
  private.strip_control_characters(text)
  to anon, authenticated, service_role;
