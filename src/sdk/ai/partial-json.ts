/**
 * The value of a JSON text that is still streaming (a tool call's input arriving in deltas): the longest
 * prefix that, with its open strings, arrays and objects closed, parses. `undefined` when none does.
 */
export function parsePartialJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // still streaming: complete it below
  }
  // Dropping characters from the end finds the last complete value; 64 tries covers a key, a number or a
  // literal cut in half, and keeps a pathological input from costing quadratic time per delta.
  for (let end = text.length, tries = 0; end > 0 && tries < 64; end--, tries++) {
    const closed = close(text.slice(0, end));
    if (closed === undefined) continue;
    try {
      return JSON.parse(closed);
    } catch {
      // shorter
    }
  }
  return undefined;
}

/** `prefix` with its open string and containers closed, or undefined when it ends inside an escape. */
function close(prefix: string): string | undefined {
  const stack: string[] = [];
  let inString = false;
  let escaped = false;
  for (const ch of prefix) {
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{") stack.push("}");
    else if (ch === "[") stack.push("]");
    else if (ch === "}" || ch === "]") stack.pop();
  }
  if (escaped) return undefined;
  let out = inString ? `${prefix}"` : prefix;
  out = out.replace(/[,\s]+$/, "");
  return out + stack.reverse().join("");
}
