-- review_cards.updated_at is kept by the same trigger as every other table's
-- (private.set_updated_at). It was first added by editing 20261205003000_review_cards.sql,
-- which was already applied, so it is here instead; `if exists` covers a development
-- database that applied that edited file.

drop trigger if exists review_cards_updated_at on public.review_cards;

create trigger review_cards_updated_at
  before update on public.review_cards
  for each row execute function private.set_updated_at();
