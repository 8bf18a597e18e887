create trigger sessions_delete_events
  after delete on starcite.sessions
  referencing old table as old_sessions
  for each statement execute function starcite.tg_sessions__delete_events();
