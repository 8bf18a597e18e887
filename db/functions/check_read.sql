-- What every read of a session's events checks first, in this order: a valid cursor, a page size within the
-- read's limit, a session the tenant can see (session_not_found otherwise), and a cursor that is not before what
-- Postgres still keeps (cursor_expired, with the earliest seq a reader can still get, the archive included) --
-- never a silent skip. Stable: it reads the snapshot of the read that calls it. Returns true when every check
-- passes, so that a SQL read can gate its rows on it (starcite.read).
create function starcite.check_read(session_id text, after_seq bigint, max_events integer, page_limit text,
                                     tenant_id text) returns boolean
language plpgsql stable as $$
declare
  _bounds starcite.log_bounds;
begin
  if after_seq is null or after_seq < 0 then
    perform starcite.raise_error('invalid_argument', 'after_seq must be >= 0', '{"field":"after_seq"}');
  end if;
  perform starcite.check_page_size(check_read.max_events, check_read.page_limit);
  if not exists (select 1 from starcite.sessions s
                 where s.id = check_read.session_id and s.tenant_id = starcite.resolve_tenant(check_read.tenant_id)) then
    perform starcite.raise_error('session_not_found', format('session %s does not exist', check_read.session_id),
      jsonb_build_object('session_id', check_read.session_id));
  end if;
  select b.* into _bounds from starcite.log_bounds b where b.session_id = check_read.session_id;
  if _bounds.first_seq is not null and check_read.after_seq + 1 < _bounds.first_seq then
    perform starcite.raise_cursor_expired(check_read.session_id, check_read.after_seq, _bounds);
  end if;
  return true;
end
$$;
