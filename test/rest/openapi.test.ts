/** The OpenAPI document describes exactly the routes the router serves, with their statuses and error codes. */
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, expect, test } from "vitest";
import { HTTP_STATUS } from "../../src/rest/errors.ts";
import { router } from "../../src/rest/index.ts";
import { openApiDocument } from "../../src/rest/openapi.ts";
import type { Operation } from "../../src/rest/openapi-types.ts";
import { declaredErrors } from "../../src/rest/router.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { call } from "./support.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

function documented(): Map<string, Operation> {
  const ops = new Map<string, Operation>();
  for (const [path, item] of Object.entries(openApiDocument.paths)) {
    for (const method of ["get", "post", "patch"] as const) {
      const op = item[method];
      if (op) ops.set(`${method.toUpperCase()} ${path}`, op);
    }
  }
  return ops;
}

test("served at /v1/openapi.json, without credentials, and valid OpenAPI 3.1", async () => {
  const res = await call(s.url, "GET", "/v1/openapi.json");
  expect(res.status).toBe(200);
  expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
  const result = await new Validator().validate(res.body);
  expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
  expect(result.valid).toBe(true);
  const validator = new Validator();
  await validator.validate(res.body);
  expect(validator.version).toBe("3.1");
  // The validator does check: the same document with a response lacking its description is refused.
  const broken = JSON.parse(JSON.stringify(openApiDocument)) as typeof openApiDocument;
  delete (broken.paths["/v1/sessions"]!.post!.responses["201"] as { description?: string }).description;
  expect((await new Validator().validate(broken as unknown as Record<string, unknown>)).valid).toBe(false);
});

test("every route is documented and every documented operation is a route", () => {
  const routes = new Set(router.routes.map((r) => `${r.method} ${r.path}`));
  expect(new Set(documented().keys())).toEqual(routes);
});

test("each operation's id, statuses and error codes are the route's", () => {
  const ops = documented();
  for (const route of router.routes) {
    const op = ops.get(`${route.method} ${route.path}`)!;
    expect(op.operationId).toBe(route.id);
    const declared = [...declaredErrors(route)];
    const statuses = new Set([...route.success, ...declared.map((c) => HTTP_STATUS[c])].map(String));
    expect(new Set(Object.keys(op.responses)), route.id).toEqual(statuses);
    const byStatus = new Map<string, string[]>();
    for (const code of declared) byStatus.set(String(HTTP_STATUS[code]), [...(byStatus.get(String(HTTP_STATUS[code])) ?? []), code]);
    for (const [status, response] of Object.entries(op.responses)) {
      if (route.success.includes(Number(status))) continue;
      expect([...(response["x-error-codes"] ?? [])].sort(), `${route.id} ${status}`).toEqual(byStatus.get(status)!.sort());
    }
  }
});

test("the Error schema lists every error code", () => {
  expect(openApiDocument.components.schemas.Error!.properties!.error!.enum).toEqual(Object.keys(HTTP_STATUS).sort());
});
