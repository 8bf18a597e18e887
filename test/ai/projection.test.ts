import { readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { describe, expect, test } from "vitest";
import type { StarciteEvent } from "@starcite/sdk";
import {
  assistantChunkEvent,
  ChatProjection,
  parsePartialJson,
  projectChat,
  stopEvent,
  toUIMessages,
  userMessageEvent,
} from "@starcite/sdk/ai";
import type { StarciteError } from "@starcite/sdk";

/** A log as the server would deliver it: seq 1, 2, 3, ... */
function log(...inputs: { type?: string; payload?: unknown }[]): StarciteEvent[] {
  return inputs.map((input, i) => ({
    sessionId: "ses_chat",
    seq: i + 1,
    type: input.type ?? "content",
    payload: input.payload as StarciteEvent["payload"],
    actor: null,
    source: null,
    metadata: null,
    refs: null,
    idempotencyKey: null,
    producerId: null,
    producerSeq: null,
    insertedAt: "2026-01-01T00:00:00.000000Z",
  }));
}

const user = (id: string, text: string) => userMessageEvent({ id, role: "user", parts: [{ type: "text", text }] });
const chunk = (c: UIMessageChunk, messageId?: string) => assistantChunkEvent(c, messageId);
const chunks = (list: UIMessageChunk[], messageId?: string) => list.map((c) => chunk(c, messageId));
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** What the AI SDK itself makes of the same chunks. */
async function aiSdk(list: UIMessageChunk[]): Promise<UIMessage> {
  const stream = new ReadableStream<UIMessageChunk>({
    start(c) {
      for (const x of list) c.enqueue(x);
      c.close();
    },
  });
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream })) last = message;
  return json(last!);
}

function collect() {
  const errors: StarciteError[] = [];
  return { errors, onError: (e: StarciteError) => errors.push(e) };
}

const TEXT: UIMessageChunk[] = [
  { type: "start", messageId: "a1" },
  { type: "start-step" },
  { type: "text-start", id: "t1" },
  { type: "text-delta", id: "t1", delta: "Clause 4.2 " },
  { type: "text-delta", id: "t1", delta: "is drafted." },
  { type: "text-end", id: "t1" },
  { type: "finish-step" },
  { type: "finish", finishReason: "stop" },
];

describe("toUIMessages", () => {
  test("a text turn: the user message, then the assistant message exactly as the AI SDK builds it", async () => {
    const { errors, onError } = collect();
    const events = log(user("u1", "Draft clause 4.2"), ...chunks(TEXT));
    const messages = toUIMessages(events, { onError });
    expect(errors).toEqual([]);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toEqual({ id: "u1", role: "user", parts: [{ type: "text", text: "Draft clause 4.2" }] });
    expect(json(messages[1])).toEqual({ ...(await aiSdk(TEXT)), role: "assistant" });
    expect(messages[1]!.parts).toEqual([{ type: "step-start" }, { type: "text", text: "Clause 4.2 is drafted.", state: "done" }]);
    expect(projectChat(events).status).toBe("ready");
  });

  test("reasoning, static and dynamic tools, sources, files, data parts and metadata match the AI SDK", async () => {
    const list: UIMessageChunk[] = [
      { type: "start", messageId: "a1", messageMetadata: { model: "mock", usage: { in: 3 } } },
      { type: "start-step" },
      { type: "reasoning-start", id: "r1" },
      { type: "reasoning-delta", id: "r1", delta: "The user wants " },
      { type: "reasoning-delta", id: "r1", delta: "a clause." },
      { type: "reasoning-end", id: "r1" },
      { type: "tool-input-start", toolCallId: "c1", toolName: "search" },
      { type: "tool-input-delta", toolCallId: "c1", inputTextDelta: '{"q": "clau' },
      { type: "tool-input-delta", toolCallId: "c1", inputTextDelta: 'se 4.2"}' },
      { type: "tool-input-available", toolCallId: "c1", toolName: "search", input: { q: "clause 4.2" } },
      { type: "tool-output-available", toolCallId: "c1", output: { hits: 8 } },
      { type: "tool-input-available", toolCallId: "c2", toolName: "lookup", input: { id: 7 }, dynamic: true },
      { type: "tool-output-error", toolCallId: "c2", errorText: "not found" },
      { type: "tool-input-error", toolCallId: "c3", toolName: "search", input: "{bad", errorText: "invalid input" },
      { type: "finish-step" },
      { type: "start-step" },
      { type: "source-url", sourceId: "s1", url: "https://example.com/4.2", title: "Clause 4.2" },
      { type: "source-document", sourceId: "s2", mediaType: "application/pdf", title: "Contract", filename: "c.pdf" },
      { type: "file", url: "data:text/plain;base64,aGk=", mediaType: "text/plain" },
      { type: "data-progress", id: "p", data: { pct: 10 } },
      { type: "data-progress", id: "p", data: { pct: 100 } },
      { type: "data-note", data: "kept" },
      { type: "data-ping", data: 1, transient: true },
      { type: "message-metadata", messageMetadata: { usage: { out: 9 } } },
      { type: "text-start", id: "t1" },
      { type: "text-delta", id: "t1", delta: "Found 8 cases." },
      { type: "text-end", id: "t1" },
      { type: "finish-step" },
      { type: "finish", messageMetadata: { done: true } },
    ];
    const { errors, onError } = collect();
    const [message] = toUIMessages(log(...chunks(list)), { onError });
    expect(errors).toEqual([]);
    expect(json(message)).toEqual({ ...(await aiSdk(list)), role: "assistant" });
    expect(message!.metadata).toEqual({ model: "mock", usage: { in: 3, out: 9 }, done: true });
    expect(message!.parts.map((p) => p.type)).toEqual([
      "step-start",
      "reasoning",
      "tool-search",
      "dynamic-tool",
      "tool-search",
      "step-start",
      "source-url",
      "source-document",
      "file",
      "data-progress",
      "data-note",
      "text",
    ]);
  });

  test("each prefix of a stream matches the AI SDK's message at that point (a reload can stop anywhere)", async () => {
    const list: UIMessageChunk[] = [
      ...TEXT.slice(0, 2),
      { type: "tool-input-start", toolCallId: "c1", toolName: "search" },
      { type: "tool-input-delta", toolCallId: "c1", inputTextDelta: '{"q": "a", "n": [1, 2' },
      { type: "tool-input-delta", toolCallId: "c1", inputTextDelta: "]}" },
      { type: "tool-input-available", toolCallId: "c1", toolName: "search", input: { q: "a", n: [1, 2] } },
      ...TEXT.slice(2),
    ];
    for (let n = 1; n <= list.length; n++) {
      // The AI SDK publishes no snapshot for a start-step alone (the next chunk shows it).
      if (list[n - 1]!.type === "start-step") continue;
      const [message] = toUIMessages(log(...chunks(list.slice(0, n))));
      expect(json(message), `after ${n} chunks`).toEqual({ ...(await aiSdk(list.slice(0, n))), role: "assistant" });
    }
  });

  test("abort: the partial answer stays, the turn is over", async () => {
    const list: UIMessageChunk[] = [...TEXT.slice(0, 4), { type: "abort" }];
    const chat = projectChat(log(user("u1", "hi"), ...chunks(list)));
    expect(json(chat.messages[1])).toEqual({ ...(await aiSdk(list)), role: "assistant" });
    expect(chat.messages[1]!.parts[1]).toEqual({ type: "text", text: "Clause 4.2 ", state: "streaming" });
    expect(chat.status).toBe("ready");
    expect(chat.activeTurn).toBeUndefined();
  });

  test("an error chunk: status error with its text until the next user message", () => {
    const events = log(
      user("u1", "hi"),
      ...chunks([...TEXT.slice(0, 4), { type: "error", errorText: "model overloaded" }, { type: "finish" }]),
    );
    const chat = projectChat(events);
    expect(chat.status).toBe("error");
    expect(chat.errorText).toBe("model overloaded");
    expect(chat.messages[1]!.parts[1]).toMatchObject({ text: "Clause 4.2 " });
    const again = projectChat(log(...events.map((e) => ({ type: e.type, payload: e.payload })), user("u2", "retry")));
    expect(again.status).toBe("submitted");
    expect(again.errorText).toBeUndefined();
    // An agent that fails before its turn starts answers the user message with the error alone.
    expect(projectChat(log(user("u1", "hi"), chunk({ type: "error", errorText: "no model" }))).status).toBe("error");
  });

  test("interleaved turns: chunks go to the message their envelope names, messages in order of first appearance", () => {
    const a = (c: UIMessageChunk) => chunk(c, "a1");
    const b = (c: UIMessageChunk) => chunk(c, "b1");
    const events = log(
      user("u1", "two agents, please"),
      a({ type: "start" }),
      a({ type: "text-start", id: "t" }),
      b({ type: "start" }),
      b({ type: "text-start", id: "t" }),
      a({ type: "text-delta", id: "t", delta: "drafter: 4.2" }),
      b({ type: "text-delta", id: "t", delta: "reviewer: ok" }),
      user("u2", "and 4.3?"),
      a({ type: "text-delta", id: "t", delta: " done" }),
      a({ type: "text-end", id: "t" }),
      a({ type: "finish" }),
      b({ type: "text-end", id: "t" }),
    );
    const chat = projectChat(events);
    expect(chat.messages.map((m) => [m.id, m.role, m.parts.map((p) => ("text" in p ? p.text : p.type)).join("|")])).toEqual([
      ["u1", "user", "two agents, please"],
      ["a1", "assistant", "drafter: 4.2 done"],
      ["b1", "assistant", "reviewer: ok"],
      ["u2", "user", "and 4.3?"],
    ]);
    expect(chat.status).toBe("streaming"); // b1 is still open
    expect(chat.activeTurn).toEqual({ messageId: "b1", startSeq: 4, stopped: false });
  });

  test("status: submitted, streaming, ready; a stop ends the wait even if no agent answers", () => {
    const p = new ChatProjection();
    const seen: string[] = [];
    for (const event of log(user("u1", "hi"), ...chunks(TEXT.slice(0, 4)), ...chunks(TEXT.slice(4)), user("u2", "more"), stopEvent())) {
      p.apply(event);
      seen.push(p.status);
    }
    expect(seen).toEqual([
      "submitted",
      "streaming",
      "streaming",
      "streaming",
      "streaming",
      "streaming",
      "streaming",
      "streaming",
      "ready",
      "submitted",
      "ready",
    ]);
  });

  test("a stop naming the open turn makes it ready at once; chunks the agent wrote before it saw the stop still count", () => {
    const events = log(user("u1", "hi"), ...chunks(TEXT.slice(0, 4)), stopEvent("a1"), chunk(TEXT[4]!), chunk({ type: "abort" }));
    const p = new ChatProjection();
    const statuses = events.map((e) => (p.apply(e), p.status));
    expect(statuses.slice(5)).toEqual(["ready", "ready", "ready"]);
    expect(p.messages[1]!.parts[1]).toMatchObject({ text: "Clause 4.2 is drafted." });
    // A stop naming another message changes nothing.
    expect(projectChat(log(user("u1", "hi"), ...chunks(TEXT.slice(0, 4)), stopEvent("zzz"))).status).toBe("streaming");
  });

  test("the same events give the same messages; applying them one by one equals applying them at once", () => {
    const events = log(
      user("u1", "hi"),
      ...chunks(TEXT),
      user("u2", "again"),
      ...chunks(TEXT.map((c) => (c.type === "start" ? { ...c, messageId: "a2" } : c))),
    );
    const once = toUIMessages(events);
    expect(toUIMessages(events)).toEqual(once);
    const p = new ChatProjection();
    let snapshot: UIMessage[] = [];
    for (const event of events) {
      p.apply(event);
      snapshot = p.messages;
    }
    expect(snapshot).toEqual(once);
  });

  test("snapshots are immutable: unchanged messages and parts keep their identity, changed ones are new objects", () => {
    const p = new ChatProjection();
    const events = log(user("u1", "hi"), ...chunks(TEXT));
    for (const event of events.slice(0, 4)) p.apply(event);
    const before = p.messages;
    expect(p.messages).toBe(before);
    p.apply(events[4]!); // a text delta
    const after = p.messages;
    expect(after).not.toBe(before);
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(after[1]!.parts[0]).toBe(before[1]!.parts[0]); // the step-start part
    expect(before[1]!.parts[1]).toMatchObject({ text: "" });
    expect(after[1]!.parts[1]).toMatchObject({ text: "Clause 4.2 " });
  });
});

describe("inputs the log cannot produce are reported and skipped, never rendered and never thrown", () => {
  const cases: [string, { type?: string; payload?: unknown }[], RegExp][] = [
    [
      "a text-delta without its text-start (the AI SDK's 'missing text-start')",
      [chunk({ type: "start" }), chunk({ type: "text-delta", id: "t", delta: "orphan" })],
      /text-delta for part "t", which was not started/,
    ],
    ["a chunk outside any turn", [chunk({ type: "text-start", id: "t" })], /no turn is open/],
    [
      "a chunk after its turn finished",
      [chunk({ type: "start", messageId: "a" }), chunk({ type: "finish" }), chunk({ type: "text-start", id: "t" }, "a")],
      /turn "a" has ended/,
    ],
    ["a chunk for a turn never started", [chunk({ type: "text-start", id: "t" }, "nope")], /no turn "nope" was started/],
    [
      "an unknown chunk type",
      [chunk({ type: "start" }), chunk({ type: "text-sparkle", id: "t" } as unknown as UIMessageChunk)],
      /unknown chunk type "text-sparkle"/,
    ],
    [
      "a chunk missing a field",
      [chunk({ type: "start" }), chunk({ type: "text-delta", id: "t" } as unknown as UIMessageChunk)],
      /text-delta needs a string delta/,
    ],
    [
      "a payload whose kind is not its type",
      [{ type: "chat.assistant.chunk", payload: { kind: "chat.user.message", chunk: { type: "start" } } }],
      /kind is not "chat.assistant.chunk"/,
    ],
    [
      "a chunk that is not an object",
      [{ type: "chat.assistant.chunk", payload: { kind: "chat.assistant.chunk", chunk: "start" } }],
      /not an object with a string type/,
    ],
    [
      "a user message with the assistant role",
      [{ type: "chat.user.message", payload: { kind: "chat.user.message", message: { id: "x", role: "assistant", parts: [] } } }],
      /role is "assistant"/,
    ],
    [
      "a user message without parts",
      [{ type: "chat.user.message", payload: { kind: "chat.user.message", message: { id: "x", role: "user" } } }],
      /parts are not an array/,
    ],
    ["the same user message twice", [user("u1", "a"), user("u1", "a")], /"u1" exists already/],
    [
      "a start for a turn that is open",
      [chunk({ type: "start", messageId: "a" }), chunk({ type: "start", messageId: "a" })],
      /turn "a" is open already/,
    ],
    ["a start continuing a user message", [user("u1", "a"), chunk({ type: "start", messageId: "u1" })], /not an assistant message/],
    [
      "a tool output for an unknown call",
      [chunk({ type: "start" }), chunk({ type: "tool-output-available", toolCallId: "c9", output: 1 })],
      /tool call "c9", which has no input/,
    ],
    [
      "a stop with a non-string message id",
      [{ type: "chat.user.stop", payload: { kind: "chat.user.stop", messageId: 4 } }],
      /messageId must be a string/,
    ],
  ];
  test.each(cases)("%s", (_name, inputs, reason) => {
    const { errors, onError } = collect();
    const events = log(...inputs);
    const messages = toUIMessages(events, { onError });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe("invalid_chat_event");
    expect(errors[0]!.message).toMatch(reason);
    expect(errors[0]!.detail.seq).toBe(events.at(-1)!.seq);
    // Nothing of the bad event shows: the messages are those of the log without it.
    expect(messages).toEqual(toUIMessages(events.slice(0, -1)));
  });

  test("a delta after the bad one still lands; other event types are ignored without a report", () => {
    const { errors, onError } = collect();
    const messages = toUIMessages(
      log(
        { type: "content", payload: { text: "not chat" } },
        chunk({ type: "start", messageId: "a" }),
        chunk({ type: "text-delta", id: "t", delta: "lost" }),
        chunk({ type: "text-start", id: "t" }),
        chunk({ type: "text-delta", id: "t", delta: "kept" }),
      ),
      { onError },
    );
    expect(errors).toHaveLength(1);
    expect(messages).toEqual([{ id: "a", role: "assistant", parts: [{ type: "text", text: "kept", state: "streaming" }] }]);
  });
});

test("parsePartialJson completes what a streaming tool input has so far", () => {
  expect(parsePartialJson('{"q": "clau')).toEqual({ q: "clau" });
  expect(parsePartialJson('{"q": "a", "n": [1, 2')).toEqual({ q: "a", n: [1, 2] });
  expect(parsePartialJson('{"q": "a", "n')).toEqual({ q: "a" });
  expect(parsePartialJson('{"q": "a\\')).toEqual({ q: "a" });
  expect(parsePartialJson("")).toBeUndefined();
  expect(parsePartialJson('{"done": true}')).toEqual({ done: true });
});
