import { createLogger, type Logger } from "../../src/shared/logger.ts";

export interface CapturedLogs {
  logger: Logger;
  lines: Record<string, unknown>[];
  /** Lines at error level: an unexpected failure (a client mistake must never produce one). */
  errors(): Record<string, unknown>[];
}

/** A real logger whose JSON lines are kept for assertions. */
export function captureLogs(level: "debug" | "info" | "warn" | "error" = "info"): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  return {
    logger: createLogger(level, (line) => lines.push(JSON.parse(line) as Record<string, unknown>)),
    lines,
    errors: () => lines.filter((l) => l.level === "error"),
  };
}
