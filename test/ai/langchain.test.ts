import { DynamicTool } from "@langchain/core/tools";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Starcite, type StarciteEvent } from "@starcite/sdk";
import { projectChat, stopEvent, watchStop } from "@starcite/sdk/ai";
import { StarciteCallbackHandler } from "@starcite/sdk/langchain";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { adminKey, until } from "../sdk/support.ts";

let s: TestServer;
let admin: Starcite;

beforeAll(async () => {
  s = await startTestServer({ auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET } });
  admin = new Starcite({ baseUrl: s.url, apiKey: await adminKey(s.db) });
});
afterAll(async () => {
  await s?.close();
});

const logOf = async (id: string): Promise<StarciteEvent[]> => (await admin.readEvents(id, { limit: 1000 })).events;

test("a LangChain run (a tool call, then a streamed answer) becomes the same chat the AI SDK helpers write", async () => {
  const session = await admin.session({ identity: admin.agent({ id: "lc" }), id: "ses_lc" });
  const turn = new StarciteCallbackHandler({ session, messageId: "a1" });
  const search = new DynamicTool({ name: "search", description: "finds cases", func: async (q: string) => `8 cases for ${q}` });
  await search.invoke({ id: "call_1", name: "search", args: { input: "clause 4.2" }, type: "tool_call" }, { callbacks: [turn] });
  const model = new FakeListChatModel({ responses: ["Found 8 relevant cases."], sleep: 1 });
  let streamed = "";
  for await (const chunk of await model.stream("summarise", { callbacks: [turn] })) streamed += String(chunk.content);
  const result = await turn.end();
  expect(result).toMatchObject({ aborted: false, deduped: 0 });

  const errors: unknown[] = [];
  const chat = projectChat(await logOf("ses_lc"), { onError: (e) => errors.push(e) });
  expect(errors).toEqual([]);
  expect(chat.status).toBe("ready");
  const [message] = chat.messages;
  expect(message!.id).toBe("a1");
  expect(message!.parts.map((p) => p.type)).toEqual(["tool-search", "step-start", "text"]);
  expect(message!.parts[0]).toMatchObject({
    toolCallId: "call_1",
    state: "output-available",
    input: { input: "clause 4.2" },
    output: "8 cases for clause 4.2",
  });
  expect(message!.parts[2]).toEqual({ type: "text", text: streamed, state: "done" });
  expect(streamed).toBe("Found 8 relevant cases.");
  await session.close();
});

test("a stop reaches the LangChain run through its signal; the turn ends with abort and keeps its partial text", async () => {
  const session = await admin.session({ identity: admin.agent({ id: "lc" }), id: "ses_lc_stop" });
  const user = await admin.session({ identity: admin.user({ id: "alice" }), id: "ses_lc_stop" });
  const stop = watchStop(session, { messageId: "a1", since: 0 });
  const turn = new StarciteCallbackHandler({ session, messageId: "a1", signal: stop.signal });
  const model = new FakeListChatModel({ responses: ["one two three four five six seven eight nine ten ".repeat(20)], sleep: 5 });
  let streamed = "";
  const run = (async () => {
    try {
      for await (const chunk of await model.stream("go", { callbacks: [turn], signal: stop.signal })) streamed += String(chunk.content);
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  await until(() => streamed.length > 20, 10_000, "streaming");
  await user.append(stopEvent("a1"));
  expect(await run).toMatchObject({ name: "AbortError" });
  const result = await turn.end();
  expect(result.aborted).toBe(true);
  const chat = projectChat(await logOf("ses_lc_stop"));
  expect(chat.status).toBe("ready");
  const text = (chat.messages[0]!.parts.find((p) => p.type === "text") as { text: string }).text;
  expect(text.length).toBeGreaterThan(20);
  expect(text.length).toBeLessThan(200);
  stop.dispose();
  await Promise.all([session.close(), user.close()]);
});
