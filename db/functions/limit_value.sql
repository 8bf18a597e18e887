-- One limit by name. Immutable, so a call with a constant name becomes a constant when a query is planned;
-- a misspelt name fails instead of silently allowing anything.
create function starcite.limit_value(name text) returns bigint
language plpgsql immutable strict parallel safe as $$
declare
  _value bigint;
begin
  select l.value into _value from starcite.limits() l where l.name = limit_value.name;
  if _value is null then
    raise exception 'starcite.limit_value: unknown limit %', limit_value.name;
  end if;
  return _value;
end
$$;
