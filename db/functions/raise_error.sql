-- Raises a starcite error: its code's SQLSTATE, the message "<code>: <text>", a JSON object as DETAIL.
-- Volatile on purpose: an immutable raiser could be constant-folded (and so raise) at plan time.
create function starcite.raise_error(code text, message text, detail jsonb default '{}') returns void
language plpgsql volatile as $$
begin
  raise exception using
    errcode = starcite.error_sqlstate(raise_error.code),
    message = raise_error.code || ': ' || raise_error.message,
    detail = coalesce(raise_error.detail, '{}')::text;
end
$$;
