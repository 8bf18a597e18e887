-- Why an event cannot be appended: a code from starcite.error_codes(), a message, a JSON detail.
create type starcite.append_error as (
  code    text,
  message text,
  detail  jsonb
);
