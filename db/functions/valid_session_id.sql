create function starcite.valid_session_id(id text) returns boolean
language sql immutable parallel safe as $$
  select valid_session_id.id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]*$'
     and char_length(valid_session_id.id) <= starcite.limit_value('session_id_chars')
$$;
