// A tiny OCI distribution registry on 127.0.0.1, in memory, for tests that need Docker to push to
// and pull from a real registry with no network: `docker push`, `docker pull name@sha256:…`, and
// the RepoDigests a pull by digest leaves. Plain HTTP is enough because Docker treats registries on
// 127.0.0.0/8 as insecure (moby registry/config.go: loopback CIDRs are always insecure).
//
// It answers the endpoints docker push and pull use (OCI distribution-spec, "Endpoints" table):
//   GET  /v2/                                  version check
//   HEAD|GET /v2/<name>/blobs/<digest>          blob existence and content
//   POST /v2/<name>/blobs/uploads/[?mount=&from=]  start an upload (a mount attempt is answered
//                                              as a normal upload: 202 and a Location)
//   PATCH /v2/<name>/blobs/uploads/<id>         append a chunk
//   PUT  /v2/<name>/blobs/uploads/<id>?digest=  finish (the body may carry the last chunk)
//   PUT|GET|HEAD /v2/<name>/manifests/<ref>     by tag or digest, with Docker-Content-Digest and
//                                              the stored Content-Type
// Blobs are shared between repositories (digests are content addresses); manifests are per repo.
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StoredManifest {
  body: Buffer;
  mediaType: string;
  digest: string;
}

export interface TinyRegistry {
  /** `127.0.0.1:PORT`, the prefix of image names pushed here. */
  host: string;
  port: number;
  /** Method and path of every request, in order. */
  requests: Array<{ method: string; path: string; status: number }>;
  blobs: Map<string, Buffer>;
  /** `<repository>` → reference (tag or digest) → manifest. */
  manifests: Map<string, Map<string, StoredManifest>>;
  /** Stores a blob directly (for a test that composes an image itself); returns its digest. */
  putBlob(content: Buffer): string;
  /** Stores a manifest under `reference` (a tag) and under its digest; returns the digest. */
  putManifest(repository: string, reference: string, body: Buffer, mediaType: string): string;
  close(): Promise<void>;
}

export const sha256Digest = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

const DIGEST = /^sha256:[a-f0-9]{64}$/;
// A repository name is path components of [a-z0-9] separated by ., _, __ or -, joined with /.
const NAME = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*";
const ROUTES = {
  upload: new RegExp(`^/v2/(${NAME})/blobs/uploads/([A-Za-z0-9-]*)$`),
  blob: new RegExp(`^/v2/(${NAME})/blobs/(sha256:[a-f0-9]{64})$`),
  manifest: new RegExp(`^/v2/(${NAME})/manifests/([A-Za-z0-9_][A-Za-z0-9._-]{0,127}|sha256:[a-f0-9]{64})$`),
};

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });

/** Starts the registry on 127.0.0.1 (an ephemeral port unless one is given). */
export async function startTinyRegistry(port = 0): Promise<TinyRegistry> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Map<string, StoredManifest>>();
  const uploads = new Map<string, Buffer[]>();
  const requests: TinyRegistry["requests"] = [];

  const putBlob = (content: Buffer) => {
    const digest = sha256Digest(content);
    blobs.set(digest, content);
    return digest;
  };
  const putManifest = (repository: string, reference: string, body: Buffer, mediaType: string) => {
    const digest = sha256Digest(body);
    const repo = manifests.get(repository) ?? new Map<string, StoredManifest>();
    manifests.set(repository, repo);
    const stored = { body, mediaType, digest };
    repo.set(digest, stored);
    if (reference !== digest) repo.set(reference, stored);
    return digest;
  };

  const errorBody = (code: string, message: string) => JSON.stringify({ errors: [{ code, message }] });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://registry");
    const path = url.pathname;
    const method = req.method ?? "GET";
    const send = (status: number, headers: Record<string, string | number> = {}, body?: Buffer | string) => {
      requests.push({ method, path, status });
      res.writeHead(status, { "Docker-Distribution-API-Version": "registry/2.0", ...headers });
      res.end(method === "HEAD" ? undefined : body);
    };
    const notFound = (code: string) => {
      const body = errorBody(code, `${code.toLowerCase().replace(/_/g, " ")}`);
      send(404, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) }, body);
    };
    let m: RegExpExecArray | null;

    if (path === "/v2/" || path === "/v2") {
      return send(200, { "Content-Type": "application/json", "Content-Length": 2 }, "{}");
    }

    if ((m = ROUTES.upload.exec(path))) {
      const [, name, id] = m as unknown as [string, string, string];
      const location = (uploadId: string) => `/v2/${name}/blobs/uploads/${uploadId}`;
      if (method === "POST" && id === "") {
        // A cross-repository mount (?mount=&from=) is answered as a plain upload (202), which the
        // spec allows; the client then uploads the blob. A monolithic POST ?digest= is honoured.
        const body = await readBody(req);
        const digest = url.searchParams.get("digest");
        if (digest && !url.searchParams.get("mount")) {
          if (sha256Digest(body) !== digest) return send(400, {}, errorBody("DIGEST_INVALID", "digest mismatch"));
          blobs.set(digest, body);
          return send(201, { Location: `/v2/${name}/blobs/${digest}`, "Docker-Content-Digest": digest, "Content-Length": 0 });
        }
        const uploadId = randomUUID();
        uploads.set(uploadId, body.length ? [body] : []);
        return send(202, { Location: location(uploadId), "Docker-Upload-UUID": uploadId, Range: "0-0", "Content-Length": 0 });
      }
      const chunks = uploads.get(id);
      if (!chunks) return notFound("BLOB_UPLOAD_UNKNOWN");
      if (method === "PATCH") {
        chunks.push(await readBody(req));
        const size = chunks.reduce((n, c) => n + c.length, 0);
        return send(202, { Location: location(id), "Docker-Upload-UUID": id, Range: `0-${Math.max(size - 1, 0)}`, "Content-Length": 0 });
      }
      if (method === "PUT") {
        chunks.push(await readBody(req));
        const content = Buffer.concat(chunks);
        const digest = url.searchParams.get("digest") ?? "";
        if (!DIGEST.test(digest) || sha256Digest(content) !== digest) {
          return send(400, { "Content-Type": "application/json" }, errorBody("DIGEST_INVALID", `content does not match ${digest}`));
        }
        uploads.delete(id);
        blobs.set(digest, content);
        return send(201, { Location: `/v2/${name}/blobs/${digest}`, "Docker-Content-Digest": digest, "Content-Length": 0 });
      }
      if (method === "GET") {
        const size = chunks.reduce((n, c) => n + c.length, 0);
        return send(204, { Location: location(id), "Docker-Upload-UUID": id, Range: `0-${Math.max(size - 1, 0)}` });
      }
      if (method === "DELETE") {
        uploads.delete(id);
        return send(204);
      }
    }

    if ((m = ROUTES.blob.exec(path)) && (method === "GET" || method === "HEAD")) {
      const digest = m[2]!;
      const blob = blobs.get(digest);
      if (!blob) return notFound("BLOB_UNKNOWN");
      return send(200, { "Content-Type": "application/octet-stream", "Content-Length": blob.length, "Docker-Content-Digest": digest }, blob);
    }

    if ((m = ROUTES.manifest.exec(path))) {
      const [, name, reference] = m as unknown as [string, string, string];
      if (method === "PUT") {
        const body = await readBody(req);
        const mediaType = (req.headers["content-type"] ?? "").split(";")[0]!.trim() || (JSON.parse(body.toString("utf8")) as { mediaType?: string }).mediaType || "";
        const digest = sha256Digest(body);
        if (DIGEST.test(reference) && reference !== digest) {
          return send(400, { "Content-Type": "application/json" }, errorBody("DIGEST_INVALID", `manifest digest is ${digest}, not ${reference}`));
        }
        putManifest(name, reference, body, mediaType);
        return send(201, { Location: `/v2/${name}/manifests/${digest}`, "Docker-Content-Digest": digest, "Content-Length": 0 });
      }
      if (method === "GET" || method === "HEAD") {
        const stored = manifests.get(name)?.get(reference);
        if (!stored) return notFound("MANIFEST_UNKNOWN");
        return send(
          200,
          { "Content-Type": stored.mediaType, "Content-Length": stored.body.length, "Docker-Content-Digest": stored.digest },
          stored.body,
        );
      }
      if (method === "DELETE") {
        manifests.get(name)?.delete(reference);
        return send(202);
      }
    }

    const body = errorBody("UNSUPPORTED", `${method} ${path} is not supported here`);
    send(method === "GET" || method === "HEAD" ? 404 : 405, { "Content-Type": "application/json" }, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(String(error.message));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${actual}`,
    port: actual,
    requests,
    blobs,
    manifests,
    putBlob,
    putManifest,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
