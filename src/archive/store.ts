import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

/** Where archived ranges go: any S3-compatible object store. */
export interface ObjectStore {
  put(key: string, body: string): Promise<void>;
  /** The object's text, or null when there is no such object. */
  get(key: string): Promise<string | null>;
}

export interface S3StoreConfig {
  bucket: string;
  /** Key prefix, e.g. "starcite/" (default none). */
  prefix?: string;
  /** For S3-compatible servers (MinIO, R2, s3rver, ...): their URL. Unset: AWS. */
  endpoint?: string;
  region?: string;
  /** Path-style URLs (bucket in the path), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  /** Unset: the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly prefix: string;

  constructor(config: S3StoreConfig) {
    this.#bucket = config.bucket;
    this.prefix = config.prefix ?? "";
    this.#client = new S3Client({
      region: config.region ?? "us-east-1",
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle ?? Boolean(config.endpoint),
      ...(config.credentials ? { credentials: config.credentials } : {}),
    });
  }

  async put(key: string, body: string): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: this.prefix + key,
        Body: body,
        ContentType: "application/x-ndjson",
      }),
    );
  }

  async get(key: string): Promise<string | null> {
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.prefix + key }));
      return out.Body ? await out.Body.transformToString("utf8") : "";
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") return null;
      throw error;
    }
  }

  close(): void {
    this.#client.destroy();
  }
}
