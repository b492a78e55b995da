/**
 * Chart tests without a cluster or helm: render charts/enclave with the Go template + sprig
 * renderer (tests/render, built by tests/render/build.sh from Debian's Go packages; .ci/run
 * builds it) for the default values and every value set, then check the manifests: restricted
 * security, probes, labels, NetworkPolicy, Secret wiring, checksum annotations, image
 * references, the engine configuration the pod will read, values.schema.json, and (when
 * tests/kube has been installed: `npm ci --prefix charts/enclave/tests/kube`) the Kubernetes
 * schemas of every manifest, offline.
 *
 * Skips with a message when the renderer is not built, so `npm test` needs neither Go nor Docker.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { loadConfig } from "../../../lib/config/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const chartDir = path.resolve(here, "..");
const repoDir = path.resolve(chartDir, "../..");
const renderer = process.env.ENCLAVE_RENDER_BIN ?? path.join(here, "render", "enclave-render");
const haveRenderer = existsSync(renderer);
const kubeModels = path.join(here, "kube", "node_modules", "kubernetes-models");
const haveKubeModels = existsSync(kubeModels);

if (!haveRenderer) {
  console.warn(
    `chart tests SKIPPED: no renderer at ${renderer}. Build it with ` +
      "`bash charts/enclave/tests/render/build.sh` (needs Debian's golang-go, " +
      "golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v3-dev); .ci/run does.",
  );
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Rendered {
  docs: Obj[];
  /** template file each document came from */
  sources: string[];
}

function render(args: string[]): Rendered {
  const out = execFileSync(renderer, ["-chart", chartDir, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 30_000,
  });
  const docs: Obj[] = [];
  for (const doc of parseAllDocuments(out)) {
    if (doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as Obj | null;
    if (value) docs.push(value);
  }
  // The renderer writes one "# Source: FILE" line before each document.
  const sources = [...out.matchAll(/^# Source: (\S+)$/gm)].map((m) => m[1]!);
  expect(sources).toHaveLength(docs.length);
  return { docs, sources };
}

function renderFails(args: string[]): string {
  const r = spawnSync(renderer, ["-chart", chartDir, ...args], { encoding: "utf8", timeout: 30_000 });
  expect(r.status, "the render should fail").not.toBe(0);
  expect(r.stdout, "nothing is printed when the render fails").toBe("");
  return r.stderr;
}

const one = (r: Rendered, kind: string, nameSuffix = ""): Obj => {
  const found = r.docs.filter((d) => d.kind === kind && String(d.metadata?.name).endsWith(nameSuffix));
  expect(found, `${kind}${nameSuffix ? ` *${nameSuffix}` : ""}`).toHaveLength(1);
  return found[0]!;
};
const maybe = (r: Rendered, kind: string): Obj | undefined => r.docs.find((d) => d.kind === kind);

const TOKEN = "unit-test-admin-token-0123456789abcdef";
const valueSets: Record<string, string[]> = {
  "defaults + token": ["-set", `auth.adminToken=${TOKEN}`],
};
for (const file of readdirSync(path.join(chartDir, "ci"))
  .filter((f) => f.endsWith("-values.yaml"))
  .sort()) {
  valueSets[`ci/${file}`] = ["-f", path.join(chartDir, "ci", file)];
}
valueSets["tests/values/mirror-digest-values.yaml"] = [
  "-f",
  path.join(here, "values", "mirror-digest-values.yaml"),
];

function valuesOf(args: string[]): Obj {
  let values = parseYaml(readFileSync(path.join(chartDir, "values.yaml"), "utf8")) as Obj;
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === "-f") values = merge(values, parseYaml(readFileSync(args[i + 1]!, "utf8")) as Obj);
    if (args[i] === "-set") {
      const [key, value] = args[i + 1]!.split(/=(.*)/s) as [string, string];
      const patch: Obj = {};
      let at = patch;
      const parts = key.split(".");
      parts.slice(0, -1).forEach((p) => (at = at[p] = {}));
      at[parts.at(-1)!] = value;
      values = merge(values, patch);
    }
  }
  return values;
}

function merge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    if (v === null) delete out[k];
    else if (isPlain(v) && isPlain(out[k])) out[k] = merge(out[k], v);
    else out[k] = v;
  }
  return out;
}
const isPlain = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

let tmp = "";
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "enclave-chart-test-"));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!haveRenderer)("chart: renders", () => {
  // (A skipped describe still runs its body to collect the tests: render nothing then.)
  if (!haveRenderer) {
    it("needs the renderer (tests/render/build.sh)", () => undefined);
    return;
  }

  it("refuses to render without an admin token, and with both token sources", () => {
    expect(renderFails([])).toMatch(/auth\.adminToken is required/);
    expect(renderFails(["-set", "auth.adminToken=short"])).toMatch(/at least 16 characters/);
    expect(renderFails(["-set", `auth.adminToken=${TOKEN}`, "-set", "auth.existingSecret=x"])).toMatch(
      /both set/,
    );
  });

  describe.each(Object.entries(valueSets))("%s", (name, args) => {
    const values = valuesOf(args);
    const r = render(args);
    const sts = one(r, "StatefulSet");
    const pod = sts.spec.template.spec as Obj;
    const engine = (pod.containers as Obj[]).find((c) => c.name === "enclave")!;
    const chartObjects = r.docs.filter((_d, i) => !r.sources[i]!.endsWith("extra-objects.yaml"));

    it("labels every object with app.kubernetes.io/* and namespaces it", () => {
      for (const d of chartObjects) {
        const labels = d.metadata.labels ?? {};
        for (const key of ["name", "instance", "version", "component", "part-of", "managed-by"]) {
          expect(labels[`app.kubernetes.io/${key}`], `${d.kind}/${d.metadata.name} ${key}`).toBeTruthy();
        }
        expect(labels["helm.sh/chart"]).toMatch(/^enclave-\d+\.\d+\.\d+/);
        expect(d.metadata.namespace).toBe("default");
      }
    });

    it("runs one replica with a selector matching its pod and Service", () => {
      expect(sts.spec.replicas).toBe(1);
      const selector = sts.spec.selector.matchLabels;
      for (const [k, v] of Object.entries(selector)) expect(sts.spec.template.metadata.labels[k]).toBe(v);
      expect(one(r, "Service", "-enclave").spec.selector).toEqual(selector);
      expect(one(r, "Service", "-headless").spec.clusterIP).toBe("None");
      expect(sts.spec.serviceName).toBe(one(r, "Service", "-headless").metadata.name);
      expect(one(r, "Service", "-enclave").spec.ports[0]).toMatchObject({
        targetPort: "http",
        protocol: "TCP",
      });
    });

    it("applies the restricted pod security standard", () => {
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers as Obj[]) {
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        });
        expect(c.securityContext.privileged ?? false).toBe(false);
        expect(c.securityContext.capabilities.add ?? []).toEqual([]);
      }
      expect(pod.hostNetwork ?? false).toBe(false);
      expect(pod.hostPID ?? false).toBe(false);
    });

    it("probes /health (startup, liveness) and /health/ready (readiness) on the http port", () => {
      expect(engine.ports).toEqual([{ name: "http", containerPort: 6420, protocol: "TCP" }]);
      expect(engine.startupProbe.httpGet).toEqual({ path: "/health", port: "http" });
      expect(engine.livenessProbe.httpGet).toEqual({ path: "/health", port: "http" });
      expect(engine.readinessProbe.httpGet).toEqual({ path: "/health/ready", port: "http" });
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30);
    });

    it("writes only /data and /tmp, reads config from /etc/enclave and the token from a Secret", () => {
      const mounts = Object.fromEntries((engine.volumeMounts as Obj[]).map((m) => [m.mountPath, m]));
      expect(Object.keys(mounts).sort()).toEqual([
        "/data",
        "/etc/enclave",
        "/tmp",
        "/var/run/secrets/enclave",
      ]);
      expect(mounts["/etc/enclave"].readOnly).toBe(true);
      expect(mounts["/var/run/secrets/enclave"].readOnly).toBe(true);
      const volumes = Object.fromEntries((pod.volumes as Obj[]).map((v) => [v.name, v]));
      const cm = one(r, "ConfigMap");
      expect(volumes[mounts["/etc/enclave"].name].configMap.name).toBe(cm.metadata.name);

      const secretVolume = volumes[mounts["/var/run/secrets/enclave"].name].secret;
      const secretName = values.auth.existingSecret || sts.metadata.name;
      const secretKey = values.auth.existingSecret ? values.auth.existingSecretKey : "admin-token";
      expect(secretVolume.secretName).toBe(secretName);
      expect(secretVolume.items).toEqual([{ key: secretKey, path: "admin-token" }]);
      expect(secretVolume.defaultMode & 0o007).toBe(0); // not world-readable
      const secret = r.docs.find((d) => d.kind === "Secret" && d.metadata.name === secretName);
      if (values.auth.existingSecret) {
        // Not managed by the chart (ci values create it through extraObjects).
        expect(r.sources[r.docs.indexOf(secret!)] ?? "extra").not.toMatch(/secret\.yaml$/);
      } else {
        expect(Buffer.from(secret!.data[secretKey], "base64").toString()).toBe(values.auth.adminToken);
        expect(JSON.stringify(cm)).not.toContain(values.auth.adminToken);
        expect(JSON.stringify(sts)).not.toContain(values.auth.adminToken);
      }

      // The data volume: the claim template, an existing claim, or (persistence off) emptyDir.
      if (values.persistence.existingClaim) {
        expect(volumes.data.persistentVolumeClaim.claimName).toBe(values.persistence.existingClaim);
        expect(sts.spec.volumeClaimTemplates).toBeUndefined();
      } else if (values.persistence.enabled) {
        expect(volumes.data).toBeUndefined();
        const [claim] = sts.spec.volumeClaimTemplates;
        expect(claim.metadata.name).toBe("data");
        expect(claim.spec.resources.requests.storage).toBe(values.persistence.size);
      } else {
        expect(volumes.data.emptyDir).toBeDefined();
      }
    });

    it("gives the engine a configuration it accepts (the engine's own loader)", () => {
      const dir = path.join(tmp, name.replace(/\W+/g, "-"));
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const cm = one(r, "ConfigMap");
      for (const [file, text] of Object.entries(cm.data as Record<string, string>)) {
        writeFileSync(path.join(dir, file), text);
      }
      const chartConfig = parseYaml(cm.data["00-chart.yaml"]) as Obj;
      expect(chartConfig.auth.adminTokenFile).toBe("/var/run/secrets/enclave/admin-token");
      expect(chartConfig.storage.fileSystem.path).toBe("/data");
      expect(chartConfig.gateway.port).toBe(6420);
      writeFileSync(path.join(tmp, "token"), "x".repeat(32));
      const { config } = loadConfig({
        configPaths: [dir],
        env: {},
        overrides: { auth: { adminTokenFile: path.join(tmp, "token") } },
      });
      expect(config.storage.fileSystem.path).toBe("/data");
      for (const [section, settings] of Object.entries((values.config ?? {}) as Obj)) {
        expect((config as Obj)[section]).toMatchObject(settings);
      }
    });

    it("denies egress unless allowed, and allows only port 6420 in", () => {
      const np = one(r, "NetworkPolicy");
      expect(np.spec.podSelector.matchLabels).toEqual(sts.spec.selector.matchLabels);
      expect(np.spec.policyTypes).toEqual(["Ingress", "Egress"]);
      expect(np.spec.ingress).toHaveLength(1);
      expect(np.spec.ingress[0].ports).toEqual([{ port: "http", protocol: "TCP" }]);
      const egress = np.spec.egress as Obj[];
      const expected = (values.networkPolicy.allowDNS ? 1 : 0) + values.networkPolicy.extraEgress.length;
      expect(egress).toHaveLength(expected);
      if (values.networkPolicy.allowDNS) {
        expect(egress[0]!.ports).toEqual([
          { port: 53, protocol: "UDP" },
          { port: 53, protocol: "TCP" },
        ]);
        expect(egress[0]!.to[0].podSelector.matchLabels).toEqual({ "k8s-app": "kube-dns" });
      }
      if (values.networkPolicy.ingressFrom.length) {
        const from = np.spec.ingress[0].from as Obj[];
        expect(from).toHaveLength(values.networkPolicy.ingressFrom.length + 1);
        // The helm test pod stays allowed in.
        const testPod = one(r, "Pod");
        const last = from.at(-1)!.podSelector.matchLabels as Record<string, string>;
        for (const [k, v] of Object.entries(last)) expect(testPod.metadata.labels[k]).toBe(v);
      } else {
        expect(np.spec.ingress[0].from).toBeUndefined();
      }
    });

    it("uses image references from global.imageRegistry, the tag or the digest", () => {
      const images = new Set(
        r.docs.flatMap((d) => {
          const spec = d.kind === "Pod" ? d.spec : d.spec?.template?.spec;
          return spec
            ? [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c: Obj) => c.image)
            : [];
        }),
      );
      const registry = values.global.imageRegistry || values.image.registry;
      const repo = registry ? `${registry}/${values.image.repository}` : values.image.repository;
      const appVersion = (parseYaml(readFileSync(path.join(chartDir, "Chart.yaml"), "utf8")) as Obj)
        .appVersion;
      const want = values.image.digest
        ? `${repo}@${values.image.digest}`
        : `${repo}:${values.image.tag || appVersion}`;
      expect([...images]).toEqual([want]);
      if (values.image.digest) expect(want).toMatch(/^[^@]+@sha256:[a-f0-9]{64}$/);
      const pullSecrets = [...values.global.imagePullSecrets, ...values.imagePullSecrets];
      expect(pod.imagePullSecrets ?? []).toEqual(pullSecrets);
    });

    it("has a helm test hook pod with the same image and security", () => {
      if (!values.tests.enabled) return;
      const test = one(r, "Pod");
      expect(test.metadata.annotations["helm.sh/hook"]).toBe("test");
      expect(test.spec.restartPolicy).toBe("Never");
      expect(test.spec.containers[0].image).toBe(engine.image);
      expect(test.spec.containers[0].securityContext).toEqual(engine.securityContext);
      expect(test.spec.securityContext).toEqual(pod.securityContext);
      const env = Object.fromEntries((test.spec.containers[0].env as Obj[]).map((e) => [e.name, e]));
      expect(env.ENCLAVE_TOKEN.valueFrom.secretKeyRef).toEqual(secretRef(values, sts));
      const script = test.spec.containers[0].command.join("\n");
      expect(script).toContain("--profile");
      expect(script).toContain("/health/ready");
    });

    it("has a PodDisruptionBudget for the pod when enabled", () => {
      const pdb = maybe(r, "PodDisruptionBudget");
      if (!values.podDisruptionBudget.enabled) return expect(pdb).toBeUndefined();
      expect(pdb!.spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels);
      expect(pdb!.spec.maxUnavailable).toBe(values.podDisruptionBudget.maxUnavailable);
    });

    it.skipIf(!haveKubeModels)(
      "validates every manifest against the Kubernetes schemas (offline)",
      async () => {
        for (const d of r.docs) {
          const [group, version] = String(d.apiVersion).includes("/")
            ? d.apiVersion.split("/")
            : ["", d.apiVersion];
          const file = path.join(kubeModels, group ? group : "", version, `${d.kind}.js`);
          expect(existsSync(file), `a model for ${d.apiVersion} ${d.kind}`).toBe(true);
          const Model = (await import(pathToFileURL(file).href))[d.kind];
          expect(() => new Model(d).validate(), `${d.kind}/${d.metadata.name}`).not.toThrow();
        }
      },
    );
  });

  it("rolls the pod when the token, the secret source or the configuration changes", () => {
    const annotations = (args: string[]) =>
      one(render(args), "StatefulSet").spec.template.metadata.annotations as Record<string, string>;
    const base = annotations(["-set", `auth.adminToken=${TOKEN}`]);
    const same = annotations(["-set", `auth.adminToken=${TOKEN}`]);
    const otherToken = annotations(["-set", `auth.adminToken=${TOKEN}x`]);
    const otherSecret = annotations(["-set", "auth.existingSecret=s1"]);
    const otherKey = annotations(["-set", "auth.existingSecret=s1", "-set", "auth.existingSecretKey=k2"]);
    const otherConfig = annotations(["-set", `auth.adminToken=${TOKEN}`, "-set", "config.log.level=debug"]);
    expect(base["checksum/secret"]).toMatch(/^[a-f0-9]{64}$/);
    expect(same).toEqual(base);
    expect(otherToken["checksum/secret"]).not.toBe(base["checksum/secret"]);
    expect(otherToken["checksum/config"]).toBe(base["checksum/config"]);
    expect(otherSecret["checksum/secret"]).not.toBe(base["checksum/secret"]);
    expect(otherKey["checksum/secret"]).not.toBe(otherSecret["checksum/secret"]);
    expect(otherConfig["checksum/config"]).not.toBe(base["checksum/config"]);
    expect(otherConfig["checksum/secret"]).toBe(base["checksum/secret"]);
  });

  it("lists every image it uses in images.txt and Chart.yaml", () => {
    const r = render(["-set", `auth.adminToken=${TOKEN}`]);
    const used = new Set<string>();
    for (const d of r.docs) {
      const spec = d.kind === "Pod" ? d.spec : d.spec?.template?.spec;
      for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) used.add(c.image);
    }
    const listed = readFileSync(path.join(chartDir, "images.txt"), "utf8").split("\n").filter(Boolean);
    expect(listed.sort()).toEqual([...used].sort());
    const chart = parseYaml(readFileSync(path.join(chartDir, "Chart.yaml"), "utf8")) as Obj;
    const annotated = (parseYaml(chart.annotations["artifacthub.io/images"]) as Obj[]).map((i) => i.image);
    expect(annotated.sort()).toEqual(listed.sort());
  });

  it("deploys the engine version of this repository (appVersion = package.json version)", () => {
    const chart = parseYaml(readFileSync(path.join(chartDir, "Chart.yaml"), "utf8")) as Obj;
    const pkg = JSON.parse(readFileSync(path.join(repoDir, "package.json"), "utf8")) as Obj;
    expect(chart.appVersion).toBe(pkg.version);
  });

  it("renders NOTES.txt", () => {
    const notes = execFileSync(renderer, ["-chart", chartDir, "-notes", "-set", `auth.adminToken=${TOKEN}`], {
      encoding: "utf8",
    });
    expect(notes).toContain("http://release-name-enclave.default.svc:6420");
    expect(notes).not.toContain(TOKEN);
  });
});

function secretRef(values: Obj, sts: Obj): Obj {
  return values.auth.existingSecret
    ? { name: values.auth.existingSecret, key: values.auth.existingSecretKey }
    : { name: sts.metadata.name, key: "admin-token" };
}

describe("chart: values.schema.json", () => {
  const schema = JSON.parse(readFileSync(path.join(chartDir, "values.schema.json"), "utf8")) as Obj;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  ajv.addFormat("uri", {
    type: "string",
    validate: (s: string) => URL.canParse(s),
  });
  const validate = ajv.compile(schema);
  const check = (values: Obj) => (validate(values) ? [] : (validate.errors ?? []));

  it("is in step with its generator and the engine's config schema", () => {
    execFileSync(process.execPath, [path.join(here, "values-schema.mjs"), "--check"], { stdio: "pipe" });
    const engine = JSON.parse(
      readFileSync(path.join(repoDir, "schemas/engine-config.schema.json"), "utf8"),
    ) as Obj;
    for (const [key, sub] of Object.entries(schema.properties.config.properties as Obj)) {
      expect(sub, `config.${key}`).toEqual(engine.properties[key]);
    }
    expect(schema.properties.config.additionalProperties).toBe(false);
  });

  it.each(Object.entries(valueSets))("accepts %s", (_name, args) => {
    expect(check(valuesOf(args))).toEqual([]);
  });

  it("accepts the chart's own values.yaml as is", () => {
    expect(check(valuesOf([]))).toEqual([]);
  });

  it("rejects a typo'd key (ci-style values file)", () => {
    const errors = check(valuesOf(["-f", path.join(here, "values", "typo-values.yaml")]));
    expect(errors).toContainEqual(
      expect.objectContaining({
        keyword: "additionalProperties",
        params: { additionalProperty: "persistance" },
      }),
    );
  });

  it.each([
    ["an unknown nested key", { image: { tga: "1" } }],
    ["an unknown engine config key", { config: { actors: { sleepTimeout: 5 } } }],
    [
      "a chart-owned engine config key (auth in the ConfigMap)",
      { config: { auth: { adminToken: "x".repeat(20) } } },
    ],
    ["development mode (a well-known token)", { config: { dev: true } }],
    ["a short admin token", { auth: { adminToken: "short" } }],
    ["a digest that is not sha256:<64 hex>", { image: { digest: "latest" } }],
    ["running as root", { securityContext: { runAsNonRoot: false } }],
    ["privilege escalation", { securityContext: { allowPrivilegeEscalation: true } }],
    ["keeping capabilities", { securityContext: { capabilities: { drop: ["NET_RAW"] } } }],
    ["an unconfined seccomp profile", { podSecurityContext: { seccompProfile: { type: "Unconfined" } } }],
    ["a wrong type", { service: { port: "http" } }],
  ])("rejects %s", (_what, patch) => {
    expect(check(merge(valuesOf([]), patch as Obj)).length).toBeGreaterThan(0);
  });
});
