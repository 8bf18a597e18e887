# Production image: the server against an external Postgres (DATABASE_URL); migrations run at start with dbmate.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY db ./db
COPY src ./src
COPY bin ./bin
COPY schema.graphql tsconfig.json ./
EXPOSE 4000
USER node
CMD ["node_modules/.bin/tsx", "src/main.ts"]
