-- The tenant's session changes with seq > after_seq, in seq (= commit) order. A cursor before the first change
-- retention kept raises cursor_expired with the earliest seq still available.
create function starcite.read_changes(after_seq bigint default 0, max_changes integer default 100,
                                      tenant_id text default null)
returns setof starcite.session_changes
language plpgsql stable as $$
declare
  _tenant text := starcite.resolve_tenant(read_changes.tenant_id);
  _first bigint;
begin
  if read_changes.after_seq is null or read_changes.after_seq < 0 then
    perform starcite.raise_error('invalid_argument', 'after_seq must be >= 0', '{"field":"after_seq"}');
  end if;
  perform starcite.check_page_size(read_changes.max_changes, 'changes_per_read');
  select c.first_seq into _first from starcite.change_counters c where c.tenant_id = _tenant;
  if read_changes.after_seq + 1 < coalesce(_first, 1) then
    perform starcite.raise_error('cursor_expired',
      format('cursor %s is before the earliest session change kept (seq %s); resume from earliest_seq - 1',
             read_changes.after_seq, _first),
      jsonb_build_object('cursor', read_changes.after_seq, 'earliest_seq', _first));
  end if;
  return query
    select c.* from starcite.session_changes c
    where c.tenant_id = _tenant and c.seq > read_changes.after_seq
    order by c.seq
    limit read_changes.max_changes;
end
$$;
