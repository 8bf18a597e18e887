import type { GraphiQLOptions } from "graphql-yoga";

/**
 * GraphiQL at GET /graphql in a browser, with every asset bundled from npm (`@graphql-yoga/render-graphiql`)
 * instead of a public CDN, so it works offline and behind strict networks. The first tab explains how to
 * authenticate, since every operation needs a credential.
 */
export const GRAPHIQL_DEFAULT_QUERY = `# starcite GraphQL API
#
# Every operation needs a credential. Open "Headers" (bottom left) and send your API key or a session token:
#   { "Authorization": "Bearer sk_..." }
# The first \`npm start\` printed a development key and saved it for the CLI in ~/.starcite/config.json
# (\`starcite config show\` says where it is). Subscriptions (tail) run over WebSocket on this same path
# and send the same header in connection_init.

query Viewer {
  viewer { kind id tenantId scopes }
}
`;

export const graphiqlOptions: GraphiQLOptions = {
  title: "starcite GraphiQL",
  subscriptionsProtocol: "WS",
  defaultQuery: GRAPHIQL_DEFAULT_QUERY,
  defaultHeaders: JSON.stringify({ Authorization: "Bearer <your API key or session token>" }, null, 2),
  shouldPersistHeaders: true,
};

/**
 * The page, with the bundle imported on the first request for it: the bundle is ~30 MB of JavaScript source that
 * V8 keeps as strings once loaded, which a production server (GraphiQL off) or one never asked for the page
 * should not carry.
 */
export async function renderGraphiQL(options: GraphiQLOptions): Promise<string> {
  const { renderGraphiQL: render } = await import("@graphql-yoga/render-graphiql");
  return render(options);
}
