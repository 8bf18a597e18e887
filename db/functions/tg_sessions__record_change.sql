-- Records a session's lifecycle change in session_changes under its tenant's counter row (locked until commit,
-- so change seqs are gapless and in commit order) and wakes listeners on channel starcite_changes with
-- {"tenant_id": ..., "seq": N}. A trigger, so direct SQL gets the feed too. Appends update only last_seq and
-- updated_at, which this trigger does not watch; an update that changes nothing is not a change.
create function starcite.tg_sessions__record_change() returns trigger
language plpgsql as $$
declare
  _row starcite.sessions := case when tg_op = 'DELETE' then old else new end;
  _kind text;
  _seq bigint;
begin
  if tg_op = 'INSERT' then
    _kind := 'created';
  elsif tg_op = 'DELETE' then
    _kind := 'deleted';
  elsif new.archived is distinct from old.archived then
    _kind := case when new.archived then 'archived' else 'unarchived' end;
  elsif (new.title, new.metadata, new.version) is distinct from (old.title, old.metadata, old.version) then
    _kind := 'updated';
  else
    return null;
  end if;

  insert into starcite.change_counters as c (tenant_id, last_seq) values (_row.tenant_id, 1)
  on conflict (tenant_id) do update set last_seq = c.last_seq + 1
  returning c.last_seq into _seq;
  insert into starcite.session_changes (tenant_id, seq, session_id, kind, version, archived)
  values (_row.tenant_id, _seq, _row.id, _kind, _row.version, _row.archived);
  perform pg_notify('starcite_changes', json_build_object('tenant_id', _row.tenant_id, 'seq', _seq)::text);
  return null;
end
$$;
