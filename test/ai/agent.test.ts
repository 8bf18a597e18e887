import { readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Starcite, type StarciteEvent, type StarciteSession } from "@starcite/sdk";
import {
  appendUIMessageStream,
  CHAT_ASSISTANT_CHUNK,
  createStarciteChatTransport,
  projectChat,
  serveChat,
  stopEvent,
  toUIMessages,
  userMessageEvent,
  watchStop,
} from "@starcite/sdk/ai";
import { answerFor, mockModel, respond, tokensOf } from "../../examples/chat/agent.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey, eventually, until } from "../sdk/support.ts";

let s: TestServer;
let apiKey: string;
let admin: Starcite;

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  apiKey = await adminKey(s.db);
  admin = new Starcite({ baseUrl: s.url, apiKey });
});
afterAll(async () => {
  await s?.close();
});

/** A chunk stream the test feeds by hand. */
function handStream() {
  let controller!: ReadableStreamDefaultController<UIMessageChunk>;
  let cancelled = false;
  const stream = new ReadableStream<UIMessageChunk>({
    start: (c) => void (controller = c),
    cancel: () => void (cancelled = true),
  });
  return {
    stream,
    push: (c: UIMessageChunk) => controller.enqueue(c),
    close: () => controller.close(),
    get cancelled() {
      return cancelled;
    },
  };
}

const textChunks = (text: string, messageId?: string): UIMessageChunk[] => [
  { type: "start", ...(messageId ? { messageId } : {}) },
  { type: "text-start", id: "t" },
  ...tokensOf(text).map((delta): UIMessageChunk => ({ type: "text-delta", id: "t", delta })),
  { type: "text-end", id: "t" },
  { type: "finish" },
];

async function logOf(sessionId: string): Promise<StarciteEvent[]> {
  const events: StarciteEvent[] = [];
  for (let after = 0; ;) {
    const page = await admin.readEvents(sessionId, { after, limit: 1000 });
    events.push(...page.events);
    if (page.events.length === 0 || page.nextCursor >= page.lastSeq) return events;
    after = page.nextCursor;
  }
}

const agentSession = (id: string, client = admin) => client.session({ identity: client.agent({ id: "assistant" }), id });
const userSession = (id: string) => admin.session({ identity: admin.user({ id: "alice" }), id });
const textOf = (m: UIMessage | undefined) => m?.parts.map((p) => (p.type === "text" ? p.text : "")).join("") ?? "";

describe("appendUIMessageStream", () => {
  test("one event per chunk, a start carrying the message id, and tokens batched into few requests", async () => {
    let requests = 0;
    const counting = new Starcite({ baseUrl: s.url, apiKey, fetch: (input, init) => (requests++, fetch(input, init)) });
    const agent = await agentSession("ses_ai_batch", counting);
    const text = answerFor("batching");
    const before = requests;
    const result = await appendUIMessageStream(
      agent,
      await respond(mockModel({ chunkDelayInMs: 2 }), {
        messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "batching" }] }],
        messageId: "a1",
        signal: new AbortController().signal,
      }),
      { messageId: "a1" },
    );
    const sent = requests - before;
    const events = (await logOf("ses_ai_batch")).filter((e) => e.type === CHAT_ASSISTANT_CHUNK);
    expect(result).toMatchObject({ messageId: "a1", chunks: events.length, deduped: 0, aborted: false });
    expect(events[0]!.payload.chunk as UIMessageChunk).toEqual({ type: "start", messageId: "a1" });
    expect(events.every((e) => e.payload.messageId === "a1" && e.producerId === "agent:assistant/chat/a1")).toBe(true);
    expect(events.map((e) => e.producerSeq)).toEqual(events.map((_, i) => i + 1));
    expect(textOf(toUIMessages(events)[0])).toBe(text);
    // ~60 chunks in ~150 ms with lingerMs 20: far fewer requests than chunks.
    expect(sent).toBeLessThan(events.length / 3);
    console.log(`appendUIMessageStream: ${events.length} chunks in ${sent} requests`);
    await agent.close();
  });

  test("a crashed agent retried with the same stream: every chunk it had written is deduped, none doubled", async () => {
    const text = answerFor("crash");
    const chunks = textChunks(text);
    const first = await agentSession("ses_ai_crash");
    const hand = handStream();
    const run = appendUIMessageStream(first, hand.stream, { messageId: "a1", lingerMs: 0 });
    run.catch(() => {}); // the crash below rejects it
    for (const c of chunks.slice(0, 20)) hand.push(c);
    const written = async () => (await logOf("ses_ai_crash")).filter((e) => e.type === CHAT_ASSISTANT_CHUNK).length;
    await eventually(async () => (await written()) === 20, 10_000, "20 chunks written");
    await first.close(); // the crash: the process is gone, its stream half written

    const again = await agentSession("ses_ai_crash", new Starcite({ baseUrl: s.url, apiKey }));
    const retry = await appendUIMessageStream(
      again,
      new ReadableStream({
        start(c) {
          for (const x of chunks) c.enqueue(x);
          c.close();
        },
      }),
      { messageId: "a1" },
    );
    expect(retry.deduped).toBe(20);
    const events = (await logOf("ses_ai_crash")).filter((e) => e.type === CHAT_ASSISTANT_CHUNK);
    expect(events).toHaveLength(chunks.length);
    expect(textOf(toUIMessages(events)[0])).toBe(text);
    await again.close();
  });

  test("a stream that throws ends its turn with an error chunk; the partial answer stays", async () => {
    const agent = await agentSession("ses_ai_throw");
    const queued: UIMessageChunk[] = [{ type: "start" }, { type: "text-start", id: "t" }, { type: "text-delta", id: "t", delta: "half " }];
    const failing = new ReadableStream<UIMessageChunk>({
      pull: (c) => {
        const next = queued.shift();
        if (next) c.enqueue(next);
        else c.error(new Error("model overloaded"));
      },
    });
    const failed = await appendUIMessageStream(agent, failing, { messageId: "a2" });
    expect(failed.errorText).toBe("model overloaded");
    const chat = projectChat(await logOf("ses_ai_throw"));
    expect(chat.status).toBe("error");
    expect(chat.errorText).toBe("model overloaded");
    expect(textOf(chat.messages.find((m) => m.id === "a2"))).toBe("half ");
    await agent.close();
  });
});

describe("stop", () => {
  test("watchStop fires for a stop naming the turn or naming none after the user message, not for others", async () => {
    const user = await userSession("ses_ai_watch");
    const agent = await agentSession("ses_ai_watch");
    await user.append(stopEvent()); // before the question: not for this turn
    const { seq } = await user.append(userMessageEvent({ id: "u1", role: "user", parts: [{ type: "text", text: "hi" }] }));
    const watch = watchStop(agent, { messageId: "a1", since: seq });
    await user.append(stopEvent("other"));
    await user.append({ text: "unrelated" });
    const marker = await user.append({ text: "marker" });
    await until(() => agent.state().cursor >= marker.seq, 10_000, "agent caught up");
    expect(watch.signal.aborted).toBe(false);
    const stop = await user.append(stopEvent());
    await until(() => watch.signal.aborted, 10_000, "aborted");
    expect(watch.signal.reason).toMatchObject({ name: "AbortError", message: `stopped by user:alice (event ${stop.seq})` });
    watch.dispose();
    await Promise.all([user.close(), agent.close()]);
  });

  test("serveChat: the user's stop ends the model's stream, an abort chunk closes the turn, the partial answer stays", async () => {
    const tokens: string[] = [];
    let cancelled = 0;
    const agent = await agentSession("ses_ai_stop");
    const turns: { aborted: boolean }[] = [];
    const model = mockModel({ chunkDelayInMs: 20, onToken: (t) => tokens.push(t), onCancel: () => cancelled++ });
    const stopServing = serveChat(agent, (turn) => respond(model, turn), {
      onTurn: (r) => turns.push(r),
    });
    const user = await userSession("ses_ai_stop");
    const seen: StarciteEvent[] = [];
    user.on("event", (e) => seen.push(e));
    await user.append(userMessageEvent({ id: "u1", role: "user", parts: [{ type: "text", text: "stop me" }] }));
    await until(() => textOf(toUIMessages(seen)[1]).split(" ").length > 5, 10_000, "streaming");
    await user.append(stopEvent(toUIMessages(seen)[1]!.id));
    await until(() => turns.length === 1, 10_000, "turn over");
    const producedAtStop = tokens.length;
    expect(turns[0]!.aborted).toBe(true);
    const log = await logOf("ses_ai_stop");
    const chat = projectChat(log);
    expect(chat.status).toBe("ready");
    const partial = textOf(chat.messages[1]);
    expect(answerFor("stop me").startsWith(partial)).toBe(true);
    expect(partial.length).toBeLessThan(answerFor("stop me").length);
    expect((log.at(-1)!.payload.chunk as UIMessageChunk).type).toBe("abort");
    // The model's stream was cancelled: it stopped producing before the end of its answer.
    expect(cancelled).toBe(1);
    expect(producedAtStop).toBeLessThan(tokensOf(answerFor("stop me")).length);
    stopServing();
    await Promise.all([user.close(), agent.close()]);
  });

  test("serveChat after a restart answers what came in while it was down, and never re-answers", async () => {
    const user = await userSession("ses_ai_restart");
    await user.append(userMessageEvent({ id: "u1", role: "user", parts: [{ type: "text", text: "first" }] }));
    const model = mockModel({ chunkDelayInMs: 1 });
    const a1 = await agentSession("ses_ai_restart");
    const done1: unknown[] = [];
    const stop1 = serveChat(a1, (t) => respond(model, t), { onTurn: (r) => done1.push(r) });
    await until(() => done1.length === 1, 10_000, "first answer");
    stop1();
    await a1.close();
    await user.append(userMessageEvent({ id: "u2", role: "user", parts: [{ type: "text", text: "second" }] }));
    const a2 = await agentSession("ses_ai_restart", new Starcite({ baseUrl: s.url, apiKey }));
    const done2: unknown[] = [];
    const stop2 = serveChat(a2, (t) => respond(model, t), { onTurn: (r) => done2.push(r) });
    await until(() => done2.length === 1, 10_000, "second answer");
    const chat = projectChat(await logOf("ses_ai_restart"));
    expect(chat.messages.map((m) => [m.id, m.role])).toEqual([
      ["u1", "user"],
      ["u1-reply", "assistant"],
      ["u2", "user"],
      ["u2-reply", "assistant"],
    ]);
    expect(textOf(chat.messages[3])).toBe(answerFor("second"));
    stop2();
    await Promise.all([user.close(), a2.close()]);
  });
});

describe("createStarciteChatTransport", () => {
  async function read(stream: ReadableStream<UIMessageChunk>) {
    const chunks: UIMessageChunk[] = [];
    const [a, b] = stream.tee();
    let message: UIMessage | undefined;
    const reading = (async () => {
      for await (const m of readUIMessageStream({ stream: b })) message = m;
    })();
    for (const reader = a.getReader(); ;) {
      const next = await reader.read();
      if (next.done) break;
      chunks.push(next.value);
    }
    await reading;
    return { chunks, message };
  }

  test("sendMessages appends the user turn and streams its answer; reconnectToStream replays the open turn from its start", async () => {
    const agent = await agentSession("ses_ai_transport");
    const stopServing = serveChat(agent, (t) => respond(mockModel({ chunkDelayInMs: 15 }), t));
    const { token } = await admin.createSessionToken({ sessionId: "ses_ai_transport", principal: { type: "user", id: "alice" } });
    const browser = new Starcite({ baseUrl: s.url });
    const session: StarciteSession = browser.session({ token });
    expect(browser.session({ token })).toBe(session); // one session per token, however often a render asks
    const transport = createStarciteChatTransport({ session });
    expect(await transport.reconnectToStream({ chatId: session.id })).toBeNull();

    const question: UIMessage = { id: "u1", role: "user", parts: [{ type: "text", text: "via useChat" }] };
    const stream = await transport.sendMessages({
      trigger: "submit-message",
      chatId: session.id,
      messageId: undefined,
      messages: [question],
      abortSignal: undefined,
    });
    const reader = stream.getReader();
    const first = await reader.read();
    expect(first.value).toEqual({ type: "start", messageId: "u1-reply" });
    await reader.read();
    await reader.read(); // a few chunks in: "reload"
    reader.releaseLock();

    const resumed = await transport.reconnectToStream({ chatId: session.id });
    expect(resumed).not.toBeNull();
    const replayed = await read(resumed!);
    expect(replayed.chunks[0]).toEqual({ type: "start", messageId: "u1-reply" });
    expect(replayed.chunks.at(-1)).toEqual({ type: "finish", finishReason: "stop" });
    expect(textOf(replayed.message)).toBe(answerFor("via useChat"));
    expect(await transport.reconnectToStream({ chatId: session.id })).toBeNull();
    stopServing();
    await Promise.all([session.close(), agent.close()]);
    expect(browser.session({ token })).not.toBe(session);
  });

  test("useChat's stop (the abort signal) appends a stop the agent honours", async () => {
    const agent = await agentSession("ses_ai_tstop");
    const turns: { aborted: boolean }[] = [];
    const stopServing = serveChat(agent, (t) => respond(mockModel({ chunkDelayInMs: 20 }), t), { onTurn: (r) => turns.push(r) });
    const { token } = await admin.createSessionToken({ sessionId: "ses_ai_tstop", principal: { type: "user", id: "alice" } });
    const session = new Starcite({ baseUrl: s.url }).session({ token });
    const transport = createStarciteChatTransport({ session });
    const abort = new AbortController();
    const stream = await transport.sendMessages({
      trigger: "submit-message",
      chatId: session.id,
      messageId: undefined,
      messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "stop" }] }],
      abortSignal: abort.signal,
    });
    const reader = stream.getReader();
    for (let i = 0; i < 5; i++) await reader.read();
    abort.abort();
    // As fetch does: the stream fails with the AbortError, which useChat turns into status "ready".
    await expect(reader.read()).rejects.toMatchObject({ name: "AbortError" });
    await until(() => turns.length === 1, 10_000, "turn over");
    expect(turns[0]!.aborted).toBe(true);
    const log = await logOf("ses_ai_tstop");
    expect(log.some((e) => e.type === "chat.user.stop" && e.payload.messageId === "u1-reply")).toBe(true);
    stopServing();
    await Promise.all([session.close(), agent.close()]);
  });
});

describe("followSession", () => {
  test("a session resuming after a stored cursor still hands over the whole log, history first, then live", async () => {
    const { MemoryCursorStore, followSession } = await import("@starcite/sdk");
    const writer = await agentSession("ses_ai_follow");
    for (let k = 1; k <= 1205; k++) void writer.append({ type: "step", payload: { k } });
    await writer.flush();
    const store = new MemoryCursorStore();
    const reader = await admin.session({ identity: admin.user({ id: "alice" }), id: "ses_ai_follow", cursorStore: store });
    store.save("ses_ai_follow:user:alice", 1200); // as a reloaded page would have it
    const direct: number[] = [];
    reader.on("event", (e) => direct.push(e.seq));
    const seqs: number[] = [];
    let caughtUp = 0;
    const follower = followSession(reader, { onEvent: (e) => seqs.push(e.seq), onCaughtUp: () => caughtUp++ });
    await until(() => caughtUp > 0, 10_000, "caught up");
    expect(direct).toEqual([1201, 1202, 1203, 1204, 1205]);
    expect(seqs).toEqual(Array.from({ length: 1205 }, (_, i) => i + 1));
    await writer.append({ text: "live" });
    await until(() => seqs.length === 1206, 10_000, "live event");
    expect(follower.caughtUp).toBe(true);
    follower.stop();
    await Promise.all([writer.close(), reader.close()]);
  });
});
