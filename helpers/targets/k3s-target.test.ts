// The k3s target where no image can be pulled: its failures must be clear and leave nothing
// behind. These tests need a container engine (.ci/run starts one); without it they skip and say why.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { buildManifests } from "../manifests/manifests.ts";
import { buildPki } from "../pki/pki.ts";
import { STAND_IN_MANIFEST } from "../testing/stand-in-manifest.ts";
import { containerEngineAnswers } from "./engine.ts";
import { K3sTarget, pullFailureMessage } from "./k3s-target.ts";
import { holdEngineLock } from "../testing/engine-lock.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

// Compares the suite's containers (and images) before and after: one file at a time on the engine.
holdEngineLock();
let engine = false;
beforeAll(async () => {
  engine = await containerEngineAnswers();
});
const NO_ENGINE = "no container engine answers on this machine (.ci/run installs and starts dockerd)";

/** Containers the suite created (by its label), including stopped ones. */
const ourContainers = () =>
  execFileSync("docker", ["ps", "-a", "-q", "--filter", "label=app.kubernetes.io/managed-by=mtls-conformance"], { encoding: "utf8" }).trim();

describe("k3s target without a pullable registry", () => {
  it("a failed pull names the image and the ways around it, and leaves no container", async (ctx) => {
    if (!engine) ctx.skip(NO_ENGINE);
    const before = ourContainers();
    const dir = tempDir("k3s-pull-");
    const manifestFile = join(dir, "deploy.yaml");
    writeFileSync(manifestFile, STAND_IN_MANIFEST);
    const pki = await buildPki({ serverHosts: ["test.localdev.me"] });
    const manifests = buildManifests({ namespace: "mtls-conformance", policies: catalogue.policies.slice(0, 1), pki });
    const image = "rancher/k3s:v1.35.0-k3s1-not-on-this-host";
    const logs: string[] = [];
    const error = await new K3sTarget({ image, controllerManifest: manifestFile, controllerVersion: "v9.9.9" })
      .start({ manifests, workDir: dir, reportDir: join(dir, "report"), log: (l) => logs.push(l) })
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^could not pull /);
    expect(message).toContain(image);
    expect(message).toContain("--preload-images");
    expect(message).toContain("--registry-mirror");
    expect(message).toContain("--target nginx");
    expect(logs.join("\n")).toContain("sha256 ");
    expect(ourContainers()).toBe(before);
  });

  it("--preload-images names each image the host lacks and leaves it to k3s; the pull failure still explains", async (ctx) => {
    if (!engine) ctx.skip(NO_ENGINE);
    const dir = tempDir("k3s-preload-");
    const manifestFile = join(dir, "deploy.yaml");
    writeFileSync(manifestFile, STAND_IN_MANIFEST);
    const pki = await buildPki({ serverHosts: ["test.localdev.me"] });
    const manifests = buildManifests({ namespace: "mtls-conformance", policies: catalogue.policies.slice(0, 1), pki });
    const logs: string[] = [];
    const error = await new K3sTarget({ image: "rancher/k3s:not-on-this-host", controllerManifest: manifestFile, preloadImages: true })
      .start({ manifests, workDir: dir, reportDir: join(dir, "report"), log: (l) => logs.push(l) })
      .catch((e: Error) => e);
    expect(logs.join("\n")).toMatch(/--preload-images: registry\.k8s\.io\/ingress-nginx\/controller:v9\.9\.9@sha256:a{64} is not in the host's Docker; k3s will pull it/);
    expect((error as Error).message).toMatch(/^could not pull .*rancher\/k3s:not-on-this-host/);
    expect(ourContainers()).toBe("");
  });
});

describe("k3s target pieces", () => {

  it("pull errors are explained; other errors are left alone", () => {
    const pull = new Error('(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host');
    expect(pullFailureMessage(pull, ["rancher/k3s:v1.35.0-k3s1", "testcontainers/ryuk:0.14.0"])).toContain(
      "could not pull rancher/k3s:v1.35.0-k3s1, testcontainers/ryuk:0.14.0 (",
    );
    expect(pullFailureMessage(new Error("port is already allocated"), [])).toBeUndefined();
  });
});
