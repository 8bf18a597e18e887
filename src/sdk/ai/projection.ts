import type { ChatStatus, UIMessage, UIMessageChunk } from "ai";
import { StarciteError } from "../errors.ts";
import type { StarciteEvent } from "../protocol.ts";
import { CHAT_ASSISTANT_CHUNK, CHAT_USER_MESSAGE, CHAT_USER_STOP } from "./envelopes.ts";
import { parsePartialJson } from "./partial-json.ts";

/**
 * The chat a session's log describes: its UIMessages, its status and the turn in progress, computed from
 * the events alone. The same events give the same chat in every tab, on every device and on the backend.
 * Chunks are applied the way the AI SDK's `readUIMessageStream` applies them (the tests compare the two);
 * an event that does not fit (a malformed envelope, a delta without its start, a chunk outside any turn)
 * is reported and skipped, never guessed at.
 */

type Part = { type: string; [key: string]: unknown };
type Obj = Record<string, unknown>;

interface Entry {
  id: string;
  role: UIMessage["role"];
  metadata: unknown;
  parts: Part[];
  /** The seq that created the message. */
  seq: number;
  snapshot: UIMessage | undefined;
}

interface PartialToolCall {
  text: string;
  toolName: string;
  inputEncoding: unknown;
  dynamic: boolean;
  title: unknown;
  toolMetadata: unknown;
}

interface Turn {
  entry: Entry;
  /** Seq of the `start` chunk that (re)opened it. */
  startSeq: number;
  /** Still taking chunks: no `finish` or `abort` yet. */
  open: boolean;
  stopped: boolean;
  errorText: string | undefined;
  activeText: Map<string, Part>;
  activeReasoning: Map<string, Part>;
  partialTools: Map<string, PartialToolCall>;
}

/** Where a turn is: what `reconnectToStream` replays and what a stop request names. */
export interface ActiveTurn {
  messageId: string;
  /** Seq of the turn's `start` chunk: a replay starts here, never in the middle of a part. */
  startSeq: number;
  stopped: boolean;
}

export interface ChatProjectionOptions {
  /** Events that do not fit the chat envelopes, each once (code `invalid_chat_event`, `detail.seq`). */
  onError?: (error: StarciteError) => void;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";

/** Fields each chunk type must carry as strings (the rest of its shape is optional or free-form). */
const REQUIRED: Record<string, readonly string[]> = {
  "text-start": ["id"],
  "text-delta": ["id", "delta"],
  "text-end": ["id"],
  "reasoning-start": ["id"],
  "reasoning-delta": ["id", "delta"],
  "reasoning-end": ["id"],
  "tool-input-start": ["toolCallId", "toolName"],
  "tool-input-delta": ["toolCallId", "inputTextDelta"],
  "tool-input-available": ["toolCallId", "toolName"],
  "tool-input-error": ["toolCallId", "toolName", "errorText"],
  "tool-output-available": ["toolCallId"],
  "tool-output-error": ["toolCallId", "errorText"],
  "tool-output-denied": ["toolCallId"],
  "tool-approval-request": ["approvalId", "toolCallId"],
  "tool-approval-response": ["approvalId"],
  "source-url": ["sourceId", "url"],
  "source-document": ["sourceId", "mediaType", "title"],
  file: ["url", "mediaType"],
  "reasoning-file": ["url", "mediaType"],
  custom: ["kind"],
  "steering-message": ["id"],
  "start-step": [],
  "finish-step": [],
  "reset-step": [],
  start: [],
  finish: [],
  abort: [],
  "message-metadata": [],
  error: ["errorText"],
};

function chunkProblem(chunk: unknown): string | undefined {
  if (!isObj(chunk) || !isStr(chunk.type)) return "the chunk is not an object with a string type";
  const type = chunk.type;
  if (type.startsWith("data-") && type.length > 5) {
    if (!("data" in chunk)) return `${type} has no data`;
    if (chunk.id !== undefined && !isStr(chunk.id)) return `${type} has a non-string id`;
    return undefined;
  }
  const required = REQUIRED[type];
  if (!required) return `unknown chunk type "${type}"`;
  for (const field of required) if (!isStr(chunk[field])) return `${type} needs a string ${field}`;
  if (type === "start" && chunk.messageId !== undefined && !isStr(chunk.messageId)) return "start has a non-string messageId";
  if (type === "steering-message" && !Array.isArray(chunk.parts)) return "steering-message needs parts";
  if (type === "tool-approval-response" && typeof chunk.approved !== "boolean") return "tool-approval-response needs a boolean approved";
  return undefined;
}

function userMessageProblem(message: unknown): string | undefined {
  if (!isObj(message)) return "no message object";
  if (!isStr(message.id) || message.id === "") return "the message has no id";
  if (message.role !== "user") return `the message's role is ${JSON.stringify(message.role)}, not "user"`;
  if (!Array.isArray(message.parts) || !message.parts.every((p) => isObj(p) && isStr(p.type)))
    return "the message's parts are not an array of typed parts";
  return undefined;
}

/** Deep merge of message metadata, as the AI SDK does: objects merge, everything else is replaced. */
function mergeMetadata(base: unknown, update: unknown): unknown {
  if (!isObj(base) || !isObj(update)) return update;
  const out: Obj = { ...base };
  for (const [key, value] of Object.entries(update)) out[key] = key in base ? mergeMetadata(base[key], value) : value;
  return out;
}

const TOOL_OUTPUT_STATES = new Set(["output-available", "output-error"]);
const isToolPart = (p: Part): boolean => p.type === "dynamic-tool" || p.type.startsWith("tool-");

function set(target: Obj, key: string, value: unknown): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

export class ChatProjection {
  readonly #onError: ((error: StarciteError) => void) | undefined;
  readonly #entries: Entry[] = [];
  readonly #byId = new Map<string, Entry>();
  readonly #turns = new Map<string, Turn>();
  /** Open turns in start order; chunks without a message id go to the last one. */
  readonly #open: Turn[] = [];
  /** Snapshots of parts not touched since they were taken. */
  #partSnapshots = new WeakMap<Part, Part>();
  #lastSeq = 0;
  /** Seq of the last user message that no turn or stop has answered yet. */
  #awaiting: number | undefined;
  #awaitingId: string | undefined;
  /** Seq of the last user message or `start` chunk: an error older than it is history. */
  #lastActivity = 0;
  #lastError: { seq: number; text: string } | undefined;
  #messages: UIMessage[] | undefined;
  #version = 0;

  constructor(options: ChatProjectionOptions = {}) {
    this.#onError = options.onError;
  }

  /** Bumped by every event that changed the chat. */
  get version(): number {
    return this.#version;
  }

  /** Seq of the last event applied. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * `submitted` while a user message waits for its answer, `streaming` while a turn is open (not
   * stopped, not failed), `error` when the latest turn ended with an `error` chunk, else `ready`.
   */
  get status(): ChatStatus {
    if (this.#open.some((t) => !t.stopped && t.errorText === undefined)) return "streaming";
    if (this.#awaiting !== undefined) return "submitted";
    if (this.#lastError && this.#lastError.seq > this.#lastActivity) return "error";
    return "ready";
  }

  /** The `errorText` behind status `error`. */
  get errorText(): string | undefined {
    return this.status === "error" ? this.#lastError?.text : undefined;
  }

  /** The user message no turn has answered yet (nor a stop cancelled). */
  get awaiting(): { seq: number; messageId: string } | undefined {
    if (this.#awaiting === undefined) return undefined;
    const entry = this.#byId.get(this.#awaitingId!);
    return entry ? { seq: this.#awaiting, messageId: entry.id } : undefined;
  }

  /** The turn a stop or a reconnect is about: the latest open one. */
  get activeTurn(): ActiveTurn | undefined {
    const turn = this.#open.at(-1);
    return turn ? { messageId: turn.entry.id, startSeq: turn.startSeq, stopped: turn.stopped } : undefined;
  }

  /** The messages, in the order the log introduced them. Unchanged messages keep their identity between calls. */
  get messages(): UIMessage[] {
    this.#messages ??= this.#entries.map((entry) => (entry.snapshot ??= this.#snapshot(entry)));
    return this.#messages;
  }

  /** Applies one event (events must come in seq order; one seen already is ignored). Returns whether the chat changed. */
  apply(event: StarciteEvent): boolean {
    if (event.seq <= this.#lastSeq) return false;
    this.#lastSeq = event.seq;
    if (event.type !== CHAT_USER_MESSAGE && event.type !== CHAT_ASSISTANT_CHUNK && event.type !== CHAT_USER_STOP) return false;
    const payload = event.payload;
    if (!isObj(payload) || payload.kind !== event.type) return this.#reject(event, `the payload's kind is not "${event.type}"`);
    if (event.type === CHAT_USER_MESSAGE) return this.#userMessage(event, payload.message);
    if (event.type === CHAT_USER_STOP) {
      if (payload.messageId !== undefined && !isStr(payload.messageId)) return this.#reject(event, "messageId must be a string");
      return this.#stop(payload.messageId);
    }
    if (payload.messageId !== undefined && !isStr(payload.messageId)) return this.#reject(event, "messageId must be a string");
    const problem = chunkProblem(payload.chunk);
    if (problem) return this.#reject(event, problem);
    return this.#chunk(event, payload.chunk as UIMessageChunk & Obj, payload.messageId);
  }

  #changed(entry?: Entry, part?: Part): true {
    if (entry) entry.snapshot = undefined;
    if (part) this.#partSnapshots.delete(part);
    this.#messages = undefined;
    this.#version++;
    return true;
  }

  #reject(event: StarciteEvent, reason: string): false {
    this.#onError?.(
      new StarciteError("invalid_chat_event", `event ${event.seq} (${event.type}): ${reason}`, {
        seq: event.seq,
        type: event.type,
        reason,
      }),
    );
    return false;
  }

  #snapshot(entry: Entry): UIMessage {
    const parts = entry.parts.map((part) => {
      let copy = this.#partSnapshots.get(part);
      if (!copy) {
        copy = { ...part };
        this.#partSnapshots.set(part, copy);
      }
      return copy;
    });
    return { id: entry.id, role: entry.role, ...(entry.metadata !== undefined ? { metadata: entry.metadata } : {}), parts } as UIMessage;
  }

  #userMessage(event: StarciteEvent, message: unknown): boolean {
    const problem = userMessageProblem(message);
    if (problem) return this.#reject(event, problem);
    const m = message as Obj & { id: string; parts: Part[] };
    if (this.#byId.has(m.id)) return this.#reject(event, `a message with id "${m.id}" exists already`);
    const entry: Entry = {
      id: m.id,
      role: "user",
      metadata: m.metadata,
      parts: m.parts.map((p) => ({ ...p })),
      seq: event.seq,
      snapshot: undefined,
    };
    this.#entries.push(entry);
    this.#byId.set(entry.id, entry);
    this.#awaiting = event.seq;
    this.#awaitingId = entry.id;
    this.#lastActivity = event.seq;
    return this.#changed();
  }

  #stop(messageId: string | undefined): boolean {
    let changed = false;
    if (messageId === undefined && this.#awaiting !== undefined) {
      this.#awaiting = undefined;
      changed = true;
    }
    for (const turn of this.#open) {
      if (turn.stopped || (messageId !== undefined && turn.entry.id !== messageId)) continue;
      turn.stopped = true;
      changed = true;
    }
    return changed ? this.#changed() : false;
  }

  #close(turn: Turn): void {
    turn.open = false;
    const i = this.#open.indexOf(turn);
    if (i >= 0) this.#open.splice(i, 1);
  }

  #chunk(event: StarciteEvent, chunk: UIMessageChunk & Obj, envelopeId: string | undefined): boolean {
    if (chunk.type === "start") return this.#start(event, chunk, envelopeId);
    const turn = envelopeId !== undefined ? this.#turns.get(envelopeId) : this.#open.at(-1);
    if (!turn || !turn.open) {
      // An agent may fail or be stopped before its turn starts: that answers the waiting message too.
      if (chunk.type === "error" || chunk.type === "abort") {
        this.#awaiting = undefined;
        if (chunk.type === "error") this.#lastError = { seq: event.seq, text: chunk.errorText as string };
        return this.#changed();
      }
      const where =
        envelopeId === undefined ? "no turn is open" : turn ? `turn "${envelopeId}" has ended` : `no turn "${envelopeId}" was started`;
      return this.#reject(event, `a ${chunk.type} chunk, but ${where}`);
    }
    const problem = this.#applyChunk(turn, chunk, event.seq);
    if (problem) return this.#reject(event, problem);
    return true;
  }

  #start(event: StarciteEvent, chunk: Obj, envelopeId: string | undefined): boolean {
    const chunkId = chunk.messageId as string | undefined;
    if (chunkId !== undefined && envelopeId !== undefined && chunkId !== envelopeId) {
      return this.#reject(event, `start names message "${chunkId}" but the envelope "${envelopeId}"`);
    }
    const id = chunkId ?? envelopeId ?? `msg-${event.seq}`;
    let entry = this.#byId.get(id);
    if (entry && entry.role !== "assistant")
      return this.#reject(event, `start continues message "${id}", which is not an assistant message`);
    let turn = this.#turns.get(id);
    if (turn?.open) return this.#reject(event, `turn "${id}" is open already`);
    if (!entry) {
      entry = { id, role: "assistant", metadata: undefined, parts: [], seq: event.seq, snapshot: undefined };
      this.#entries.push(entry);
      this.#byId.set(id, entry);
    }
    // A start naming an existing assistant message continues it (the AI SDK's continuation), parts kept.
    turn = {
      entry,
      startSeq: event.seq,
      open: true,
      stopped: false,
      errorText: undefined,
      activeText: new Map(),
      activeReasoning: new Map(),
      partialTools: new Map(),
    };
    this.#turns.set(id, turn);
    this.#open.push(turn);
    this.#awaiting = undefined;
    this.#lastActivity = event.seq;
    if (chunk.messageMetadata !== undefined) entry.metadata = mergeMetadata(entry.metadata, chunk.messageMetadata);
    return this.#changed(entry);
  }

  /** One chunk into its turn's message, as the AI SDK's stream processor does; a string says why it does not fit. */
  #applyChunk(turn: Turn, c: Obj, seq: number): string | undefined {
    const entry = turn.entry;
    const parts = entry.parts;
    const type = c.type as string;
    const push = (part: Part) => {
      parts.push(part);
      this.#changed(entry);
    };
    const touch = (part: Part) => this.#changed(entry, part);

    switch (type) {
      case "text-start":
      case "reasoning-start": {
        const reasoning = type === "reasoning-start";
        const part: Part = reasoning
          ? { type: "reasoning", id: c.id, text: "", state: "streaming" }
          : { type: "text", text: "", state: "streaming" };
        set(part, "providerMetadata", c.providerMetadata);
        (reasoning ? turn.activeReasoning : turn.activeText).set(c.id as string, part);
        push(part);
        return;
      }
      case "text-delta":
      case "reasoning-delta":
      case "text-end":
      case "reasoning-end": {
        const reasoning = type.startsWith("reasoning");
        const active = reasoning ? turn.activeReasoning : turn.activeText;
        const part = active.get(c.id as string);
        if (!part) return `${type} for part "${c.id as string}", which was not started (or has ended)`;
        if (type.endsWith("-delta")) part.text = (part.text as string) + (c.delta as string);
        else {
          part.state = "done";
          if (c.citations !== undefined) part.citations = c.citations;
          active.delete(c.id as string);
        }
        if (c.providerMetadata !== undefined) part.providerMetadata = c.providerMetadata;
        touch(part);
        return;
      }
      case "custom":
        push(withOptional({ type: "custom", kind: c.kind }, c, ["providerMetadata"]));
        return;
      case "file":
      case "reasoning-file":
        push(withOptional({ type, mediaType: c.mediaType, url: c.url }, c, ["providerMetadata"]));
        return;
      case "source-url":
        push(withOptional({ type, sourceId: c.sourceId, url: c.url }, c, ["title", "providerMetadata"]));
        return;
      case "source-document":
        push(withOptional({ type, sourceId: c.sourceId, mediaType: c.mediaType, title: c.title }, c, ["filename", "providerMetadata"]));
        return;
      case "steering-message":
        push({ type, id: c.id, parts: c.parts });
        return;
      case "start-step":
        push({ type: "step-start" });
        return;
      case "finish-step":
        return;
      case "reset-step": {
        const removed = this.#currentStepParts(entry).length;
        turn.activeText.clear();
        turn.activeReasoning.clear();
        turn.partialTools.clear();
        if (removed > 0) {
          parts.splice(parts.length - removed, removed);
          this.#changed(entry);
        }
        return;
      }
      case "message-metadata":
      case "finish":
      case "abort":
      case "error": {
        if (c.messageMetadata !== undefined) entry.metadata = mergeMetadata(entry.metadata, c.messageMetadata);
        if (type === "error") {
          turn.errorText = c.errorText as string;
          this.#lastError = { seq, text: c.errorText as string };
        }
        if (type === "finish" || type === "abort") this.#close(turn);
        this.#changed(entry);
        return;
      }
      case "tool-input-start": {
        const call: PartialToolCall = {
          text: "",
          toolName: c.toolName as string,
          inputEncoding: c.inputEncoding,
          dynamic: c.dynamic === true,
          title: c.title,
          toolMetadata: c.toolMetadata,
        };
        turn.partialTools.set(c.toolCallId as string, call);
        this.#upsertTool(entry, call.dynamic, {
          toolCallId: c.toolCallId,
          toolName: c.toolName,
          state: "input-streaming",
          inputEncoding: c.inputEncoding,
          input: undefined,
          providerExecuted: c.providerExecuted,
          title: c.title,
          toolMetadata: c.toolMetadata,
          providerMetadata: c.providerMetadata,
        });
        return;
      }
      case "tool-input-delta": {
        const call = turn.partialTools.get(c.toolCallId as string);
        if (!call) return `tool-input-delta for tool call "${c.toolCallId as string}", which was not started`;
        call.text += c.inputTextDelta as string;
        this.#upsertTool(entry, call.dynamic, {
          toolCallId: c.toolCallId,
          toolName: call.toolName,
          state: "input-streaming",
          inputEncoding: call.inputEncoding,
          input: call.inputEncoding === "text" ? call.text : parsePartialJson(call.text),
          rawInput: call.text,
          title: call.title,
          toolMetadata: call.toolMetadata,
        });
        return;
      }
      case "tool-input-available":
        this.#upsertTool(entry, c.dynamic === true, {
          toolCallId: c.toolCallId,
          toolName: c.toolName,
          state: "input-available",
          input: c.input,
          providerExecuted: c.providerExecuted,
          providerMetadata: c.providerMetadata,
          title: c.title,
          toolMetadata: c.toolMetadata,
        });
        return;
      case "tool-input-error": {
        const existing = this.#currentStepParts(entry).find((p) => isToolPart(p) && p.toolCallId === c.toolCallId);
        const dynamic = existing ? existing.type === "dynamic-tool" : c.dynamic === true;
        this.#upsertTool(entry, dynamic, {
          toolCallId: c.toolCallId,
          toolName: c.toolName,
          state: "output-error",
          input: c.input,
          errorText: c.errorText,
          providerExecuted: c.providerExecuted,
          providerMetadata: c.providerMetadata,
          toolMetadata: c.toolMetadata,
        });
        return;
      }
      case "tool-output-available":
      case "tool-output-error": {
        const part = this.#findTool(entry, c.toolCallId as string);
        if (!part) return `${type} for tool call "${c.toolCallId as string}", which has no input`;
        const dynamic = part.type === "dynamic-tool";
        const update: Obj = {
          toolCallId: c.toolCallId,
          toolName: dynamic ? part.toolName : part.type.slice(5),
          input: part.input,
          providerExecuted: c.providerExecuted,
          providerMetadata: c.providerMetadata,
          title: part.title,
          toolMetadata: c.toolMetadata ?? part.toolMetadata,
        };
        if (type === "tool-output-available")
          Object.assign(update, { state: "output-available", output: c.output, preliminary: c.preliminary });
        else Object.assign(update, { state: "output-error", errorText: c.errorText, ...(dynamic ? {} : { rawInput: part.rawInput }) });
        this.#upsertTool(entry, dynamic, update, part);
        return;
      }
      case "tool-output-denied": {
        const part = this.#findTool(entry, c.toolCallId as string);
        if (!part) return `tool-output-denied for tool call "${c.toolCallId as string}", which has no input`;
        part.state = "output-denied";
        touch(part);
        return;
      }
      case "tool-approval-request": {
        const part = this.#findTool(entry, c.toolCallId as string);
        if (!part) return `tool-approval-request for tool call "${c.toolCallId as string}", which has no input`;
        const approval: Obj = { id: c.approvalId };
        if (c.approvalDescriptor != null) approval.descriptor = c.approvalDescriptor;
        if ("inputSchemaInput" in c) approval.inputSchemaInput = c.inputSchemaInput;
        if (c.reason != null) approval.requestReason = c.reason;
        if (c.isAutomatic === true) approval.isAutomatic = true;
        if (c.signature != null) approval.signature = c.signature;
        part.state = "approval-requested";
        part.approval = approval;
        touch(part);
        return;
      }
      case "tool-approval-response": {
        const part = parts.find((p) => isToolPart(p) && isObj(p.approval) && p.approval.id === c.approvalId);
        if (!part) return `tool-approval-response for approval "${c.approvalId as string}", which was not requested`;
        part.state = "approval-responded";
        part.approval = {
          ...(part.approval as Obj),
          id: c.approvalId,
          approved: c.approved,
          ...(c.reason != null ? { reason: c.reason } : {}),
        };
        if (c.providerExecuted != null) part.providerExecuted = c.providerExecuted;
        if (c.providerMetadata != null) part.callProviderMetadata = c.providerMetadata;
        touch(part);
        return;
      }
      default: {
        // data-<name>: transient ones are not part of the message; one with an id replaces its earlier version.
        if (c.transient === true) return;
        const existing = c.id !== undefined ? parts.find((p) => p.type === type && p.id === c.id) : undefined;
        if (existing) {
          existing.data = c.data;
          touch(existing);
        } else push(withOptional({ type, data: c.data }, c, ["id"]));
        return;
      }
    }
  }

  #currentStepParts(entry: Entry): Part[] {
    const parts = entry.parts;
    let i = parts.length - 1;
    while (i >= 0 && parts[i]!.type !== "step-start") i--;
    return parts.slice(i + 1);
  }

  #findTool(entry: Entry, toolCallId: string): Part | undefined {
    const inStep = this.#currentStepParts(entry).find((p) => isToolPart(p) && p.toolCallId === toolCallId);
    if (inStep) return inStep;
    for (let i = entry.parts.length - 1; i >= 0; i--) {
      const part = entry.parts[i]!;
      if (isToolPart(part) && part.toolCallId === toolCallId) return part;
    }
    return undefined;
  }

  #upsertTool(entry: Entry, dynamic: boolean, o: Obj, existing?: Part): void {
    const part =
      existing ??
      this.#currentStepParts(entry).find(
        (p) => (dynamic ? p.type === "dynamic-tool" : p.type !== "dynamic-tool" && isToolPart(p)) && p.toolCallId === o.toolCallId,
      );
    const result = TOOL_OUTPUT_STATES.has(o.state as string);
    if (!part) {
      const fresh: Part = dynamic
        ? { type: "dynamic-tool", toolName: o.toolName, toolCallId: o.toolCallId, state: o.state }
        : { type: `tool-${o.toolName as string}`, toolCallId: o.toolCallId, state: o.state };
      for (const key of [
        "title",
        "toolMetadata",
        "input",
        "inputEncoding",
        "output",
        "rawInput",
        "errorText",
        "providerExecuted",
        "preliminary",
      ]) {
        set(fresh, key, o[key]);
      }
      set(fresh, result ? "resultProviderMetadata" : "callProviderMetadata", o.providerMetadata);
      entry.parts.push(fresh);
      this.#changed(entry);
      return;
    }
    part.state = o.state;
    if (dynamic) part.toolName = o.toolName;
    else part.type = `tool-${o.toolName as string}`;
    for (const key of ["input", "output", "errorText", "rawInput", "inputEncoding", "preliminary"]) set(part, key, o[key]);
    if (o.title !== undefined) part.title = o.title;
    if (o.toolMetadata !== undefined) part.toolMetadata = o.toolMetadata;
    set(part, "providerExecuted", o.providerExecuted ?? part.providerExecuted);
    if (o.providerMetadata != null) part[result ? "resultProviderMetadata" : "callProviderMetadata"] = o.providerMetadata;
    this.#changed(entry, part);
  }
}

function withOptional(part: Part, from: Obj, keys: string[]): Part {
  for (const key of keys) if (from[key] !== undefined) part[key] = from[key];
  return part;
}

/** The chat of a list of events (in seq order): a pure function of them. */
export function projectChat(events: Iterable<StarciteEvent>, options: ChatProjectionOptions = {}): ChatProjection {
  const projection = new ChatProjection(options);
  for (const event of events) projection.apply(event);
  return projection;
}

/** The UIMessages of a session's events: same events, same messages. Malformed events go to `onError` and are skipped. */
export function toUIMessages(events: Iterable<StarciteEvent>, options: ChatProjectionOptions = {}): UIMessage[] {
  return projectChat(events, options).messages;
}
