// Download, cache and checksum of the controller manifest, against a local HTTP server.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../support/errors.ts";
import { manifestUrl, parseControllerVersion, resolveControllerManifest } from "./controller-manifest.ts";
import { STAND_IN_MANIFEST } from "../testing/stand-in-manifest.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

// A stand-in written for the tests (not the real manifest): the shape the code relies on.
const MANIFEST = STAND_IN_MANIFEST;

let server: Server;
let base: string;
const hits: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? "");
    if (req.url === "/controller-v9.9.9/deploy/static/provider/cloud/deploy.yaml") {
      res.writeHead(200, { "content-type": "text/plain" }).end(MANIFEST);
    } else if (req.url?.startsWith("/controller-v7.7.7/")) {
      res.writeHead(200).end("kind: ConfigMap\nmetadata:\n  name: not-a-controller\n");
    } else {
      res.writeHead(404).end("404: Not Found");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const sha256sum = (path: string) => execFileSync("sha256sum", [path], { encoding: "utf8" }).split(" ")[0];

describe("controller manifest", () => {
  it("is downloaded once from the release tag, cached with its SHA-256, then read from the cache", async () => {
    const cacheDir = tempDir("manifest-cache-");
    const first = await resolveControllerManifest({ version: "v9.9.9", cacheDir, baseUrl: base });
    expect(first.origin).toBe("download");
    expect(hits.filter((h) => h.includes("v9.9.9"))).toHaveLength(1);
    const cached = join(cacheDir, "controller-v9.9.9", "deploy.yaml");
    expect(readFileSync(cached, "utf8")).toBe(MANIFEST);
    expect(first.sha256).toBe(sha256sum(cached));
    expect(readFileSync(`${cached}.sha256`, "utf8")).toBe(`${first.sha256}  deploy.yaml\n`);
    // The recorded checksum file is what `sha256sum -c` reads.
    expect(execFileSync("sha256sum", ["-c", "deploy.yaml.sha256"], { cwd: join(cacheDir, "controller-v9.9.9"), encoding: "utf8" })).toContain("deploy.yaml: OK");

    const second = await resolveControllerManifest({ version: "controller-v9.9.9", cacheDir, baseUrl: base });
    expect(second.origin).toBe("cache");
    expect(second.sha256).toBe(first.sha256);
    expect(hits.filter((h) => h.includes("v9.9.9"))).toHaveLength(1);
  });

  it("a cache entry that does not match its checksum is downloaded again", async () => {
    const cacheDir = tempDir("manifest-cache-");
    await resolveControllerManifest({ version: "v9.9.9", cacheDir, baseUrl: base });
    writeFileSync(join(cacheDir, "controller-v9.9.9", "deploy.yaml"), MANIFEST.replace("controller:v9.9.9", "controller:evil"));
    const again = await resolveControllerManifest({ version: "v9.9.9", cacheDir, baseUrl: base });
    expect(again.origin).toBe("download");
    expect(again.text).toBe(MANIFEST);
  });

  it("lists the images the manifest runs, digests included", async () => {
    const m = await resolveControllerManifest({ version: "v9.9.9", cacheDir: tempDir("mc-"), baseUrl: base });
    expect(m.images).toEqual([
      `registry.k8s.io/ingress-nginx/controller:v9.9.9@sha256:${"a".repeat(64)}`,
      `registry.k8s.io/ingress-nginx/kube-webhook-certgen:v9.9.9@sha256:${"b".repeat(64)}`,
    ]);
    expect(m.objects.map((o) => o.kind)).toEqual(["Namespace", "Deployment", "Job"]);
  });

  it("an unknown release is a configuration error naming the version", async () => {
    const error = await resolveControllerManifest({ version: "v1.99.0", cacheDir: tempDir("mc-"), baseUrl: base }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("no release v1.99.0");
  });

  it("something that is not an ingress-nginx manifest is refused", async () => {
    const error = await resolveControllerManifest({ version: "v7.7.7", cacheDir: tempDir("mc-"), baseUrl: base }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("does not look like an ingress-nginx manifest");
  });

  it("no network: the error says to pass --controller-manifest", async () => {
    const error = await resolveControllerManifest({ version: "v9.9.9", cacheDir: tempDir("mc-"), baseUrl: "http://127.0.0.1:1" }).catch((e) => e);
    expect(error.message).toContain("--controller-manifest FILE");
  });

  it("--controller-manifest FILE is read as is; a missing file is a configuration error", async () => {
    const file = join(tempDir("mf-"), "deploy.yaml");
    writeFileSync(file, MANIFEST);
    const m = await resolveControllerManifest({ version: "v9.9.9", file });
    expect(m.origin).toBe("file");
    expect(m.sha256).toBe(sha256sum(file));
    await expect(resolveControllerManifest({ file: "/nonexistent/deploy.yaml" })).rejects.toThrow(ConfigError);
  });

  it("versions: vX.Y.Z or controller-vX.Y.Z; anything else is refused before anything starts", () => {
    expect(parseControllerVersion("v1.15.1")).toBe("v1.15.1");
    expect(parseControllerVersion("controller-v1.13.9")).toBe("v1.13.9");
    for (const bad of ["1.15.1", "latest", "v1.15", "helm-chart-4.15.1", ""]) expect(() => parseControllerVersion(bad)).toThrow(ConfigError);
    expect(manifestUrl("v1.15.1")).toBe("https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.15.1/deploy/static/provider/cloud/deploy.yaml");
  });
});
