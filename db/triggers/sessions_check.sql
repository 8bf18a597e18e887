create trigger sessions_check
  before insert or update of id, title, metadata on starcite.sessions
  for each row execute function starcite.tg_sessions__check();
