-- Deleting a session deletes its events (what on delete cascade would do).
create function starcite.tg_sessions__delete_events() returns trigger
language plpgsql as $$
begin
  delete from starcite.events e using old_sessions o where e.session_id = o.id;
  return null;
end
$$;
