/* global process, console, URL -- Node.js globals (this file runs under plain node) */
// The source of charts/enclave/values.schema.json (JSON Schema draft-07, which Helm validates
// values against on install, upgrade, lint and template). Strict: every object names its keys
// and rejects others. `config` is the engine's own configuration schema
// (schemas/engine-config.schema.json, generated from lib/config) without the parts the chart
// owns (storage, gateway, auth) and `dev` (a well-known token: never in a cluster), so it
// cannot drift from the engine.
//
//   node charts/enclave/tests/values-schema.mjs           # rewrite values.schema.json
//   node charts/enclave/tests/values-schema.mjs --check   # exit 1 if it is out of date
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const chartDir = fileURLToPath(new URL("..", import.meta.url));
const repoDir = fileURLToPath(new URL("../../..", import.meta.url));
export const schemaPath = `${chartDir}values.schema.json`;

/** Keys of the engine configuration that the chart sets itself, or never allows (dev). */
export const CHART_OWNED_CONFIG_KEYS = ["storage", "gateway", "auth", "dev"];

export function engineConfigSubschema() {
  const engine = JSON.parse(readFileSync(`${repoDir}schemas/engine-config.schema.json`, "utf8"));
  const properties = { ...engine.properties };
  delete properties.$schema;
  for (const key of CHART_OWNED_CONFIG_KEYS) delete properties[key];
  return {
    description:
      "Engine configuration (schemas/engine-config.schema.json) written to /etc/enclave/10-values.yaml. " +
      "The chart sets storage, gateway and auth itself; dev mode is not available.",
    type: "object",
    additionalProperties: false,
    properties,
  };
}

const str = (description, extra = {}) => ({ type: "string", description, ...extra });
const bool = (description) => ({ type: "boolean", description });
const int = (description, extra = {}) => ({ type: "integer", description, ...extra });
const obj = (description, properties, extra = {}) => ({
  type: "object",
  description,
  additionalProperties: false,
  properties,
  ...extra,
});
const stringMap = (description) => ({
  type: "object",
  description,
  additionalProperties: { type: "string" },
});
const pullSecrets = (description) => ({
  type: "array",
  description,
  items: obj(
    "A Secret of type kubernetes.io/dockerconfigjson",
    { name: str("Secret name", { minLength: 1 }) },
    { required: ["name"] },
  ),
});
const quantity = {
  type: ["string", "number"],
  pattern: "^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$",
};
const resourceList = obj("Resource quantities", {
  cpu: quantity,
  memory: quantity,
  "ephemeral-storage": quantity,
});
const probe = (description) =>
  obj(description, {
    initialDelaySeconds: int("Seconds before the first probe", { minimum: 0 }),
    periodSeconds: int("Seconds between probes", { minimum: 1 }),
    timeoutSeconds: int("Seconds before a probe times out", { minimum: 1 }),
    failureThreshold: int("Failures before the probe gives up", { minimum: 1 }),
  });
const seccomp = obj(
  "Seccomp profile",
  {
    type: { enum: ["RuntimeDefault", "Localhost"], description: "Unconfined is not allowed" },
    localhostProfile: str("Profile file on the node (type Localhost)"),
  },
  { required: ["type"] },
);
const anyObject = (description) => ({ type: "object", description });

export function valuesSchema() {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "Values of the enclave chart",
    type: "object",
    additionalProperties: false,
    properties: {
      global: obj("Settings shared with parent charts", {
        imageRegistry: str("Registry prefix for every image (a mirror); wins over image.registry"),
        imagePullSecrets: pullSecrets("Pull secrets for every pod"),
      }),
      nameOverride: str("Replaces the chart name in resource names"),
      fullnameOverride: str("Replaces the full resource name"),
      image: obj(
        "The engine image",
        {
          registry: str("Registry host (and path prefix); empty: none"),
          repository: str("Repository", { minLength: 1 }),
          tag: str("Tag; empty: the chart's appVersion"),
          digest: str("sha256:<64 hex>; when set the image is pulled by digest", {
            pattern: "^(sha256:[a-f0-9]{64})?$",
          }),
          pullPolicy: { enum: ["IfNotPresent", "Always", "Never"], description: "Image pull policy" },
        },
        { required: ["repository"] },
      ),
      imagePullSecrets: pullSecrets("Pull secrets for this chart's pods"),
      auth: obj("The admin token: auth.adminToken or auth.existingSecret", {
        adminToken: str("Admin token, at least 16 characters (stored in a Secret)", {
          pattern: "^(|.{16,})$",
        }),
        existingSecret: str("Existing Secret holding the admin token"),
        existingSecretKey: str("Key of the token in auth.existingSecret", { minLength: 1 }),
      }),
      config: engineConfigSubschema(),
      persistence: obj("The data volume (/data)", {
        enabled: bool("false: an emptyDir, the data dies with the pod"),
        existingClaim: str("Use this PersistentVolumeClaim"),
        storageClass: str('StorageClass of the claim; "-" for none, empty for the default'),
        accessModes: {
          type: "array",
          description: "Access modes of the claim",
          minItems: 1,
          items: { enum: ["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany"] },
        },
        size: { ...quantity, type: "string", description: "Requested size" },
        annotations: stringMap("Annotations of the claim"),
      }),
      service: obj("The Service in front of the engine", {
        type: { enum: ["ClusterIP", "NodePort", "LoadBalancer"], description: "Service type" },
        port: int("Service port", { minimum: 1, maximum: 65535 }),
        annotations: stringMap("Annotations of the Service"),
      }),
      serviceAccount: obj("The pod's ServiceAccount (its token is never mounted)", {
        create: bool("Create one"),
        name: str("Name; empty: the full name (or default when create is false)"),
        annotations: stringMap("Annotations"),
      }),
      podAnnotations: stringMap("Extra pod annotations"),
      podLabels: stringMap("Extra pod labels"),
      podSecurityContext: obj("Pod security context (restricted Pod Security Standard)", {
        runAsNonRoot: { const: true, description: "Always true" },
        runAsUser: int("UID", { minimum: 1 }),
        runAsGroup: int("GID", { minimum: 1 }),
        fsGroup: int("Group owning the volumes", { minimum: 1 }),
        fsGroupChangePolicy: { enum: ["OnRootMismatch", "Always"], description: "When to chown volumes" },
        supplementalGroups: { type: "array", items: { type: "integer", minimum: 1 } },
        seccompProfile: seccomp,
        seLinuxOptions: anyObject("SELinux options"),
        appArmorProfile: anyObject("AppArmor profile"),
        sysctls: { type: "array", items: anyObject("sysctl") },
      }),
      securityContext: obj("Container security context (restricted Pod Security Standard)", {
        runAsNonRoot: { const: true, description: "Always true" },
        runAsUser: int("UID", { minimum: 1 }),
        runAsGroup: int("GID", { minimum: 1 }),
        readOnlyRootFilesystem: bool("The engine writes only /data and /tmp"),
        allowPrivilegeEscalation: { const: false, description: "Always false" },
        privileged: { const: false, description: "Always false" },
        capabilities: obj("Capabilities", {
          drop: {
            type: "array",
            items: { type: "string" },
            contains: { const: "ALL" },
            description: "Must drop ALL",
          },
          add: { type: "array", items: { enum: ["NET_BIND_SERVICE"] }, description: "Only NET_BIND_SERVICE" },
        }),
        seccompProfile: seccomp,
        seLinuxOptions: anyObject("SELinux options"),
        appArmorProfile: anyObject("AppArmor profile"),
      }),
      resources: obj("Requests and limits of the engine container", {
        requests: resourceList,
        limits: resourceList,
      }),
      probes: obj("Probe timings (paths are fixed: /health, /health/ready)", {
        startup: probe("startupProbe on /health"),
        readiness: probe("readinessProbe on /health/ready"),
        liveness: probe("livenessProbe on /health"),
      }),
      terminationGracePeriodSeconds: int("Above the engine's shutdown.timeoutMs", { minimum: 1 }),
      networkPolicy: obj("NetworkPolicy: egress denied unless listed", {
        enabled: bool("Create the NetworkPolicy"),
        allowDNS: bool("Allow DNS to kube-dns"),
        extraEgress: {
          type: "array",
          items: anyObject("NetworkPolicyEgressRule"),
          description: "Extra egress rules",
        },
        ingressFrom: {
          type: "array",
          items: anyObject("NetworkPolicyPeer"),
          description: "Who may reach 6420",
        },
      }),
      podDisruptionBudget: obj("PodDisruptionBudget", {
        enabled: bool("Create it"),
        maxUnavailable: { type: ["integer", "string"], description: "0 blocks voluntary evictions" },
      }),
      nodeSelector: stringMap("Node selector"),
      tolerations: { type: "array", items: anyObject("Toleration"), description: "Tolerations" },
      affinity: anyObject("Affinity"),
      priorityClassName: str("PriorityClass"),
      extraEnv: {
        type: "array",
        description: "Extra environment variables of the engine container",
        items: obj(
          "EnvVar",
          {
            name: str("Name", { minLength: 1 }),
            value: str("Value"),
            valueFrom: anyObject("Source"),
          },
          { required: ["name"] },
        ),
      },
      extraObjects: {
        type: "array",
        items: anyObject("A manifest (rendered with tpl)"),
        description: "Extra manifests",
      },
      tests: obj("The helm test pod", { enabled: bool("Render the helm test pod") }),
    },
  };
}

async function main() {
  const prettier = await import("prettier");
  const options = (await prettier.resolveConfig(schemaPath)) ?? {};
  const text = await prettier.format(JSON.stringify(valuesSchema()), { ...options, parser: "json" });
  if (process.argv.includes("--check")) {
    const current = JSON.parse(readFileSync(schemaPath, "utf8"));
    if (JSON.stringify(current) !== JSON.stringify(valuesSchema())) {
      console.error("values.schema.json is out of date: run node charts/enclave/tests/values-schema.mjs");
      process.exit(1);
    }
    return;
  }
  writeFileSync(schemaPath, text);
  console.log(`wrote ${schemaPath}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
