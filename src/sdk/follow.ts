import { backoffDelay, resolveRetry } from "./backoff.ts";
import { toStarciteError, type StarciteError } from "./errors.ts";
import type { StarciteEvent } from "./protocol.ts";
import type { StarciteSession } from "./session.ts";

export interface FollowHandlers {
  /** Every event of the session from seq 1, once each, in seq order. */
  onEvent(event: StarciteEvent): void;
  /** Everything up to the session's catch-up point has been handed over (again after each reconnect). */
  onCaughtUp?(): void;
  /** Reading the history failed (it is retried with backoff). */
  onError?(error: StarciteError): void;
}

export interface Follower {
  /** Seq of the last event handed to onEvent. */
  readonly seq: number;
  /** True when everything up to the session's catch-up point has been handed over. */
  readonly caughtUp: boolean;
  stop(): void;
}

/**
 * The whole session, whatever cursor its tail started from. A session resumes after its stored cursor
 * (a reload continues where the page was), which suits readers that kept their state; a reader that
 * rebuilds its state from the log (a chat projection) needs the events before that cursor too. They are
 * read over HTTP (`session.readEvents`) and handed over first; tail events arriving meanwhile wait.
 */
export function followSession(session: StarciteSession, handlers: FollowHandlers): Follower {
  let seq = 0;
  let filling = false;
  let stopped = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waiting: StarciteEvent[] = [];
  const retry = resolveRetry(undefined, Infinity);

  const take = (event: StarciteEvent): void => {
    if (stopped || event.seq <= seq) return;
    if (filling || event.seq > seq + 1) {
      waiting.push(event);
      if (!filling && timer === undefined) void fill(event.seq - 1);
      return;
    }
    seq = event.seq;
    handlers.onEvent(event);
  };

  const fill = async (upTo: number): Promise<void> => {
    filling = true;
    try {
      while (seq < upTo && !stopped) {
        const page = await session.readEvents({ after: seq, limit: 1000 });
        if (page.events.length === 0) break;
        for (const event of page.events) {
          if (stopped || event.seq > upTo) break;
          if (event.seq !== seq + 1) continue;
          seq = event.seq;
          handlers.onEvent(event);
        }
      }
      failures = 0;
    } catch (error) {
      if (stopped) return;
      handlers.onError?.(toStarciteError(error));
      filling = false;
      timer = setTimeout(
        () => {
          timer = undefined;
          void fill(Math.max(upTo, (waiting[0]?.seq ?? 1) - 1));
        },
        backoffDelay(failures++, retry),
      );
      return;
    }
    filling = false;
    for (const event of waiting.splice(0)) take(event);
    if (caughtUp()) handlers.onCaughtUp?.();
  };

  const caughtUp = () => !filling && session.status === "live" && seq >= session.cursor;
  const catchUp = () => {
    if (stopped || filling || timer !== undefined || session.status !== "live") return;
    if (session.cursor > seq) void fill(session.cursor);
    else handlers.onCaughtUp?.();
  };
  const offEvent = session.on("event", take);
  const offStatus = session.on("status", (status) => {
    if (status === "live") catchUp();
  });
  queueMicrotask(catchUp);
  return {
    get seq() {
      return seq;
    },
    get caughtUp() {
      return caughtUp();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      offEvent();
      offStatus();
    },
  };
}
