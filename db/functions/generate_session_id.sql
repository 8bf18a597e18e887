create function starcite.generate_session_id() returns text
language sql volatile as $$
  select 'ses_' || rtrim(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=')
$$;
