import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import {
  configPathsFrom,
  envOverrides,
  loadConfig,
  readConfigFile,
  redactConfig,
  REDACTED,
  type LoadConfigOptions,
} from "./load.js";
import { EngineConfigSchema } from "./schema.js";
import { envVarName, leaves } from "./schema-tree.js";

let dir: string;
/** Where the default `/etc/enclave` is pointed in tests: absent unless a test creates it. */
let noDefaultDir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "enclave-config-"));
  noDefaultDir = path.join(dir, "no-such-etc-enclave");
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** Runs `fn`, expects a ConfigError, returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

const load = (opts: LoadConfigOptions = {}) =>
  loadConfig({ env: {}, defaultConfigDir: noDefaultDir, ...opts });

describe("readConfigFile", () => {
  it.each([
    ["a.json", `{"gateway": {"port": 7001}}`],
    ["a.jsonc", `// comment\n{\n  /* block */ "gateway": {"port": 7001,}, // trailing\n}\n`],
    ["a.json5", `{gateway: {port: 7001, host: 'localhost'}}`],
    ["a.yaml", `# comment\ngateway:\n  port: 7001\n`],
    ["a.yml", `gateway: {port: 7001}\n`],
    ["A.YAML", `gateway:\n  port: 7001\n`],
  ])("reads %s", (name, text) => {
    expect(readConfigFile(write(name, text)).gateway?.port).toBe(7001);
  });

  it("reads an empty file as an empty configuration", () => {
    expect(readConfigFile(write("empty.yaml", ""))).toEqual({});
    expect(readConfigFile(write("empty.json", "\n"))).toEqual({});
  });

  it("allows and drops a top-level $schema key", () => {
    const file = write("s.json", `{"$schema": "../schemas/engine-config.schema.json", "dev": true}`);
    expect(readConfigFile(file)).toEqual({ dev: true });
  });

  it("reports a value out of range with the file and a JSON pointer", () => {
    const file = write("a.yaml", "gateway:\n  port: 70000\n");
    const err = configError(() => readConfigFile(file));
    expect(err.message).toBe(`config file ${file}: /gateway/port must be <= 65535`);
    expect(err.issues).toEqual([
      { path: "/gateway/port", message: "/gateway/port must be <= 65535", source: `config file ${file}` },
    ]);
  });

  it("reports an unknown key with its path", () => {
    const file = write("a.yaml", "gateway:\n  prt: 1\n");
    const err = configError(() => readConfigFile(file));
    expect(err.issues[0]?.path).toBe("/gateway/prt");
    expect(err.message).toContain(`config file ${file}: unknown key "prt" at /gateway`);
    expect(err.message).toContain("known keys: host, port");
  });

  it("reports an unknown top-level key", () => {
    const err = configError(() => readConfigFile(write("a.json", `{"gatway": {}}`)));
    expect(err.issues[0]?.path).toBe("/gatway");
    expect(err.message).toContain(`unknown key "gatway" at /`);
  });

  it("reports a wrong type with its path, and every problem at once", () => {
    const file = write(
      "a.json",
      `{"gateway": {"port": "6420"}, "metrics": {"enabled": "yes"}, "log": {"level": "loud"}}`,
    );
    const err = configError(() => readConfigFile(file));
    const messages = err.issues.map((i) => i.message);
    expect(messages).toContain("/gateway/port must be an integer");
    expect(messages).toContain("/metrics/enabled must be a boolean (true or false)");
    expect(messages.find((m) => m.startsWith("/log/level must be one of"))).toContain('"info"');
  });

  it("rejects a top level that is not an object", () => {
    const err = configError(() => readConfigFile(write("a.yaml", "- 1\n- 2\n")));
    expect(err.message).toContain("the top level must be an object");
  });

  it("reports syntax errors without a stack", () => {
    const json = write("bad.json", `{"gateway": {"port": 1,,}}`);
    expect(configError(() => readConfigFile(json)).message).toMatch(
      new RegExp(`^config file ${json}: cannot parse JSON: .*1:`),
    );
    const yaml = write("bad.yaml", "gateway:\n  port: 1\n port: 2\n");
    expect(configError(() => readConfigFile(yaml)).message).toMatch(/cannot parse YAML: .*line/);
    const dup = write("dup.yaml", "gateway:\n  port: 1\n  port: 2\n");
    expect(configError(() => readConfigFile(dup)).message).toContain("cannot parse YAML");
  });

  it("does not echo file contents (a secret) in a YAML syntax error", () => {
    const secret = "s3cr3t-token-value-0123456789";
    const file = write("bad.yaml", `auth:\n  adminToken: ${secret}\n   bad: [\n`);
    expect(configError(() => readConfigFile(file)).message).not.toContain(secret);
  });

  it("rejects an unsupported extension and a missing file", () => {
    expect(configError(() => readConfigFile(write("a.toml", ""))).message).toContain(
      'unsupported file type ".toml"',
    );
    const missing = path.join(dir, "missing.yaml");
    expect(configError(() => readConfigFile(missing)).message).toBe(
      `config file ${missing}: cannot read: no such file or directory`,
    );
  });

  it("checks URLs", () => {
    const file = write("a.yaml", "telemetry:\n  otel:\n    endpoint: not a url\n");
    expect(configError(() => readConfigFile(file)).message).toContain(
      "/telemetry/otel/endpoint must be a valid URL",
    );
  });
});

describe("configPathsFrom", () => {
  it("expands a directory to its config files in lexical order", () => {
    const d = path.join(dir, "conf.d");
    write("conf.d/20-b.yaml", "");
    write("conf.d/10-a.json", "");
    write("conf.d/30-c.json5", "");
    write("conf.d/README.md", "");
    write("conf.d/.hidden.yaml", "");
    write("conf.d/sub/40-d.yaml", "");
    mkdirSync(path.join(d, "dir.yaml"));
    expect(configPathsFrom({ configPaths: [d], env: {} })).toEqual([
      path.join(d, "10-a.json"),
      path.join(d, "20-b.yaml"),
      path.join(d, "30-c.json5"),
    ]);
  });

  it("follows symlinks (a mounted Kubernetes ConfigMap)", () => {
    const d = path.join(dir, "cm");
    write("cm/..2024_01_01/config.yaml", "gateway: {port: 7100}\n");
    symlinkSync("..2024_01_01", path.join(d, "..data"));
    symlinkSync("..data/config.yaml", path.join(d, "config.yaml"));
    expect(configPathsFrom({ configPaths: [d], env: {} })).toEqual([path.join(d, "config.yaml")]);
    expect(load({ configPaths: [d] }).config.gateway.port).toBe(7100);
  });

  it("keeps --config paths in order, files and directories", () => {
    const a = write("a.yaml", "");
    write("d/1.yaml", "");
    const b = write("b.json", "");
    expect(configPathsFrom({ configPaths: [b, path.join(dir, "d"), a], env: {} })).toEqual([
      b,
      path.join(dir, "d", "1.yaml"),
      a,
    ]);
  });

  it("reads ENCLAVE_CONFIG_PATH (several paths) when --config is not given", () => {
    const a = write("a.yaml", "");
    const b = write("b.yaml", "");
    const env = { ENCLAVE_CONFIG_PATH: [b, a].join(path.delimiter) };
    expect(configPathsFrom({ env })).toEqual([b, a]);
    expect(configPathsFrom({ env, configPaths: [] })).toEqual([b, a]);
    // --config wins
    expect(configPathsFrom({ env, configPaths: [a] })).toEqual([a]);
  });

  it("falls back to the default directory only if it exists", () => {
    expect(configPathsFrom({ env: {}, defaultConfigDir: noDefaultDir })).toEqual([]);
    const etc = path.join(dir, "etc-enclave");
    write("etc-enclave/config.yaml", "");
    expect(configPathsFrom({ env: {}, defaultConfigDir: etc })).toEqual([path.join(etc, "config.yaml")]);
    expect(configPathsFrom({ env: { ENCLAVE_CONFIG_PATH: "" }, defaultConfigDir: etc })).toHaveLength(1);
  });

  it("errors on a named path that does not exist, naming where it came from", () => {
    const missing = path.join(dir, "nope.yaml");
    const err = configError(() => configPathsFrom({ configPaths: [missing], env: {} }));
    expect(err.message).toBe(`--config: ${missing} does not exist`);
    const err2 = configError(() => configPathsFrom({ env: { ENCLAVE_CONFIG_PATH: missing } }));
    expect(err2.message).toBe(`ENCLAVE_CONFIG_PATH: ${missing} does not exist`);
  });
});

describe("envOverrides", () => {
  it("maps UPPER_SNAKE and exact segments to keys and coerces by type", () => {
    expect(
      envOverrides({
        ENCLAVE__GATEWAY__PORT: "7000",
        ENCLAVE__storage__fileSystem__path: "/data",
        ENCLAVE__ACTORS__SLEEP_TIMEOUT_MS: "1000",
        ENCLAVE__METRICS__ENABLED: "1",
        ENCLAVE__AIRGAP__ENFORCE: "FALSE",
        ENCLAVE__AIRGAP__ALLOW: "db.internal:5432, otel.internal:4318",
        ENCLAVE__LOG__LEVEL: "debug",
        ENCLAVE__DEV: "true",
      }),
    ).toEqual({
      gateway: { port: 7000 },
      storage: { fileSystem: { path: "/data" } },
      actors: { sleepTimeoutMs: 1000 },
      metrics: { enabled: true },
      airgap: { enforce: false, allow: ["db.internal:5432", "otel.internal:4318"] },
      log: { level: "debug" },
      dev: true,
    });
  });

  it("accepts a JSON array and an empty list", () => {
    expect(envOverrides({ ENCLAVE__AIRGAP__ALLOW: '["a:1","b,c:2"]' })).toEqual({
      airgap: { allow: ["a:1", "b,c:2"] },
    });
    expect(envOverrides({ ENCLAVE__AIRGAP__ALLOW: "" })).toEqual({ airgap: { allow: [] } });
  });

  it("maps every key's documented variable name back to the key", () => {
    for (const { path: keys } of leaves()) {
      const value = envOverrides({ [envVarName(keys)]: "1" });
      let node: unknown = value;
      for (const k of keys) node = (node as Record<string, unknown>)[k];
      expect(node, envVarName(keys)).toBeDefined();
    }
  });

  it("ignores variables that are not ENCLAVE__*", () => {
    expect(
      envOverrides({
        ENCLAVE_ENDPOINT: "http://x",
        ENCLAVE_CONFIG_PATH: "/x",
        PATH: "/bin",
        enclave__dev: "1",
      }),
    ).toEqual({});
  });

  it("errors on an unknown key, naming the variable", () => {
    const err = configError(() => envOverrides({ ENCLAVE__GATEWAY__PRT: "1" }));
    expect(err.message).toBe(
      'environment variable ENCLAVE__GATEWAY__PRT: unknown key "PRT" at gateway (known keys: host, port)',
    );
    expect(err.issues[0]?.path).toBe("gateway.PRT");
    expect(configError(() => envOverrides({ ENCLAVE__NOPE: "1" })).message).toContain(
      'ENCLAVE__NOPE: unknown key "NOPE" at the top level',
    );
    expect(configError(() => envOverrides({ ENCLAVE__GATEWAY__PORT__X: "1" })).message).toContain(
      "ENCLAVE__GATEWAY__PORT__X",
    );
  });

  it("errors on a section, an empty segment and a wrong type", () => {
    expect(configError(() => envOverrides({ ENCLAVE__GATEWAY: "1" })).message).toContain(
      'names the section "gateway", not a key',
    );
    expect(configError(() => envOverrides({ ENCLAVE__GATEWAY____PORT: "1" })).message).toContain(
      "empty name segment",
    );
    expect(configError(() => envOverrides({ ENCLAVE__GATEWAY__PORT: "abc" })).message).toBe(
      'environment variable ENCLAVE__GATEWAY__PORT: expected a number, got "abc"',
    );
    expect(configError(() => envOverrides({ ENCLAVE__METRICS__ENABLED: "yes" })).message).toContain(
      "expected true, false, 1 or 0",
    );
  });

  it("errors when two spellings of one key disagree", () => {
    expect(envOverrides({ ENCLAVE__GATEWAY__PORT: "1", ENCLAVE__gateway__port: "1" })).toEqual({
      gateway: { port: 1 },
    });
    const err = configError(() => envOverrides({ ENCLAVE__GATEWAY__PORT: "1", ENCLAVE__gateway__port: "2" }));
    expect(err.message).toContain("gateway.port");
  });
});

describe("loadConfig", () => {
  it("gives the defaults with no sources", () => {
    const { config, sources } = load();
    expect(config).toEqual(EngineConfigSchema.parse({}));
    expect(config.gateway).toEqual({ host: "0.0.0.0", port: 6420 });
    expect(sources).toEqual([]);
  });

  it("layers defaults < files < environment < overrides", () => {
    const a = write(
      "a.yaml",
      "gateway:\n  port: 7001\n  host: 127.0.0.1\nlog:\n  level: warn\nmetrics:\n  port: 7101\n",
    );
    const b = write("b.json", `{"gateway": {"port": 7002}, "metrics": {"enabled": true}}`);
    const { config, sources, origins } = load({
      configPaths: [a, b],
      env: { ENCLAVE__GATEWAY__PORT: "7003", ENCLAVE__LOG__LEVEL: "debug" },
      overrides: { log: { level: "error" } },
    });
    expect(config.gateway).toEqual({ host: "127.0.0.1", port: 7003 });
    expect(config.metrics).toEqual({ enabled: true, host: "127.0.0.1", port: 7101 });
    expect(config.log.level).toBe("error");
    expect(config.actors.sleepTimeoutMs).toBe(30_000);
    expect(sources).toEqual([a, b, "env:ENCLAVE__GATEWAY__PORT", "env:ENCLAVE__LOG__LEVEL", "options"]);
    expect(origins["gateway.port"]).toBe("environment variable ENCLAVE__GATEWAY__PORT");
    expect(origins["gateway.host"]).toBe(`config file ${a}`);
    expect(origins["log.level"]).toBe("options");
  });

  it("lets the environment override a file", () => {
    const file = write("a.yaml", "storage:\n  fileSystem:\n    path: /from-file\n");
    const { config } = load({
      configPaths: [file],
      env: { ENCLAVE__STORAGE__FILE_SYSTEM__PATH: "/from-env" },
    });
    expect(config.storage.fileSystem.path).toBe("/from-env");
  });

  it("lets overrides beat the environment, ignoring undefined overrides", () => {
    const { config } = load({
      env: { ENCLAVE__GATEWAY__PORT: "7003", ENCLAVE__GATEWAY__HOST: "10.0.0.1" },
      overrides: { gateway: { port: 0, host: undefined } },
    });
    expect(config.gateway).toEqual({ host: "10.0.0.1", port: 0 });
  });

  it("merges a directory of files in lexical order, replacing arrays", () => {
    write("conf.d/10-base.yaml", "gateway:\n  port: 7001\nairgap:\n  allow: [a:1, b:2]\n  enforce: true\n");
    write("conf.d/20-site.json5", "{gateway: {host: 'h'}, airgap: {allow: ['c:3']}}");
    write("conf.d/30-last.jsonc", '{"gateway": {"port": 7003}} // wins');
    const { config, sources } = load({ configPaths: [path.join(dir, "conf.d")] });
    expect(config.gateway).toEqual({ host: "h", port: 7003 });
    expect(config.airgap).toEqual({ enforce: true, allow: ["c:3"] });
    expect(sources.map((s) => path.basename(s))).toEqual(["10-base.yaml", "20-site.json5", "30-last.jsonc"]);
  });

  it("reads files named by ENCLAVE_CONFIG_PATH", () => {
    const a = write("x/a.yaml", "gateway:\n  port: 7001\n");
    const b = write("y/b.yaml", "gateway:\n  port: 7002\n");
    const env = { ENCLAVE_CONFIG_PATH: [a, path.dirname(b)].join(path.delimiter) };
    expect(load({ env }).config.gateway.port).toBe(7002);
  });

  it("reads the default directory when nothing is named", () => {
    const etc = path.join(dir, "etc");
    write("etc/config.yml", "log:\n  level: trace\n");
    expect(load({ defaultConfigDir: etc }).config.log.level).toBe("trace");
  });

  it("errors on a missing named path", () => {
    const missing = path.join(dir, "missing");
    expect(configError(() => load({ configPaths: [missing] })).message).toBe(
      `--config: ${missing} does not exist`,
    );
  });

  it("reports every problem from files and environment together", () => {
    const a = write("a.yaml", "gateway:\n  prt: 1\n");
    const b = write("b.yaml", "metrics:\n  port: -1\n");
    const err = configError(() => load({ configPaths: [a, b], env: { ENCLAVE__LOG__LEVL: "x" } }));
    expect(err.issues.map((i) => i.source)).toEqual([
      `config file ${a}`,
      `config file ${b}`,
      "environment variable ENCLAVE__LOG__LEVL",
    ]);
    expect(err.issues.map((i) => i.path)).toEqual(["/gateway/prt", "/metrics/port", "log.LEVL"]);
  });

  it("reports a bad environment value with the variable and a dotted path", () => {
    const err = configError(() => load({ env: { ENCLAVE__GATEWAY__PORT: "70000" } }));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({
      path: "gateway.port",
      source: "environment variable ENCLAVE__GATEWAY__PORT",
    });
    expect(err.message).toMatch(/^environment variable ENCLAVE__GATEWAY__PORT: gateway\.port: .*65535/);
  });

  it("reports bad overrides, unknown keys included", () => {
    const err = configError(() =>
      load({
        overrides: { gateway: { prt: 1 } } as unknown as LoadConfigOptions["overrides"],
      }),
    );
    expect(err.issues[0]).toMatchObject({ path: "gateway.prt", source: "options" });
    expect(err.message).toContain('unknown key "prt" at gateway');
    const err2 = configError(() => load({ overrides: { gateway: { port: 1.5 } } }));
    expect(err2.issues[0]).toMatchObject({ path: "gateway.port", source: "options" });
  });

  it("rejects an OTLP endpoint without an http(s) scheme", () => {
    const file = write("a.yaml", "telemetry:\n  otel:\n    endpoint: collector:4318\n");
    const err = configError(() => load({ configPaths: [file] }));
    expect(err.issues[0]).toMatchObject({ path: "telemetry.otel.endpoint", source: `config file ${file}` });
    expect(
      load({ env: { ENCLAVE__TELEMETRY__OTEL__ENDPOINT: "http://collector:4318" } }).config.telemetry.otel
        .endpoint,
    ).toBe("http://collector:4318");
  });

  describe("admin token", () => {
    const token = "tok-0123456789abcdef-SECRET";

    it("reads adminTokenFile, trimming the trailing newline", () => {
      const tokenFile = write("secrets/admin-token", `${token}\n`);
      const file = write("a.yaml", `auth:\n  adminTokenFile: ${tokenFile}\n`);
      const { config, sources } = load({ configPaths: [file] });
      expect(config.auth.adminToken).toBe(token);
      expect(config.auth.adminTokenFile).toBe(tokenFile);
      expect(sources).toContain(`adminTokenFile:${tokenFile}`);
    });

    it("reads adminTokenFile from the environment (CRLF too)", () => {
      const tokenFile = write("t", `${token}\r\n`);
      const { config } = load({ env: { ENCLAVE__AUTH__ADMIN_TOKEN_FILE: tokenFile } });
      expect(config.auth.adminToken).toBe(token);
    });

    it("errors clearly on an unreadable or empty token file", () => {
      const missing = path.join(dir, "nope");
      const err = configError(() => load({ env: { ENCLAVE__AUTH__ADMIN_TOKEN_FILE: missing } }));
      expect(err.message).toBe(
        `environment variable ENCLAVE__AUTH__ADMIN_TOKEN_FILE: auth.adminTokenFile: cannot read ${missing}: no such file or directory`,
      );
      const empty = write("empty", "\n");
      expect(configError(() => load({ env: { ENCLAVE__AUTH__ADMIN_TOKEN_FILE: empty } })).message).toContain(
        "is empty",
      );
    });

    it("checks the token read from the file without printing it", () => {
      const tokenFile = write("short", "short-secret\n");
      const err = configError(() => load({ env: { ENCLAVE__AUTH__ADMIN_TOKEN_FILE: tokenFile } }));
      expect(err.issues[0]).toMatchObject({
        path: "auth.adminToken",
        source: `admin token file ${tokenFile}`,
      });
      expect(JSON.stringify(err.issues) + err.message).not.toContain("short-secret");
    });

    it("errors when both adminToken and adminTokenFile are set", () => {
      const tokenFile = write("t", token);
      const file = write("a.yaml", `auth:\n  adminTokenFile: ${tokenFile}\n`);
      const err = configError(() =>
        load({ configPaths: [file], env: { ENCLAVE__AUTH__ADMIN_TOKEN: token } }),
      );
      expect(err.message).toContain("auth.adminToken (from environment variable ENCLAVE__AUTH__ADMIN_TOKEN)");
      expect(err.message).toContain(`auth.adminTokenFile (from config file ${file})`);
      expect(err.message).not.toContain(token);
    });

    it("never leaks the token through redactConfig", () => {
      const tokenFile = write("t", `${token}\n`);
      const { config } = load({ env: { ENCLAVE__AUTH__ADMIN_TOKEN_FILE: tokenFile } });
      const redacted = redactConfig(config);
      expect(JSON.stringify(redacted)).not.toContain(token);
      expect(redacted.auth.adminToken).toBe(REDACTED);
      expect(redacted.auth.adminTokenFile).toBe(tokenFile);
      // a copy: the original keeps the token
      expect(config.auth.adminToken).toBe(token);
    });

    it("leaves an unset secret unset when redacting", () => {
      const { config } = load();
      expect(redactConfig(config).auth).toEqual({});
    });

    it("does not print a secret given in a wrong-typed way", () => {
      const err = configError(() => load({ env: { ENCLAVE__AUTH__ADMIN_TOKEN: "short" } }));
      expect(err.issues[0]?.path).toBe("auth.adminToken");
      expect(err.message).not.toContain('"short"');
    });
  });
});
