-- The next range of one session to archive: from the first event not archived yet, up to max_events expired
-- events (nothing when none is expired). The archiver writes it as one object, then calls
-- record_archive_segment.
create function starcite.archive_range(session_id text, max_events integer default 1000)
returns table (tenant_id text, from_seq bigint, to_seq bigint)
language plpgsql stable as $$
declare
  _s starcite.sessions;
  _b starcite.log_bounds;
  _from bigint;
  _to bigint;
begin
  select s.* into _s from starcite.sessions s where s.id = archive_range.session_id;
  if _s.id is null or not coalesce((starcite.get_retention(_s.id, _s.tenant_id)).archive, false) then
    return;
  end if;
  select b.* into _b from starcite.log_bounds b where b.session_id = _s.id;
  _from := greatest(coalesce(_b.archived_through, 0) + 1, coalesce(_b.first_seq, 1));
  _to := starcite.expired_through(_s.id, _from, archive_range.max_events);
  if _to >= _from then
    return query select _s.tenant_id, _from, _to;
  end if;
end
$$;
