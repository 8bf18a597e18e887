/** The starcite server the page talks to: set by the page's host (see server.ts), localhost:4000 otherwise. */
export const baseUrl: string = (globalThis as { STARCITE_URL?: string }).STARCITE_URL ?? "http://localhost:4000";
