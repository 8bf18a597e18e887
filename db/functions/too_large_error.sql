-- payload_too_large for a JSON field over the limit called limit_name.
create function starcite.too_large_error(field text, limit_name text) returns starcite.append_error
language sql stable parallel safe as $$
  select row('payload_too_large',
             format('%s is larger than %s bytes', too_large_error.field, starcite.limit_value(too_large_error.limit_name)),
             jsonb_build_object('field', too_large_error.field,
                                'limit', starcite.limit_value(too_large_error.limit_name)))::starcite.append_error
$$;
