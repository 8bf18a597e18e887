import { dbmate } from "../db/migrate.ts";

/** `npm run migrate [-- up|down|status]`: dbmate against DATABASE_URL with starcite's migrations. */
const url = process.env.DATABASE_URL;
const command = (process.argv[2] ?? "up") as "up" | "down" | "status";
if (!url) {
  process.stderr.write("npm run migrate needs DATABASE_URL (npm start migrates the embedded Postgres by itself)\n");
  process.exit(2);
}
if (!["up", "down", "status"].includes(command)) {
  process.stderr.write(`unknown command ${command}: use up, down or status\n`);
  process.exit(2);
}
dbmate(url, command).then(
  (out) => process.stdout.write(out),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
