import { useCallback, useSyncExternalStore } from "react";
import {
  followSession,
  type AppendResult,
  type SessionAppendInput,
  type SessionStatus,
  type StarciteError,
  type StarciteEvent,
  type StarciteSession,
} from "@starcite/sdk";

export interface UseStarciteSessionResult {
  /** Every event of the session from seq 1, in seq order (history, then live). */
  events: StarciteEvent[];
  append: (input: SessionAppendInput) => Promise<AppendResult>;
  status: SessionStatus;
  /** The fatal error that stopped the stream, if any. */
  error: StarciteError | undefined;
}

interface Snapshot {
  events: StarciteEvent[];
  status: SessionStatus;
  error: StarciteError | undefined;
}

/** One listener per session, however many components use it; a new events array only when events arrived. */
class SessionStore {
  readonly #session: StarciteSession;
  readonly #listeners = new Set<() => void>();
  readonly #events: StarciteEvent[] = [];
  #off: (() => void)[] = [];
  #snapshot: Snapshot | undefined;

  constructor(session: StarciteSession) {
    this.#session = session;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) {
      const follower = followSession(this.#session, {
        onEvent: (event) => {
          if (event.seq <= (this.#events.at(-1)?.seq ?? 0)) return;
          this.#events.push(event);
          this.#changed();
        },
      });
      this.#off = [
        () => follower.stop(),
        this.#session.on("status", () => this.#changed()),
        this.#session.on("error", () => this.#changed()),
      ];
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size > 0) return;
      for (const off of this.#off) off();
      this.#off = [];
    };
  };

  getSnapshot = (): Snapshot => {
    const state = { status: this.#session.status, error: this.#session.error };
    const prev = this.#snapshot;
    if (prev && prev.events.length === this.#events.length && prev.status === state.status && prev.error === state.error) return prev;
    this.#snapshot = {
      events: prev?.events.length === this.#events.length ? prev.events : this.#events.slice(),
      status: state.status,
      error: state.error,
    };
    return this.#snapshot;
  };

  #changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

const stores = new WeakMap<StarciteSession, SessionStore>();

/** A session's raw events for React: ordered, each once, replay then live; and `append`. */
export function useStarciteSession({ session }: { session: StarciteSession }): UseStarciteSessionResult {
  let store = stores.get(session);
  if (!store) {
    store = new SessionStore(session);
    stores.set(session, store);
  }
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  const append = useCallback((input: SessionAppendInput) => session.append(input), [session]);
  return { ...snapshot, append };
}
