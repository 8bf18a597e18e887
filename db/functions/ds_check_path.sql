-- Raises invalid_argument unless path can name a Durable Stream: non-empty segments separated by "/", none of
-- them "." or "..", no control characters, not under the reserved "__ds" prefix, and a session id
-- (ds_session_id) within the stream_path_chars limit.
create function starcite.ds_check_path(path text) returns void
language plpgsql stable as $$
begin
  if ds_check_path.path is null or ds_check_path.path = '' or ds_check_path.path ~ '^/|/$|//' then
    perform starcite.raise_error('invalid_argument', 'a stream path is one or more non-empty segments separated by /',
      '{"field":"path"}');
  elsif ds_check_path.path ~ '(^|/)\.\.?(/|$)' or ds_check_path.path ~ '[[:cntrl:]]' then
    perform starcite.raise_error('invalid_argument', 'a stream path may not contain . or .. segments or control characters',
      '{"field":"path"}');
  elsif ds_check_path.path ~ '^__ds(/|$)' then
    perform starcite.raise_error('invalid_argument', 'stream paths under __ds/ are reserved for the protocol''s control APIs',
      '{"field":"path"}');
  elsif char_length(starcite.ds_session_id(ds_check_path.path, 1)) > starcite.limit_value('stream_path_chars') then
    perform starcite.raise_error('invalid_argument',
      format('the stream path is too long: its session id would have more than %s characters',
             starcite.limit_value('stream_path_chars')),
      jsonb_build_object('field', 'path', 'max', starcite.limit_value('stream_path_chars')));
  end if;
end
$$;
