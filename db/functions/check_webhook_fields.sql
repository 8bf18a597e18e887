-- Raises invalid_argument unless the URL and the filters are acceptable for a webhook endpoint.
create function starcite.check_webhook_fields(url text, session_ids text[], types text[], events boolean,
                                              lifecycle boolean)
returns void
language plpgsql stable as $$
declare
  _max bigint := starcite.limit_value('webhook_filter_items');
begin
  if check_webhook_fields.url is not null and (check_webhook_fields.url !~ '^https?://[^\s]+$'
     or char_length(check_webhook_fields.url) > starcite.limit_value('webhook_url_chars')) then
    perform starcite.raise_error('invalid_argument',
      format('url must be an http:// or https:// URL of at most %s characters', starcite.limit_value('webhook_url_chars')),
      '{"field":"url"}');
  end if;
  if cardinality(check_webhook_fields.session_ids) = 0 or cardinality(check_webhook_fields.session_ids) > _max
     or array_position(check_webhook_fields.session_ids, null) is not null then
    perform starcite.raise_error('invalid_argument', format('session_ids must hold 1-%s session ids (or be null: all)', _max),
      '{"field":"session_ids"}');
  end if;
  if cardinality(check_webhook_fields.types) = 0 or cardinality(check_webhook_fields.types) > _max
     or array_position(check_webhook_fields.types, null) is not null then
    perform starcite.raise_error('invalid_argument', format('types must hold 1-%s event types (or be null: all)', _max),
      '{"field":"types"}');
  end if;
  if check_webhook_fields.events is false and check_webhook_fields.lifecycle is false then
    perform starcite.raise_error('invalid_argument', 'an endpoint receives events, session changes or both',
      '{"field":"events"}');
  end if;
end
$$;
