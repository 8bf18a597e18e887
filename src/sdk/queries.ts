/** The GraphQL documents the SDK sends. */

export const EVENT_FIELDS = "seq sessionId type payload actor source metadata refs idempotencyKey producerId producerSeq insertedAt";
export const SESSION_FIELDS = "id title metadata lastSeq version archived createdAt updatedAt";
export const API_KEY_FIELDS = "id tenantId name keyPrefix scopes createdAt expiresAt revokedAt";

export const CREATE_SESSION = `mutation CreateSession($id: ID, $title: String, $metadata: JSON) {
  createSession(id: $id, title: $title, metadata: $metadata) { ${SESSION_FIELDS} }
}`;

export const UPDATE_SESSION = `mutation UpdateSession($id: ID!, $title: String, $metadata: JSON, $archived: Boolean, $expectedVersion: Int) {
  updateSession(id: $id, title: $title, metadata: $metadata, archived: $archived, expectedVersion: $expectedVersion) { ${SESSION_FIELDS} }
}`;

export const GET_SESSION = `query GetSession($id: ID!) { session(id: $id) { ${SESSION_FIELDS} } }`;

export const LIST_SESSIONS = `query ListSessions($limit: Int, $after: ID, $archived: Boolean) {
  sessions(limit: $limit, after: $after, archived: $archived) { ${SESSION_FIELDS} }
}`;

export const READ_EVENTS = `query ReadEvents($sessionId: ID!, $after: Int, $limit: Int) {
  events(sessionId: $sessionId, after: $after, limit: $limit) { nextCursor lastSeq events { ${EVENT_FIELDS} } }
}`;

export const APPEND = `mutation Append($sessionId: ID!, $event: AppendInput!) {
  append(sessionId: $sessionId, event: $event) { seq lastSeq deduped }
}`;

export const APPEND_BATCH = `mutation AppendBatch($sessionId: ID!, $events: [AppendInput!]!) {
  appendBatch(sessionId: $sessionId, events: $events) { seq lastSeq deduped }
}`;

export const CREATE_SESSION_TOKEN = `mutation CreateSessionToken($sessionId: ID!, $principal: PrincipalInput!, $scopes: [String!], $ttlSeconds: Int) {
  createSessionToken(sessionId: $sessionId, principal: $principal, scopes: $scopes, ttlSeconds: $ttlSeconds) { token expiresAt }
}`;

export const CREATE_API_KEY = `mutation CreateApiKey($name: String!, $tenantId: String, $scopes: [String!], $expiresAt: DateTime) {
  createApiKey(name: $name, tenantId: $tenantId, scopes: $scopes, expiresAt: $expiresAt) { secret key { ${API_KEY_FIELDS} } }
}`;

export const LIST_API_KEYS = `query ApiKeys($tenantId: String) { apiKeys(tenantId: $tenantId) { ${API_KEY_FIELDS} } }`;

export const REVOKE_API_KEY = `mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) { ${API_KEY_FIELDS} } }`;

export const VIEWER = `query Viewer { viewer { kind id tenantId scopes sessionId expiresAt } }`;

export const TAIL = `subscription Tail($sessionId: ID!, $cursor: Int) {
  tail(sessionId: $sessionId, cursor: $cursor) { cursor live events { ${EVENT_FIELDS} } }
}`;
