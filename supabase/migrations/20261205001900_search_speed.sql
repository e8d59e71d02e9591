-- Tutor passages in a few milliseconds, whatever the number of matching lessons.
--
-- search_lessons ranked every matching lesson with ts_rank before taking the best
-- three, and cleaned the prose of every match: 28-47 ms when a query matched all 720
-- lessons of benchmarks/api.py. ts_rank of an AND query compares the positions of each
-- pair of its words (cost grows with their product); of an OR query it only sums each
-- word's weighted occurrences, ~40x cheaper. So a first pass ranks the matches with the
-- query's words OR-ed (title and key-point weights and term frequency still count), the
-- best 64 are ranked with the query itself as before, and only the lessons returned
-- have their prose cleaned and an excerpt made. For a query matching at most 64 lessons
-- the result is exactly the full ranking's.
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
  with q as (
    select websearch_to_tsquery('english', coalesce(p_query, '')) as ts,
           -- the query's words, OR-ed: each lexeme quoted as tsquery input wants it
           (select string_agg('''' || replace(replace(w, '\', '\\'), '''', '''''') || '''',
                              ' | ')::tsquery
            from unnest(tsvector_to_array(to_tsvector('english', coalesce(p_query, '')))) w
           ) as any_word
  ),
  candidates as (
    select l.id, l.search_vector
    from q, public.lessons l
    where l.search_vector @@ q.ts and (p_course_id is null or l.course_id = p_course_id)
    order by ts_rank(l.search_vector, q.any_word) desc, l.id
    limit 64
  ),
  best as (
    select c.id, ts_rank(c.search_vector, q.ts) as rank
    from q, candidates c
    order by rank desc, c.id
    limit least(greatest(coalesce(p_limit, 3), 1), 20)
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'lesson_id', l.id, 'title', l.title, 'course_id', l.course_id,
           'course_title', c.title, 'rank', b.rank,
           'excerpt', ts_headline('english',
             -- prose only: code blocks and heading marks make poor excerpts
             regexp_replace(regexp_replace(
               coalesce(l.content, '') || E'\n\n' || coalesce(l.explanation, ''),
               '```.*?```', ' ', 'g'), '^#+ *', '', 'gn'),
             q.ts, 'MaxFragments=2, MinWords=15, MaxWords=45, '
                   'StartSel=**, StopSel=**, FragmentDelimiter=" … "'))
         order by b.rank desc, b.id), '[]'::jsonb)
  from q, best b
  join public.lessons l on l.id = b.id
  join public.courses c on c.id = l.course_id
$$;
