-- Events with seq > after_seq in seq order (see starcite.check_read for what is checked first). Stable, so every
-- statement here reads one snapshot: the bounds and the rows agree even while retention deletes concurrently.
create function starcite.read(session_id text, after_seq bigint default 0, max_events integer default 100,
                              tenant_id text default null)
returns setof starcite.events
language plpgsql stable as $$
begin
  perform starcite.check_read(read.session_id, read.after_seq, read.max_events, 'events_per_read', read.tenant_id);
  return query
    select e.* from starcite.events e
    where e.session_id = read.session_id and e.seq > read.after_seq
    order by e.seq
    limit read.max_events;
end
$$;
