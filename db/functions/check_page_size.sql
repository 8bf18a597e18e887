-- Raises invalid_argument unless 1 <= size <= the limit called limit_name.
create function starcite.check_page_size(size integer, limit_name text) returns void
language plpgsql stable as $$
declare
  _max bigint := starcite.limit_value(check_page_size.limit_name);
begin
  if check_page_size.size is null or check_page_size.size < 1 or check_page_size.size > _max then
    perform starcite.raise_error('invalid_argument', format('limit must be between 1 and %s', _max),
      jsonb_build_object('field', 'limit', 'min', 1, 'max', _max));
  end if;
end
$$;
