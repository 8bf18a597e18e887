/** Every scenario, in the order `npm run bench` runs them. */
import type { Scenario } from "../lib/scenario.ts";
import { appendLatency } from "./append-latency.ts";
import { appendThroughput } from "./append-throughput.ts";
import { durableStreams } from "./durable-streams.ts";
import { e2eLatency } from "./e2e-latency.ts";
import { fanout } from "./fanout.ts";
import { idle } from "./idle.ts";
import { lengthIndependence } from "./length.ts";
import { redisStreams } from "./redis.ts";
import { replay } from "./replay.ts";
import { starciteStreams } from "./starcite-streams.ts";
import { tokenStreams } from "./token-streams.ts";

export const scenarios: Scenario[] = [
  appendLatency,
  appendThroughput,
  e2eLatency,
  fanout,
  replay,
  idle,
  lengthIndependence,
  durableStreams,
  starciteStreams,
  tokenStreams,
  redisStreams,
];
