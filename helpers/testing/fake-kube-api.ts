// A Kubernetes API server on loopback that answers reads as the real one does (lists with their
// kind and items, objects by namespace and name, 404 Status objects), for the code that reads a
// cluster (the audit). It records every call, so a test can prove nothing was written.
import type { V1Ingress, V1Pod, V1Secret, V1Service } from "@kubernetes/client-node";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface FakeCluster {
  ingresses: V1Ingress[];
  secrets: V1Secret[];
  services?: V1Service[];
  pods?: V1Pod[];
  version?: string;
}

export interface StartedFakeApi {
  url: string;
  calls: Array<{ method: string; path: string }>;
  /** A kubeconfig file (in `dir`) whose current context is this server. */
  kubeconfig: string;
  stop(): Promise<void>;
}

const status = (code: number, message: string, reason: string) => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });

export async function startFakeKubeApi(cluster: FakeCluster, dir: string): Promise<StartedFakeApi> {
  const calls: StartedFakeApi["calls"] = [];
  const send = (res: ServerResponse, code: number, body: unknown) => res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
  const list = (kind: string, apiVersion: string, items: unknown[]) => ({ kind, apiVersion, metadata: { resourceVersion: "1" }, items });
  const ns = (o: { metadata?: { namespace?: string } }) => o.metadata?.namespace ?? "default";

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    calls.push({ method: req.method ?? "", path });
    if (req.method !== "GET") return send(res, 405, status(405, `${req.method} is not allowed here`, "MethodNotAllowed"));
    let m: RegExpExecArray | null;
    if (path === "/version") return send(res, 200, { major: "1", minor: "35", gitVersion: cluster.version ?? "v1.35.0" });
    if (path === "/apis/networking.k8s.io/v1/ingresses") return send(res, 200, list("IngressList", "networking.k8s.io/v1", cluster.ingresses));
    if ((m = /^\/apis\/networking\.k8s\.io\/v1\/namespaces\/([^/]+)\/ingresses$/.exec(path))) {
      return send(res, 200, list("IngressList", "networking.k8s.io/v1", cluster.ingresses.filter((i) => ns(i) === m![1])));
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(path))) {
      const s = cluster.secrets.find((x) => ns(x) === m![1] && x.metadata?.name === m![2]);
      return s ? send(res, 200, s) : send(res, 404, status(404, `secrets "${m[2]}" not found`, "NotFound"));
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)$/.exec(path))) {
      const s = cluster.services?.find((x) => ns(x) === m![1] && x.metadata?.name === m![2]);
      return s ? send(res, 200, s) : send(res, 404, status(404, `services "${m[2]}" not found`, "NotFound"));
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path))) return send(res, 200, list("PodList", "v1", (cluster.pods ?? []).filter((p) => ns(p) === m![1])));
    return send(res, 404, status(404, `the server could not find the requested resource (${path})`, "NotFound"));
  };

  const server: Server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "${url}", insecure-skip-tls-verify: true } }]
users: [{ name: auditor, user: { token: read-only } }]
contexts: [{ name: fake, context: { cluster: fake, user: auditor } }]
current-context: fake
`,
  );
  return { url, calls, kubeconfig, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
