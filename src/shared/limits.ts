/** Largest HTTP request body the server reads (GraphQL POSTs and REST alike); larger ones get 413 `payload_too_large`. */
export const MAX_REQUEST_BODY_BYTES = 32 * 1024 * 1024;

/** Largest Durable Streams request body (PUT or POST), the `event_body_bytes` limit of `starcite.limits()`. */
export const MAX_STREAM_BODY_BYTES = 8 * 1024 * 1024;
