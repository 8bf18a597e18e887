/**
 * Dedup state survives a Postgres restart: a separate, persistent embedded cluster is started, migrated,
 * written to, stopped, started again on the same data dir, and a retry dedupes to the original seq.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, expect, test } from "vitest";
import { createPool } from "../../src/db/client.ts";
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../../src/db/embedded.ts";
import { append, read } from "../../src/db/events.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createSession, getSession } from "../../src/db/sessions.ts";
import { freePort } from "../helpers/net.ts";
import { starciteError } from "./_support.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-restart-"));
// As root, Postgres runs as the "postgres" user, which must be able to enter the directory.
fs.chmodSync(tmp, 0o755);
const dataDir = path.join(tmp, "pg");
let cluster: EmbeddedPostgresHandle | undefined;

afterAll(async () => {
  await cluster?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function databaseUrl(handle: EmbeddedPostgresHandle): string {
  const u = new URL(handle.url);
  u.pathname = "/starcite";
  return u.toString();
}

test("dedup returns the original seq after the Postgres server is stopped and started again", async () => {
  const port = await freePort();
  cluster = await startEmbeddedPostgres({ dataDir, port }); // persistent: the data dir survives stop()

  // As src/db/database.ts does: a database of our own, then dbmate.
  const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
  await admin.unsafe("create database starcite");
  await admin.end();
  const url = databaseUrl(cluster);
  await migrate(url);

  const event = { type: "msg", payload: { text: "before restart" }, producerId: "agent-1", producerSeq: 1 };
  let sql = createPool(url, { max: 2 });
  const session = await createSession(sql, { id: "restart-me", title: "persistent" });
  await append(sql, session.id, { payload: { filler: true } });
  const original = await append(sql, session.id, event);
  expect(original).toEqual({ seq: 2, lastSeq: 2, deduped: false });
  await append(sql, session.id, { payload: {}, idempotencyKey: "key-1" });
  const [before] = await sql<{ started: string }[]>`select pg_postmaster_start_time()::text as started`;
  await sql.end({ timeout: 5 });

  await cluster.stop();
  cluster = undefined;
  expect(fs.existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);

  cluster = await startEmbeddedPostgres({ dataDir, port });
  sql = createPool(databaseUrl(cluster), { max: 2 });
  try {
    // A new server process, not the one that served the first appends.
    const [after] = await sql<{ started: string }[]>`select pg_postmaster_start_time()::text as started`;
    expect(after!.started).not.toBe(before!.started);
    expect(await append(sql, session.id, event)).toEqual({ seq: original.seq, lastSeq: 3, deduped: true });
    expect(await append(sql, session.id, { payload: {}, idempotencyKey: "key-1" })).toEqual({ seq: 3, lastSeq: 3, deduped: true });
    await starciteError(append(sql, session.id, { ...event, payload: { text: "changed" } }), "producer_replay_conflict");
    expect((await append(sql, session.id, { ...event, producerSeq: 2 })).seq).toBe(4);

    expect((await getSession(sql, session.id))?.lastSeq).toBe(4);
    expect((await read(sql, session.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    // Re-running the migrations on the restarted cluster is a no-op.
    await migrate(databaseUrl(cluster));
  } finally {
    await sql.end({ timeout: 5 });
  }
});
