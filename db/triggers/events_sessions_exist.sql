create trigger events_sessions_exist
  after insert on starcite.events
  referencing new table as new_events
  for each statement execute function starcite.tg_events__sessions_exist();
