-- A content type's media type, lower-cased and without parameters: what decides whether two Durable Streams
-- content types match ("Application/JSON; charset=utf-8" matches "application/json").
create function starcite.ds_media_type(content_type text) returns text
language sql immutable strict parallel safe as $$
  select lower(btrim(split_part(ds_media_type.content_type, ';', 1)))
$$;
