-- A session's id, title and metadata, checked on insert and whenever an update sets one of them: raw SQL gets
-- the same coded errors as create_session and update_session, and an id never changes.
create function starcite.tg_sessions__check() returns trigger
language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.id is distinct from old.id then
    perform starcite.raise_error('invalid_argument', 'a session id cannot change', '{"field":"id"}');
  end if;
  if new.id is null or not starcite.valid_session_id(new.id) then
    perform starcite.raise_error('invalid_argument',
      format('session id must be 1-%s characters of [A-Za-z0-9_.:-], starting with a letter or digit',
             starcite.limit_value('session_id_chars')),
      '{"field":"id"}');
  end if;
  perform starcite.check_session_fields(new.title, new.metadata);
  return new;
end
$$;
