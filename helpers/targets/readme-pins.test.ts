// The README's pins are the code's: every k3s image, controller release and Traefik version the
// README names for the k3s path is read from it and compared with what the code picks.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { k3sImageFor, kubernetesOfK3sImage } from "./compatibility.ts";
import { DEFAULT_CONTROLLER_VERSION } from "./controller-manifest.ts";
import { DEFAULT_K3S_IMAGE } from "./defaults.ts";
import { K3S_PACKAGED_TRAEFIK, packagedTraefikProblem, TRAEFIK_IMAGE, TRAEFIK_K3S_IMAGE, TRAEFIK_VERSION } from "./traefik-controller.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("the README's pins, read from the code", () => {
  it("the --k3s-image default per controller line is the image compatibility.ts picks", () => {
    const row = README.split("\n").find((l) => l.startsWith("| `--k3s-image IMAGE` |"))!;
    const pairs = [...row.matchAll(/`(v[\d.]+-k3s\d+)` for (v\d+\.\d+)\.x/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(pairs.length).toBeGreaterThanOrEqual(3);
    for (const [image, line] of pairs) expect(k3sImageFor(`${line}.0`, DEFAULT_K3S_IMAGE), `${line}.x`).toBe(`rancher/k3s:${image}`);
  });

  it("the Kubernetes of each release the README's commands name is the one its k3s image runs", () => {
    const said = [...README.matchAll(/k3s (1\.\d+) for (v1\.\d+\.\d+)/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(said.length).toBeGreaterThan(0);
    for (const [kubernetes, release] of said) expect(kubernetesOfK3sImage(k3sImageFor(release, DEFAULT_K3S_IMAGE)), release).toBe(kubernetes);
  });

  it("the default controller release, the Traefik pins and what each named k3s packages", () => {
    expect(README).toContain(`\`--controller-version V[,V…]\` | ingress-nginx release(s) for k3s (\`--install-controller\` on a cluster); default \`${DEFAULT_CONTROLLER_VERSION}\``);
    expect(README).toContain(`pins the image to \`${TRAEFIK_IMAGE}\``);
    expect(README).toContain(`The k3s image is \`${TRAEFIK_K3S_IMAGE}\`, whose packaged chart is a Traefik v3.7`);
    expect(TRAEFIK_IMAGE.endsWith(TRAEFIK_VERSION)).toBe(true);
    for (const m of README.matchAll(/k3s (v1\.\d+\.\d+-k3s\d+) packages (?:Traefik )?(v3\.\d+\.\d+)/g)) expect(K3S_PACKAGED_TRAEFIK[m[1]!], m[1]).toBe(m[2]);
    // The README's example of a refused --k3s-image is refused.
    for (const m of README.matchAll(/(v1\.\d+\.\d+-k3s\d+) (v3\.\d+\.\d+)\)/g)) expect(packagedTraefikProblem(`rancher/k3s:${m[1]}`), m[1]).toBeDefined();
  });
});
