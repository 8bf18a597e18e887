/**
 * @starcite/sdk/langchain: a LangChain.js callback handler that writes a LangChain or LangGraph run into
 * a session as the same `chat.assistant.chunk` events the AI SDK helpers write, so a LangChain agent
 * streams into the same React UI (`useStarciteChat`). Needs `@langchain/core` (an optional peer).
 *
 *   const turn = new StarciteCallbackHandler({ session, messageId });
 *   await agent.invoke(input, { callbacks: [turn], signal: stop.signal });
 *   await turn.end();
 */
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { UIMessageChunk } from "ai";
import type { StarciteSession } from "../session.ts";
import { ChunkWriter } from "../ai/stream.ts";

export interface StarciteCallbackHandlerOptions {
  session: StarciteSession;
  /** The assistant message the run writes. */
  messageId: string;
  /** When it has fired by `end()`, the turn ends with `abort` (the partial answer stays). */
  signal?: AbortSignal;
  /** As for appendUIMessageStream: default `<actor>/chat/<messageId>`, and 20 ms between requests. */
  producerId?: string;
  lingerMs?: number;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A tool's result as JSON the UI can show: a ToolMessage's content, else the value itself. */
function toolOutput(output: unknown): unknown {
  const content = (output as { content?: unknown } | null)?.content;
  const value = content !== undefined ? content : output;
  try {
    return JSON.parse(JSON.stringify(value ?? null)) as unknown;
  } catch {
    return String(value);
  }
}

function toolInput(input: string): unknown {
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}

/**
 * Each LLM call of the run is a step (`start-step` ... `finish-step`) whose tokens are one text part;
 * each tool call is a tool part (`tool-input-available`, then `tool-output-available` or
 * `tool-output-error`); an LLM error is an `error` chunk. `end()` closes the turn with `finish`, or
 * `abort` when the signal fired, and resolves once every chunk is in the log.
 */
export class StarciteCallbackHandler extends BaseCallbackHandler {
  name = "starcite";
  readonly #writer: ChunkWriter;
  readonly #signal: AbortSignal | undefined;
  readonly #openText = new Set<string>();
  readonly #toolCalls = new Map<string, string>();
  #ended = false;
  #failed: string | undefined;

  constructor(options: StarciteCallbackHandlerOptions) {
    super();
    // Chunks must reach the log in the order LangChain reports them.
    this.awaitHandlers = true;
    this.#signal = options.signal;
    this.#writer = new ChunkWriter(options.session, options.messageId, options);
    this.#write({ type: "start", messageId: options.messageId });
  }

  #write(chunk: UIMessageChunk): void {
    if (!this.#ended) this.#writer.write(chunk);
  }

  override handleChatModelStart(): void {
    this.#write({ type: "start-step" });
  }

  override handleLLMStart(): void {
    this.#write({ type: "start-step" });
  }

  override handleLLMNewToken(token: string, _idx: unknown, runId: string): void {
    if (token === "") return;
    if (!this.#openText.has(runId)) {
      this.#openText.add(runId);
      this.#write({ type: "text-start", id: runId });
    }
    this.#write({ type: "text-delta", id: runId, delta: token });
  }

  #closeText(runId: string): void {
    if (this.#openText.delete(runId)) this.#write({ type: "text-end", id: runId });
  }

  override handleLLMEnd(_output: unknown, runId: string): void {
    this.#closeText(runId);
    this.#write({ type: "finish-step" });
  }

  override handleLLMError(error: unknown, runId: string): void {
    this.#closeText(runId);
    this.#failed = errorText(error);
    this.#write({ type: "error", errorText: this.#failed });
    this.#write({ type: "finish-step" });
  }

  override handleToolStart(
    tool: { id?: string[]; name?: string },
    input: string,
    runId: string,
    _parent?: string,
    _tags?: string[],
    _metadata?: Record<string, unknown>,
    runName?: string,
    toolCallId?: string,
  ): void {
    const id = toolCallId ?? runId;
    this.#toolCalls.set(runId, id);
    const toolName = runName ?? tool.name ?? tool.id?.at(-1) ?? "tool";
    this.#write({ type: "tool-input-available", toolCallId: id, toolName, input: toolInput(input) });
  }

  override handleToolEnd(output: unknown, runId: string): void {
    const id = this.#toolCalls.get(runId);
    if (id !== undefined) this.#write({ type: "tool-output-available", toolCallId: id, output: toolOutput(output) });
  }

  override handleToolError(error: unknown, runId: string): void {
    const id = this.#toolCalls.get(runId);
    if (id !== undefined) this.#write({ type: "tool-output-error", toolCallId: id, errorText: errorText(error) });
  }

  /**
   * Ends the turn: `abort` if the signal fired (or `aborted` is passed), else `finish`; an `error` chunk
   * first when `error` is given (the run threw). Resolves with what was written.
   */
  async end({ error, aborted }: { error?: unknown; aborted?: boolean } = {}): Promise<{
    chunks: number;
    deduped: number;
    aborted: boolean;
  }> {
    if (this.#ended) throw new Error("end() was called already");
    for (const runId of [...this.#openText]) this.#closeText(runId);
    const stop = aborted === true || this.#signal?.aborted === true;
    if (!stop && error !== undefined && this.#failed === undefined) this.#write({ type: "error", errorText: errorText(error) });
    this.#write(stop ? { type: "abort" } : { type: "finish" });
    this.#ended = true;
    return { ...(await this.#writer.settle()), aborted: stop };
  }
}
