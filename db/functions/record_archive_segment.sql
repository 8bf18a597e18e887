-- Records that object_key holds the session's events from_seq .. to_seq, and extends the archived range.
-- Idempotent: a range recorded already (by another process that archived it too) returns false.
create function starcite.record_archive_segment(session_id text, from_seq bigint, to_seq bigint, object_key text,
                                                bytes bigint)
returns boolean
language plpgsql volatile as $$
declare
  _b starcite.log_bounds;
begin
  insert into starcite.log_bounds (session_id) values (record_archive_segment.session_id)
  on conflict on constraint log_bounds_pkey do nothing;
  select b.* into _b from starcite.log_bounds b where b.session_id = record_archive_segment.session_id for update;
  if _b.archived_through >= record_archive_segment.to_seq then
    return false;
  end if;
  insert into starcite.archive_segments (session_id, from_seq, to_seq, object_key, bytes)
  values (record_archive_segment.session_id, record_archive_segment.from_seq, record_archive_segment.to_seq,
          record_archive_segment.object_key, record_archive_segment.bytes)
  on conflict on constraint archive_segments_pkey do update
    set to_seq = excluded.to_seq, object_key = excluded.object_key, bytes = excluded.bytes;
  update starcite.log_bounds b set
    -- A range that does not continue the archived one starts it anew (older events were deleted unarchived).
    archived_from = case when b.archived_from is null or record_archive_segment.from_seq <> b.archived_through + 1
                         then record_archive_segment.from_seq else b.archived_from end,
    archived_through = record_archive_segment.to_seq
  where b.session_id = record_archive_segment.session_id;
  return true;
end
$$;
