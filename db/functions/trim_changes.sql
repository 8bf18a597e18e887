-- Deletes a tenant's session changes older than its retention policy's max_age (at most max_changes, oldest
-- first), never one an enabled lifecycle webhook has yet to deliver, and moves change_counters.first_seq past
-- them. Returns how many went.
create function starcite.trim_changes(tenant_id text, max_changes integer default 1000)
returns bigint
language plpgsql volatile as $$
declare
  _p starcite.retention_policy := starcite.get_retention(null, trim_changes.tenant_id);
  _first bigint;
  _through bigint;
  _webhooks bigint;
begin
  if _p.max_age is null then
    return 0;
  end if;
  select c.first_seq into _first from starcite.change_counters c where c.tenant_id = trim_changes.tenant_id;
  if _first is null then
    return 0;
  end if;
  select coalesce((select min(w.seq) - 1 from (select c.seq, c.changed_at from starcite.session_changes c
                                               where c.tenant_id = trim_changes.tenant_id and c.seq >= _first
                                               order by c.seq limit trim_changes.max_changes) w
                   where w.changed_at >= clock_timestamp() - _p.max_age),
                  (select max(c.seq) from (select c.seq from starcite.session_changes c
                                           where c.tenant_id = trim_changes.tenant_id and c.seq >= _first
                                           order by c.seq limit trim_changes.max_changes) c),
                  _first - 1)
    into _through;
  select min(w.changes_delivered) into _webhooks from starcite.webhook_endpoints w
  where w.tenant_id = trim_changes.tenant_id and w.enabled and w.lifecycle;
  _through := least(_through, coalesce(_webhooks, _through));
  if _through < _first then
    return 0;
  end if;
  delete from starcite.session_changes c
  where c.tenant_id = trim_changes.tenant_id and c.seq >= _first and c.seq <= _through;
  update starcite.change_counters c set first_seq = _through + 1 where c.tenant_id = trim_changes.tenant_id;
  return _through - _first + 1;
end
$$;
