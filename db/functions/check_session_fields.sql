-- Raises invalid_argument or payload_too_large for a title or metadata a session cannot have.
create function starcite.check_session_fields(title text, metadata jsonb) returns void
language plpgsql stable as $$
begin
  if char_length(check_session_fields.title) > starcite.limit_value('session_title_chars') then
    perform starcite.raise_error('invalid_argument',
      format('title is longer than %s characters', starcite.limit_value('session_title_chars')),
      jsonb_build_object('field', 'title'));
  end if;
  if check_session_fields.metadata is not null and jsonb_typeof(check_session_fields.metadata) <> 'object' then
    perform starcite.raise_error('invalid_argument', 'metadata must be a JSON object', jsonb_build_object('field', 'metadata'));
  end if;
  if octet_length(check_session_fields.metadata::text) > starcite.limit_value('session_metadata_bytes') then
    perform starcite.raise_error('payload_too_large',
      format('session metadata is larger than %s bytes', starcite.limit_value('session_metadata_bytes')),
      jsonb_build_object('field', 'metadata', 'limit', starcite.limit_value('session_metadata_bytes')));
  end if;
end
$$;
