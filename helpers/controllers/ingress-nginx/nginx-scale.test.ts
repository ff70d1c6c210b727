// Regression: a run with many Ingresses must not exhaust the nginx target's data plane. With one
// upstream per Service (keepalive 16 each) and 1024 worker_connections, idle upstream sockets
// piled up past ~600 Services until nginx closed the probes' new connections ("worker_connections
// are not enough, reusing connections"), and the failures were blamed on the Ingresses.
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Manifests } from "../../manifests/manifests.ts";
import { DAY, generateKeys, issue, SERVER_AUTH } from "../../pki/pki.ts";
import { NginxTarget } from "./nginx-target.ts";
import type { StartedTarget } from "../../targets/target.ts";

const SERVICES = 1200;
/** The run's default number of probes in flight (`run --concurrency`). */
const CONCURRENCY = 24;
const PER_HOST = 3;
const NAMESPACES = ["scale-a", "scale-b", "scale-c", "scale-d"];

let base: string;
let target: StartedTarget;
let caPem: string;
const hostOf = (i: number): string => `svc-${String(i).padStart(4, "0")}.scale.test`;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "nginx-scale-test-"));
  const now = Date.now();
  const ca = await issue({ name: "scale-ca", subject: "CN=Scale Test CA", keys: await generateKeys("p256"), notBefore: new Date(now - DAY), notAfter: new Date(now + DAY), ca: true });
  const server = await issue({
    name: "scale-server",
    subject: "CN=*.scale.test",
    keys: await generateKeys("p256"),
    issuer: ca,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + DAY),
    eku: SERVER_AUTH,
    dnsNames: ["*.scale.test"],
  });
  caPem = ca.certPem;
  const secrets: V1Secret[] = NAMESPACES.map((namespace) => ({
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    metadata: { name: "scale-tls", namespace },
    stringData: { "tls.crt": server.certPem, "tls.key": server.keyPem },
  }));
  // Each Ingress with its own Service and host, tls: on.
  const ingresses: V1Ingress[] = Array.from({ length: SERVICES }, (_, i) => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: `svc-${i}`, namespace: NAMESPACES[i % NAMESPACES.length]! },
    spec: {
      ingressClassName: "nginx",
      tls: [{ hosts: [hostOf(i)], secretName: "scale-tls" }],
      rules: [{ host: hostOf(i), http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: `svc-${i}`, port: { number: 8080 } } } }] } }],
    },
  }));
  const manifests: Manifests = { namespace: NAMESPACES[0]!, namespaces: NAMESPACES, secrets, ingresses, workloads: [], backends: [], hostCertificates: {} };
  target = await new NginxTarget().start({ manifests, workDir: base, reportDir: join(base, "report"), log: () => undefined });
});

afterAll(async () => {
  await target?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

interface Answer {
  host: string;
  status?: number;
  forwardedHost?: string;
  echo?: string;
  error?: string;
}

/** One HTTPS request on a connection of its own, as a probe makes it. */
function ask(host: string, path: string): Promise<Answer> {
  const { address, port } = target.endpointFor(host);
  return new Promise((resolve) => {
    const req = request({ host: address, port, servername: host, path, headers: { host }, ca: caPem, agent: false, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        let forwardedHost: string | undefined;
        try {
          forwardedHost = (JSON.parse(body) as { headers: Record<string, string> }).headers["x-forwarded-host"];
        } catch {
          // Not the echo's JSON: reported as such below.
        }
        resolve({ host, status: res.statusCode, forwardedHost, echo: res.headers["x-echo"] as string | undefined });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ host, error: `${e.code ?? ""} ${e.message}`.trim() }));
    req.end();
  });
}

it(`${SERVICES} Services, ${PER_HOST} requests each, ${CONCURRENCY} at a time: every answer from the echo, no worker_connections warning, health() empty`, { timeout: 120_000 }, async () => {
  // Pass after pass over every host, as a run's scenarios do.
  const jobs = Array.from({ length: PER_HOST }, (_, pass) => Array.from({ length: SERVICES }, (_, i) => ({ host: hostOf(i), path: `/pass-${pass}` }))).flat();
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        answers.push(await ask(job.host, job.path));
      }
    }),
  );
  const wrong = answers.filter((a) => a.error || a.status !== 200 || a.echo !== "mtls-conformance" || a.forwardedHost !== a.host);
  expect(answers).toHaveLength(SERVICES * PER_HOST);
  // Soft: a failure shows the answers, nginx's log and health() together.
  expect.soft({ wrong: wrong.length, first: wrong.slice(0, 3) }).toEqual({ wrong: 0, first: [] });

  await target.collectDiagnostics();
  const errorLog = readFileSync(join(base, "report", "nginx", "error.log"), "utf8");
  const warnings = errorLog.split("\n").filter((l) => l.includes("worker_connections are not enough"));
  expect.soft({ count: warnings.length, first: warnings.slice(0, 2) }).toEqual({ count: 0, first: [] });
  const faults = await target.health!();
  expect.soft({ count: faults.length, first: faults.slice(0, 2) }).toEqual({ count: 0, first: [] });
});
