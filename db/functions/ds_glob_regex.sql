-- A subscription pattern as an anchored regular expression, matched against '/' || path: each segment is
-- "/<segment>" with "*" matching any characters but "/", and a "**" segment matches zero or more whole segments.
-- events/* matches events/a but not events or events/a/b; events/** matches all three.
create function starcite.ds_glob_regex(pattern text) returns text
language sql immutable strict parallel safe as $$
  select '^' || string_agg(case when s.seg = '**' then '(/[^/]+)*'
                                else '/' || replace(regexp_replace(s.seg, '([.+?^$()|\[\]{}\\])', '\\\1', 'g'), '*', '[^/]*') end,
                           '' order by s.i) || '$'
  from unnest(string_to_array(ds_glob_regex.pattern, '/')) with ordinality as s(seg, i)
$$;
