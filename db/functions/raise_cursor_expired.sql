-- cursor_expired for a session's cursor that falls before its first event in Postgres. detail: earliest_seq
-- (the first seq a reader can still get: the archive's first when the archive reaches up to Postgres, else
-- Postgres's first), retained_seq (Postgres's first) and archived_from / archived_through.
create function starcite.raise_cursor_expired(session_id text, cursor bigint, bounds starcite.log_bounds)
returns void
language plpgsql volatile as $$
declare
  _earliest bigint := case when bounds.archived_from is not null and bounds.archived_through >= bounds.first_seq - 1
                           then bounds.archived_from else bounds.first_seq end;
begin
  perform starcite.raise_error('cursor_expired',
    format('cursor %s of session %s is before the earliest event kept (seq %s)%s', raise_cursor_expired.cursor,
           raise_cursor_expired.session_id, _earliest,
           case when _earliest < bounds.first_seq then '; the server reads the archived range from the archive'
                else '; resume from earliest_seq - 1 or start over' end),
    jsonb_build_object('session_id', raise_cursor_expired.session_id, 'cursor', raise_cursor_expired.cursor,
                       'earliest_seq', _earliest, 'retained_seq', bounds.first_seq,
                       'archived_from', bounds.archived_from, 'archived_through', bounds.archived_through));
end
$$;
