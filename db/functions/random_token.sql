-- URL-safe random text from 16 bytes per uuid.
create function starcite.random_token(bytes_from_uuids integer default 2) returns text
language sql volatile as $$
  select rtrim(translate(encode(string_agg(uuid_send(gen_random_uuid()), ''::bytea), 'base64'), '+/', '-_'), '=')
  from generate_series(1, bytes_from_uuids)
$$;
