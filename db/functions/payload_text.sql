-- An event's payload as JSON text, as every read surface shows it: the stored object, or for a Durable Streams
-- binary message (a body) the object with the body's bytes in base64 beside its content type. Stable, not
-- immutable, because jsonb_build_object is: an immutable SQL function with a stable call inside is not inlined,
-- and called row by row it made read_text a third slower.
create function starcite.payload_text(payload jsonb, body bytea) returns text
language sql stable parallel safe as $$
  select case when payload_text.body is null then payload_text.payload::text
              else (payload_text.payload || jsonb_build_object('base64',
                      translate(encode(payload_text.body, 'base64'), E'\n', '')))::text end
$$;
