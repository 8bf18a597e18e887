import type { ApiKeyInfo, SessionInfo, StarciteEvent } from "@starcite/sdk";

/** "agent:drafter" -> "drafter"; an actor without a type is shown whole; no actor is "-". */
export function actorLabel(actor: string | null): string {
  if (!actor) return "-";
  const i = actor.indexOf(":");
  return i >= 0 ? actor.slice(i + 1) : actor;
}

/** One tail line: `[drafter] Drafting clause 4.2...`, or the payload as JSON when it has no text. */
export function eventLine(event: StarciteEvent): string {
  const text = typeof event.payload?.text === "string" ? event.payload.text : JSON.stringify(event.payload);
  return `[${actorLabel(event.actor)}] ${text}`;
}

/** Left-aligned columns separated by two spaces. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

export function sessionsTable(sessions: SessionInfo[]): string {
  return table(
    ["ID", "LAST_SEQ", "VERSION", "ARCHIVED", "UPDATED", "TITLE"],
    sessions.map((s) => [s.id, String(s.lastSeq), String(s.version), s.archived ? "yes" : "no", s.updatedAt, s.title ?? ""]),
  );
}

export function sessionDetails(s: SessionInfo): string {
  const rows: [string, string][] = [
    ["id", s.id],
    ["title", s.title ?? ""],
    ["last_seq", String(s.lastSeq)],
    ["version", String(s.version)],
    ["archived", String(s.archived)],
    ["metadata", JSON.stringify(s.metadata)],
    ["created_at", s.createdAt],
    ["updated_at", s.updatedAt],
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`).join("\n") + "\n";
}

export function keysTable(keys: ApiKeyInfo[]): string {
  return table(
    ["ID", "TENANT", "NAME", "PREFIX", "SCOPES", "CREATED", "EXPIRES", "REVOKED"],
    keys.map((k) => [k.id, k.tenantId, k.name, k.keyPrefix, k.scopes.join(","), k.createdAt, k.expiresAt ?? "-", k.revokedAt ?? "-"]),
  );
}
