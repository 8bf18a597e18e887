create trigger events_notify
  after insert on starcite.events
  referencing new table as new_events
  for each statement execute function starcite.tg_events__notify();
