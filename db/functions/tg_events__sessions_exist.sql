-- What a foreign key from events to sessions would check row by row, once per session per INSERT statement:
-- every new event's session exists, and is key-share locked so that it cannot be deleted before commit (the
-- append functions hold a stronger lock on it already).
create function starcite.tg_events__sessions_exist() returns trigger
language plpgsql as $$
declare
  _missing text;
begin
  perform 1 from starcite.sessions s
  where s.id in (select n.session_id from new_events n)
  order by s.id
  for key share;
  select n.session_id into _missing from new_events n
  where not exists (select 1 from starcite.sessions s where s.id = n.session_id)
  limit 1;
  if _missing is not null then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', _missing),
      jsonb_build_object('session_id', _missing));
  end if;
  return null;
end
$$;
