import { afterAll, beforeAll, expect, test } from "vitest";
import { Starcite, type StarciteError, type StarciteEvent } from "@starcite/sdk";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey, until } from "./support.ts";

let s: TestServer;
let baseUrl: string;
let apiKey: string;

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  baseUrl = s.url;
  apiKey = await adminKey(s.db);
});
afterAll(async () => {
  await s?.close();
});

test("the landing page's SDK snippet: two identities on one session, the agent gets replay then live", async () => {
  // --- the snippet, verbatim ---
  const starcite = new Starcite({ baseUrl, apiKey });
  // define the user and agent that will share the session
  const alice = starcite.user({ id: "alice" });
  const drafter = starcite.agent({ id: "drafter" });
  // create one shared session for both actors
  const aliceSession = await starcite.session({ identity: alice, id: "ses_demo" });
  const drafterSession = await starcite.session({ identity: drafter, id: aliceSession.id });
  // append from Alice into the shared timeline
  await aliceSession.append({ text: "Can you draft clause 4.2?" });
  // tail from the agent side (replay first, then live)
  const received: { event: StarciteEvent; phase: string }[] = [];
  const errors: StarciteError[] = [];
  drafterSession.on("event", (event, { phase }) => received.push({ event, phase }));
  drafterSession.on("error", (err) => errors.push(err));
  // --- end of snippet ---

  expect(aliceSession.id).toBe("ses_demo");
  expect(drafterSession.id).toBe("ses_demo");
  await until(() => received.length === 1 && drafterSession.state().status === "live", 10_000, "replay");
  expect(received[0]!.phase).toBe("replay");
  expect(received[0]!.event).toMatchObject({
    seq: 1,
    sessionId: "ses_demo",
    type: "content",
    actor: "user:alice",
    payload: { text: "Can you draft clause 4.2?" },
  });

  // Live: the agent answers, alice follows up; the agent's tail sees both, in order.
  expect(await drafterSession.append({ text: "Drafting clause 4.2..." })).toEqual({ seq: 2, deduped: false, lastSeq: 2 });
  expect(await aliceSession.append({ text: "Thanks!" })).toMatchObject({ seq: 3, deduped: false });
  await until(() => received.length === 3, 10_000, "live");
  expect(received.map((r) => [r.event.seq, r.phase, r.event.actor, r.event.payload.text])).toEqual([
    [1, "replay", "user:alice", "Can you draft clause 4.2?"],
    [2, "live", "agent:drafter", "Drafting clause 4.2..."],
    [3, "live", "user:alice", "Thanks!"],
  ]);
  expect(drafterSession.events().map((e) => e.seq)).toEqual([1, 2, 3]);
  expect(drafterSession.state()).toMatchObject({ id: "ses_demo", status: "live", cursor: 3, pendingAppends: 0, error: undefined });
  expect(errors).toEqual([]);

  // The server enforces the identity: a session bound to alice cannot write as someone else.
  await expect(aliceSession.append({ text: "x", actor: "agent:drafter" })).rejects.toMatchObject({ code: "forbidden_actor" });

  // The browser side: a token minted by a backend, used synchronously.
  const { token } = await starcite.createSessionToken({ sessionId: "ses_demo", principal: { type: "user", id: "alice" } });
  const browser = new Starcite({ baseUrl });
  const browserSession = browser.session({ token });
  expect(browserSession.id).toBe("ses_demo");
  expect(browserSession.identity).toMatchObject({ type: "user", id: "alice" });
  const seen: number[] = [];
  browserSession.on("event", (event) => seen.push(event.seq));
  await until(() => seen.length === 3, 10_000, "browser replay");
  await browserSession.append({ text: "from the browser" });
  await until(() => seen.length === 4 && received.length === 4, 10_000, "browser append reaches both");
  expect(received[3]!.event).toMatchObject({ seq: 4, actor: "user:alice", payload: { text: "from the browser" } });

  await Promise.all([aliceSession.close(), drafterSession.close(), browserSession.close()]);
  expect(drafterSession.state().status).toBe("closed");
});

test("the same snippet against a server running without auth (local experiments): identities still show as actors", async () => {
  const open = await startTestServer();
  try {
    const starcite = new Starcite({ baseUrl: open.url, apiKey: "sk_unused_without_auth" });
    const alice = await starcite.session({ identity: starcite.user({ id: "alice" }), id: "ses_open" });
    const drafter = await starcite.session({ identity: starcite.agent({ id: "drafter" }), id: alice.id });
    await alice.append({ text: "hi" });
    const seen: StarciteEvent[] = [];
    drafter.on("event", (event) => seen.push(event));
    await drafter.append({ text: "hello" });
    await until(() => seen.length === 2);
    expect(seen.map((e) => e.actor)).toEqual(["user:alice", "agent:drafter"]);
    await Promise.all([alice.close(), drafter.close()]);
  } finally {
    await open.close();
  }
});
