import { convertToModelMessages, simulateReadableStream, streamText, type LanguageModel, type UIMessage } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import type { LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { serveChat, type ChatTurn } from "@starcite/sdk/ai";
import type { Starcite, StarciteSession } from "@starcite/sdk";

const PASSAGE =
  "Clause 4.2 sets out the supplier's duty to keep the service running. It names the hours, the response times and the credits " +
  "owed when a target is missed. A breach that lasts more than thirty days lets the customer end the agreement with notice, " +
  "and nothing in this clause limits the remedies that the law already gives either party.";

/** The mock model's answer to a question: deterministic, so a test knows the full text in advance. */
export function answerFor(question: string): string {
  return `You asked: "${question}". ${PASSAGE}`;
}

/** The answer cut into the deltas the mock model streams (one word and its trailing space each). */
export const tokensOf = (text: string): string[] => text.match(/\S+\s*/g) ?? [];

export interface MockModelOptions {
  /** Between two tokens (default 40 ms). */
  chunkDelayInMs?: number;
  /** Called for every token the model produces: a stopped turn stops calling it. */
  onToken?: (delta: string) => void;
  /** Called when the consumer cancels the stream before its end (a stopped turn). */
  onCancel?: () => void;
  /** Awaited before each token: lets a test hold the answer half-written for as long as it needs. */
  beforeToken?: () => Promise<void> | void;
}

/** The AI SDK's mock model streaming `answerFor(last user text)` token by token, with delays. */
export function mockModel({ chunkDelayInMs = 40, onToken, onCancel, beforeToken }: MockModelOptions = {}): LanguageModel {
  return new MockLanguageModelV4({
    doStream: async ({ prompt }) => {
      const lastUser = [...prompt].reverse().find((m) => m.role === "user");
      const question =
        lastUser && Array.isArray(lastUser.content) ? lastUser.content.map((p) => (p.type === "text" ? p.text : "")).join("") : "";
      const parts: LanguageModelV4StreamPart[] = [
        { type: "stream-start", warnings: [] },
        { type: "text-start", id: "t0" },
        ...tokensOf(answerFor(question)).map((delta): LanguageModelV4StreamPart => ({ type: "text-delta", id: "t0", delta })),
        { type: "text-end", id: "t0" },
        {
          type: "finish",
          finishReason: { unified: "stop", raw: "stop" },
          usage: { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } },
        },
      ];
      const source = simulateReadableStream({ chunks: parts, initialDelayInMs: 0, chunkDelayInMs }).getReader();
      let finished = false;
      const counted = new ReadableStream<LanguageModelV4StreamPart>({
        async pull(controller) {
          const next = await source.read();
          if (next.done) return controller.close();
          if (next.value.type === "finish") finished = true;
          if (next.value.type === "text-delta") {
            await beforeToken?.();
            onToken?.(next.value.delta);
          }
          controller.enqueue(next.value);
        },
        async cancel(reason) {
          if (!finished) onCancel?.();
          await source.cancel(reason);
        },
      });
      return { stream: counted };
    },
  });
}

/**
 * The model: the AI Gateway when AI_GATEWAY_API_KEY is set (model id from CHAT_MODEL, default
 * openai/gpt-4.1-mini), else the deterministic mock.
 */
export function chatModel(options: MockModelOptions = {}): LanguageModel {
  if (process.env.AI_GATEWAY_API_KEY) return process.env.CHAT_MODEL ?? "openai/gpt-4.1-mini";
  return mockModel(options);
}

/** One turn: the AI SDK's streamText, stopped by the user's stop event through `signal`. */
export async function respond(model: LanguageModel, { messages, signal }: ChatTurn) {
  const result = streamText({ model, messages: await convertToModelMessages(messages as UIMessage[]), abortSignal: signal });
  return result.toUIMessageStream();
}

/** One agent per session, attached on demand: it answers every user message of the session. */
export class ChatAgents {
  readonly #starcite: Starcite;
  readonly #model: LanguageModel;
  readonly #attached = new Map<string, Promise<{ session: StarciteSession; stop: () => void }>>();

  constructor(starcite: Starcite, model: LanguageModel) {
    this.#starcite = starcite;
    this.#model = model;
  }

  attach(sessionId: string): Promise<unknown> {
    let agent = this.#attached.get(sessionId);
    if (!agent) {
      agent = (async () => {
        const starcite = this.#starcite;
        const session = await starcite.session({ identity: starcite.agent({ id: "assistant" }), id: sessionId, create: false, cursor: 0 });
        const stop = serveChat(session, (turn) => respond(this.#model, turn), {
          onError: (error) => console.error(`agent on ${sessionId}: ${error.code}: ${error.message}`),
        });
        return { session, stop };
      })();
      this.#attached.set(sessionId, agent);
      agent.catch(() => this.#attached.delete(sessionId));
    }
    return agent;
  }

  async close(): Promise<void> {
    for (const agent of this.#attached.values()) {
      const { session, stop } = await agent.catch(() => ({ session: undefined, stop: () => {} }));
      stop();
      await session?.close();
    }
    this.#attached.clear();
  }
}
