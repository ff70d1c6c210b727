// The two checks a Policy with spec.ingressMTLS goes through in F5 NGINX Ingress Controller v5.5.4,
// as JSON schemas run with ajv:
//  (a) the CRD's openAPIV3Schema, which the API server applies when the object is written: types
//      only, no enum, pattern, minimum or required on ingressMTLS
//      (nginx/kubernetes-ingress@v5.5.4:config/crd/bases/k8s.nginx.org_policies.yaml:545-568; the Go
//      type is +kubebuilder:validation:Optional, pkg/apis/configuration/v1/types.go:758). A
//      translated Policy failing it is a bug of the translation: the API server would refuse it.
//  (b) the controller's own ValidatePolicy (pkg/apis/configuration/validation/policy.go:364-374,
//      870-882): the API server accepts such a Policy, the controller marks it invalid, and every
//      Ingress naming it renders `return 500;` (internal/configs/policy.go:1228-1233).
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

/** k8s.io/apimachinery IsDNS1123Subdomain: lower-case RFC 1123 labels joined by dots, at most 253 characters. */
export const DNS1123_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
export const isDns1123Subdomain = (s: string): boolean => s.length <= 253 && new RegExp(DNS1123_SUBDOMAIN).test(s);

/** The verifyClient values the controller accepts (policy.go:870-875); "" means the default "on". */
export const VERIFY_CLIENT_VALUES = ["on", "off", "optional", "optional_no_ca"] as const;

/** (a) The CRD's schema of a Policy, reduced to what concerns ingressMTLS (k8s.nginx.org_policies.yaml:34-56, 545-568). */
export const POLICY_CRD_SCHEMA = {
  type: "object",
  properties: {
    apiVersion: { type: "string" }, // :34-40
    kind: { type: "string" }, // :41-48
    metadata: { type: "object" }, // :49-50
    spec: {
      type: "object", // :51-56
      properties: {
        ingressClassName: { type: "string" }, // :541-544
        ingressMTLS: {
          type: "object", // :568
          properties: {
            clientCertSecret: { type: "string" }, // :549-555
            crlFileName: { type: "string" }, // :556-559
            verifyClient: { type: "string" }, // :560-563
            verifyDepth: { type: "integer" }, // :564-567
          },
        },
      },
    },
  },
} as const;

// The spec fields a Policy may set; exactly one of them (policy.go:169-197).
const OTHER_POLICY_FIELDS = ["accessControl", "rateLimit", "jwt", "basicAuth", "egressMTLS", "oidc", "waf", "apiKey", "cache", "cors", "externalAuth"];

/** (b) What the controller's ValidatePolicy requires of an ingressMTLS Policy. */
export const POLICY_CONTROLLER_SCHEMA = {
  type: "object",
  required: ["spec"],
  properties: {
    spec: {
      type: "object",
      required: ["ingressMTLS"],
      // "must specify exactly one of: ..." (policy.go:191-197)
      not: { anyOf: OTHER_POLICY_FIELDS.map((f) => ({ required: [f] })) },
      properties: {
        ingressMTLS: {
          type: "object",
          // policy.go:365-367: clientCertSecret is required (an empty string counts as absent).
          required: ["clientCertSecret"],
          properties: {
            // policy.go:368 validateSecretName -> IsDNS1123Subdomain (validation/common.go:199-214).
            clientCertSecret: { type: "string", minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN },
            // policy.go:369, 870-882: empty is allowed, anything else must be one of the four.
            verifyClient: { type: "string", enum: ["", ...VERIFY_CLIENT_VALUES] },
            // policy.go:370-372 -> validatePositiveIntOrZero (virtualserver.go:294-299).
            verifyDepth: { type: "integer", minimum: 0 },
            // crlFileName: the validator never reads it.
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const crd: ValidateFunction = ajv.compile(POLICY_CRD_SCHEMA);
const controller: ValidateFunction = ajv.compile(POLICY_CONTROLLER_SCHEMA);

const describe = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${e.instancePath || "(policy)"} ${e.message ?? e.keyword}${e.keyword === "enum" ? `: ${(e.params as { allowedValues: string[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}` : ""}`);

/** (a) The CRD schema's errors (empty: the API server accepts the object). */
export function crdSchemaErrors(policy: unknown): string[] {
  return crd(policy) ? [] : describe(crd.errors);
}

/** (b) The controller's validation errors (empty: the Policy is Valid; otherwise it is rejected as invalid). */
export function controllerValidationErrors(policy: unknown): string[] {
  return controller(policy) ? [] : describe(controller.errors);
}
