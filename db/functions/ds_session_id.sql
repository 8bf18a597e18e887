-- The session id of a Durable Stream path's incarnation: "ds:" and the path with "/" written ":", ASCII letters,
-- digits, "." and "-" kept, and every other character written as "_" and the hex of each of its UTF-8 bytes
-- ("_5F" for "_" itself); from the second incarnation on, "__" and its number. chat/room_1 is
-- ds:chat:room_5F1, and after a DELETE and a new PUT, ds:chat:room_5F1__2. No two paths share an id, and an
-- id never names a second incarnation.
create function starcite.ds_session_id(path text, incarnation integer) returns text
language sql stable strict parallel safe as $$
  select 'ds:'
    || coalesce((select string_agg(case when t.c ~ '^[A-Za-z0-9.-]$' then t.c
                                        when t.c = '/' then ':'
                                        else regexp_replace(upper(encode(convert_to(t.c, 'UTF8'), 'hex')), '(..)', '_\1', 'g')
                                   end, '' order by t.i)
                 from regexp_split_to_table(ds_session_id.path, '') with ordinality as t(c, i)), '')
    || case when ds_session_id.incarnation > 1 then '__' || ds_session_id.incarnation else '' end
$$;
