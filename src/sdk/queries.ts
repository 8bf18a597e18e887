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

export const DELETE_SESSION = `mutation DeleteSession($id: ID!) { deleteSession(id: $id) { ${SESSION_FIELDS} } }`;

export const SESSION_CHANGE_FIELDS = "seq sessionId kind version archived changedAt";

export const SESSION_CHANGES = `query SessionChanges($after: Int, $limit: Int) {
  sessionChanges(after: $after, limit: $limit) { nextCursor lastSeq changes { ${SESSION_CHANGE_FIELDS} } }
}`;

export const SESSION_CHANGES_SUBSCRIPTION = `subscription SessionChanges($cursor: Int) {
  sessionChanges(cursor: $cursor) { cursor live changes { ${SESSION_CHANGE_FIELDS} } }
}`;

export const WEBHOOK_ENDPOINT_FIELDS = "id url sessionIds types events lifecycle enabled createdAt updatedAt";
export const WEBHOOK_DELIVERY_FIELDS =
  "id endpointId sessionId fromSeq toSeq items status attempts nextAttemptAt lastAttemptAt lastStatus lastError createdAt deliveredAt";

export const CREATE_WEBHOOK_ENDPOINT = `mutation CreateWebhookEndpoint($url: String!, $sessionIds: [ID!], $types: [String!], $events: Boolean, $lifecycle: Boolean) {
  createWebhookEndpoint(url: $url, sessionIds: $sessionIds, types: $types, events: $events, lifecycle: $lifecycle) { secret endpoint { ${WEBHOOK_ENDPOINT_FIELDS} } }
}`;

export const LIST_WEBHOOK_ENDPOINTS = `query WebhookEndpoints { webhookEndpoints { ${WEBHOOK_ENDPOINT_FIELDS} } }`;

export const UPDATE_WEBHOOK_ENDPOINT = `mutation UpdateWebhookEndpoint($id: ID!, $url: String, $sessionIds: [ID!], $types: [String!], $events: Boolean,
  $lifecycle: Boolean, $enabled: Boolean, $clearSessions: Boolean, $clearTypes: Boolean) {
  updateWebhookEndpoint(id: $id, url: $url, sessionIds: $sessionIds, types: $types, events: $events, lifecycle: $lifecycle,
    enabled: $enabled, clearSessions: $clearSessions, clearTypes: $clearTypes) { ${WEBHOOK_ENDPOINT_FIELDS} }
}`;

export const DELETE_WEBHOOK_ENDPOINT = `mutation DeleteWebhookEndpoint($id: ID!) { deleteWebhookEndpoint(id: $id) { ${WEBHOOK_ENDPOINT_FIELDS} } }`;

export const LIST_WEBHOOK_DELIVERIES = `query WebhookDeliveries($endpointId: ID!, $status: WebhookDeliveryStatus, $limit: Int) {
  webhookDeliveries(endpointId: $endpointId, status: $status, limit: $limit) { ${WEBHOOK_DELIVERY_FIELDS} }
}`;

export const RETENTION_FIELDS = "scope maxAgeSeconds maxEvents archive";

export const GET_RETENTION = `query Retention($sessionId: ID) { retention(sessionId: $sessionId) { ${RETENTION_FIELDS} } }`;

export const SET_RETENTION = `mutation SetRetention($sessionId: ID, $maxAgeSeconds: Int, $maxEvents: Int, $archive: Boolean) {
  setRetention(sessionId: $sessionId, maxAgeSeconds: $maxAgeSeconds, maxEvents: $maxEvents, archive: $archive) { ${RETENTION_FIELDS} }
}`;

export const CLEAR_RETENTION = `mutation ClearRetention($sessionId: ID) { clearRetention(sessionId: $sessionId) }`;
