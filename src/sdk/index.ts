/**
 * starcite/sdk: sessions as ordered, durable, resumable event streams. Works in Node (>= 20, with the
 * `ws` package) and in browsers.
 *
 *   const starcite = new Starcite({ baseUrl, apiKey });
 *   const session = await starcite.session({ identity: starcite.agent({ id: "drafter" }), id: "ses_demo" });
 *   await session.append({ text: "Drafting clause 4.2..." });
 *   session.on("event", (event, { phase }) => console.log(phase, event.seq, event.payload));
 */
export { Starcite, type StarciteOptions, type TokenSessionOptions, type BindSessionOptions } from "./client.ts";
export {
  StarciteSession,
  makeIdentity,
  toAppendInput,
  type Identity,
  type Producer,
  type ProducerOptions,
  type SessionAppendInput,
  type SessionEvents,
  type SessionState,
  type SessionStatus,
  type EventContext,
  type StatusDetail,
} from "./session.ts";
export { followSession, type Follower, type FollowHandlers } from "./follow.ts";
export {
  StarciteError,
  isStarciteError,
  isRetryableCode,
  toStarciteError,
  SERVER_ERROR_CODES,
  type ServerErrorCode,
  type StarciteErrorCode,
} from "./errors.ts";
export { MemoryCursorStore, LocalStorageCursorStore, defaultCursorStore, type CursorStore, type StorageLike } from "./cursor-store.ts";
export {
  TailStream,
  tailError,
  resolveWebSocketImpl,
  type TailStreamOptions,
  type TailStatus,
  type Phase,
  type CredentialProvider,
} from "./tail-stream.ts";
export { Outbox, type OutboxOptions, type SendEvents } from "./outbox.ts";
export { GraphQLHttp, resolveEndpoints, fromGraphQLErrors, type Endpoints, type FetchLike } from "./transport.ts";
export { decodeSessionToken, type SessionTokenClaims } from "./token.ts";
export { verifyWebhook, type VerifyWebhookOptions } from "./webhooks.ts";
export { WebhookHeader } from "./protocol.ts";
export { backoffDelay, resolveRetry, type RetryOptions } from "./backoff.ts";
export type * from "./protocol.ts";
