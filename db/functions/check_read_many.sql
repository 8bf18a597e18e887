-- What starcite.read_many checks before any row: arrays of one length, at most events_per_read sessions, and for
-- each a cursor >= 0 and a max_events within the read limit. Returns true when they all hold (read_many gates its
-- rows on it, as read does on check_read).
create function starcite.check_read_many(session_ids text[], after_seqs bigint[], max_events integer[])
returns boolean
language plpgsql stable as $$
begin
  if session_ids is null or after_seqs is null or max_events is null
     or cardinality(session_ids) <> cardinality(after_seqs) or cardinality(session_ids) <> cardinality(max_events) then
    perform starcite.raise_error('invalid_argument', 'session_ids, after_seqs and max_events must be arrays of the same length',
      '{"field":"session_ids"}');
  end if;
  if cardinality(session_ids) > starcite.limit_value('events_per_read') then
    perform starcite.raise_error('invalid_argument',
      format('at most %s sessions per call', starcite.limit_value('events_per_read')),
      jsonb_build_object('field', 'session_ids', 'max', starcite.limit_value('events_per_read')));
  end if;
  if exists (select 1 from unnest(after_seqs, max_events) as c(after_seq, n)
             where c.after_seq is null or c.after_seq < 0 or c.n is null or c.n < 1
                or c.n > starcite.limit_value('events_per_read')) then
    perform starcite.raise_error('invalid_argument',
      format('every after_seq must be >= 0 and every max_events between 1 and %s', starcite.limit_value('events_per_read')),
      '{"field":"max_events"}');
  end if;
  return true;
end
$$;
