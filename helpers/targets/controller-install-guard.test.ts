// --install-controller over an existing ingress-nginx: the same release's manifest may be applied
// again; anything else (a Helm release, another version, another controller) is refused.
import { describe, expect, it } from "vitest";
import { helmDeployment, releaseDeployment, releaseLikeManifest } from "../testing/controller-installs.ts";
import { describeInstall, installDifferences, installRefusal, manifestInstall } from "./controller-install-guard.ts";
import { inspectManifest } from "./controller-manifest.ts";

const manifest = manifestInstall(inspectManifest(releaseLikeManifest("1.15.1")).objects, "v1.15.1")!;

describe("telling ingress-nginx installs apart", () => {
  it("reads the manifest's controller Deployment: where, which version, who made it", () => {
    expect(manifest).toEqual({
      namespace: "ingress-nginx",
      name: "ingress-nginx-controller",
      version: "v1.15.1",
      managedBy: undefined,
      chart: undefined,
      selector: { "app.kubernetes.io/component": "controller", "app.kubernetes.io/instance": "ingress-nginx", "app.kubernetes.io/name": "ingress-nginx" },
    });
  });

  it("the same release applied earlier is the same install: applying again is fine", () => {
    expect(installDifferences(describeInstall(releaseDeployment("1.15.1")), manifest)).toEqual([]);
  });

  it("another version of the release manifest is another install", () => {
    expect(installDifferences(describeInstall(releaseDeployment("1.14.5")), manifest)).toEqual(["it runs v1.14.5, the manifest v1.15.1"]);
  });

  it("a Helm release is another install even at the same version and name", () => {
    const helm = describeInstall(helmDeployment({ appVersion: "1.15.1", chartVersion: "4.15.1" }));
    expect(installDifferences(helm, manifest)).toEqual(["it was installed by Helm (chart ingress-nginx-4.15.1), not by the release manifest"]);
  });

  it("a Helm release under another name selects on other labels, which a Deployment cannot change", () => {
    const helm = describeInstall(helmDeployment({ release: "edge", namespace: "edge-system" }));
    const reasons = installDifferences(helm, manifest);
    expect(reasons).toEqual([
      "it is another controller than the manifest's ingress-nginx/ingress-nginx-controller: both would serve the same IngressClass",
      "it runs v1.14.5, the manifest v1.15.1",
      "it was installed by Helm (chart ingress-nginx-4.14.5), not by the release manifest",
      "its spec.selector differs from the manifest's, and a Deployment's selector cannot be changed",
    ]);
    const message = installRefusal(helm, reasons, "v1.15.1");
    expect(message).toContain("Deployment edge-system/edge-ingress-nginx-controller, version v1.14.5, app.kubernetes.io/managed-by: Helm, helm.sh/chart: ingress-nginx-4.14.5");
    expect(message).toContain("Omit --install-controller to test the controller that is there (with --controller-namespace edge-system), or use another cluster.");
  });
});
