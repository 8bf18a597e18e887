-- One small JSON hint per session per INSERT statement, on channel starcite_events. Listeners must re-read
-- from their cursor; the hint never carries event bodies (NOTIFY payloads stay under 8000 bytes).
create function starcite.tg_events__notify() returns trigger
language plpgsql as $$
begin
  perform pg_notify('starcite_events',
                    json_build_object('session_id', n.session_id, 'last_seq', max(n.seq))::text)
  from new_events n
  group by n.session_id;
  return null;
end
$$;
