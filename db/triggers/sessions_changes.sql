create trigger sessions_changes
  after insert or delete or update of title, metadata, archived, version on starcite.sessions
  for each row execute function starcite.tg_sessions__record_change();
