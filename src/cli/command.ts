import type { Starcite } from "@starcite/sdk";
import type { OptionSpecs, Parsed } from "./args.ts";
import type { CliSettings } from "./settings.ts";

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** stderr is a terminal: progress notes (e.g. "reconnecting") go there only then. */
  interactive: boolean;
  /**
   * Ctrl-C (SIGINT) or SIGTERM calls `handler` (a long-running command, like tail, ends cleanly with it);
   * with no handler registered the process exits at once with 130. Returns the unregister function.
   */
  onInterrupt(handler: () => void): () => void;
}

export interface Context {
  io: Io;
  p: Parsed;
  settings(): CliSettings;
  client(): Starcite;
}

export interface Command {
  /** Words that select it, e.g. "sessions list". */
  name: string;
  summary: string;
  /** After "starcite <name> ". */
  usage: string;
  description?: string;
  options: OptionSpecs;
  examples: string[];
  run(ctx: Context): Promise<number>;
}
