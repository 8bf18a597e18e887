-- The messages of a JSON append or initial body: a JSON array is flattened one level (each element is a message,
-- [] is none), any other value is one message.
create function starcite.ds_messages(document jsonb) returns jsonb
language sql immutable strict parallel safe as $$
  select case when jsonb_typeof(ds_messages.document) = 'array' then ds_messages.document
              else jsonb_build_array(ds_messages.document) end
$$;
