import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";
import { S3ObjectStore } from "../../src/archive/store.ts";

export interface TestS3 {
  endpoint: string;
  bucket: string;
  store: S3ObjectStore;
  close(): Promise<void>;
}

/** A local S3-compatible server (s3rver, from npm) on a free port with one bucket, files in a temp directory. */
export async function startTestS3(bucket = "starcite-archive"): Promise<TestS3> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-s3-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const store = new S3ObjectStore({
    bucket,
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    // s3rver accepts its documented default credentials.
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  return {
    endpoint,
    bucket,
    store,
    async close() {
      store.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
