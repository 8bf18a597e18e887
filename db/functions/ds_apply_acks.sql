-- Moves a subscription's cursors forward: acks is [{path, epoch, seq}], each an offset of a linked stream up to its
-- tail (last processed, inclusive). A cursor never moves back; an unlinked path or an offset that is not the
-- stream's is invalid_argument.
create function starcite.ds_apply_acks(s starcite.ds_subscriptions, acks jsonb) returns void
language plpgsql volatile as $$
declare
  _ack  jsonb;
  _tail record;
begin
  for _ack in select a from jsonb_array_elements(coalesce(ds_apply_acks.acks, '[]')) a loop
    if not exists (select 1 from starcite.ds_subscription_links l
                   where l.tenant_id = s.tenant_id and l.subscription_id = s.id and l.path = _ack->>'path') then
      perform starcite.raise_error('invalid_argument', format('the subscription does not follow stream %s', _ack->>'path'),
        jsonb_build_object('field', 'acks', 'stream', _ack->>'path'));
    end if;
    select t.* into _tail from starcite.ds_stream_tail(s.tenant_id, _ack->>'path') t;
    if _tail.offset_epoch is null or (_ack->>'epoch')::bigint <> _tail.offset_epoch or (_ack->>'seq')::bigint > _tail.tail_seq then
      perform starcite.raise_error('invalid_argument', format('%s is not an offset of stream %s', _ack->>'seq', _ack->>'path'),
        jsonb_build_object('field', 'acks', 'stream', _ack->>'path'));
    end if;
    update starcite.ds_subscription_links l
    set acked_epoch = _tail.offset_epoch,
        acked_seq = case when l.acked_epoch = _tail.offset_epoch then greatest(l.acked_seq, (_ack->>'seq')::bigint)
                         else (_ack->>'seq')::bigint end
    where l.tenant_id = s.tenant_id and l.subscription_id = s.id and l.path = _ack->>'path';
  end loop;
end
$$;
