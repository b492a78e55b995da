/** `enclave config show` (never a secret) and `enclave config validate` (path-precise, exit 2). */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import YAML from "yaml";
import { EXIT_OK, EXIT_USAGE } from "./io.js";
import { cli } from "./testing/io.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "enclave-cli-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ENV_TOKEN = "env-secret-token-0123456789abcdef";
const FILE_TOKEN = "file-secret-token-fedcba9876543210";
const CONFIG_TOKEN = "config-secret-token-aaaabbbbccccdddd";

describe("enclave config show", () => {
  it("redacts a token from the environment, in text and in JSON, and says where it came from", async () => {
    await writeFile(join(dir, "a.yaml"), "gateway:\n  port: 7000\n");
    const env = { ENCLAVE__AUTH__ADMIN_TOKEN: ENV_TOKEN, ENCLAVE__LOG__LEVEL: "debug" };
    const text = await cli(["config", "show", "--config", join(dir, "a.yaml")], env);
    expect(text.code).toBe(EXIT_OK);
    expect(text.out + text.err).not.toContain(ENV_TOKEN);
    expect(text.out).toMatch(/adminToken: "\[redacted\]" # environment variable ENCLAVE__AUTH__ADMIN_TOKEN/);
    expect(text.out).toMatch(/port: 7000 # config file .*a\.yaml/);
    expect(text.out).toMatch(/level: debug # environment variable ENCLAVE__LOG__LEVEL/);
    expect(text.out).toContain(
      `Sources, lowest first: defaults, ${join(dir, "a.yaml")}, env:ENCLAVE__AUTH__ADMIN_TOKEN`,
    );
    // The text is YAML: parsing it back gives the redacted configuration.
    const parsed = YAML.parse(text.out) as { gateway: { port: number }; auth: { adminToken: string } };
    expect(parsed.gateway.port).toBe(7000);
    expect(parsed.auth.adminToken).toBe("[redacted]");

    const json = await cli(["config", "show", "--json", "--config", join(dir, "a.yaml")], env);
    expect(json.code).toBe(EXIT_OK);
    expect(json.out + json.err).not.toContain(ENV_TOKEN);
    const body = JSON.parse(json.out) as {
      config: { auth: { adminToken: string }; gateway: { port: number } };
      sources: string[];
      origins: Record<string, string>;
    };
    expect(body.config.auth.adminToken).toBe("[redacted]");
    expect(body.config.gateway.port).toBe(7000);
    expect(body.sources).toEqual([
      join(dir, "a.yaml"),
      "env:ENCLAVE__AUTH__ADMIN_TOKEN",
      "env:ENCLAVE__LOG__LEVEL",
    ]);
    expect(body.origins["auth.adminToken"]).toBe("environment variable ENCLAVE__AUTH__ADMIN_TOKEN");
  });

  it("redacts a token read from adminTokenFile and one written in a config file", async () => {
    await writeFile(join(dir, "token"), `${FILE_TOKEN}\n`, { mode: 0o600 });
    await writeFile(join(dir, "a.json"), JSON.stringify({ auth: { adminTokenFile: join(dir, "token") } }));
    for (const args of [[], ["--json"]]) {
      const r = await cli(["config", "show", ...args, "--config", join(dir, "a.json")], {});
      expect(r.code).toBe(EXIT_OK);
      expect(r.out + r.err).not.toContain(FILE_TOKEN);
      expect(r.out).toContain("[redacted]");
      expect(r.out).toContain(join(dir, "token")); // the file's path is not a secret
    }

    await writeFile(join(dir, "b.yaml"), `auth:\n  adminToken: ${CONFIG_TOKEN}\n`);
    for (const args of [[], ["--json"]]) {
      const r = await cli(["config", "show", ...args, "--config", join(dir, "b.yaml")], {});
      expect(r.code).toBe(EXIT_OK);
      expect(r.out + r.err).not.toContain(CONFIG_TOKEN);
    }
  });

  it("reads ENCLAVE_CONFIG_PATH and directories when --config is not given", async () => {
    await writeFile(join(dir, "00-base.yaml"), "gateway:\n  port: 7001\n");
    await writeFile(join(dir, "10-site.json"), JSON.stringify({ gateway: { port: 7002 } }));
    const r = await cli(["config", "show", "--json"], { ENCLAVE_CONFIG_PATH: dir });
    expect(r.code).toBe(EXIT_OK);
    const body = JSON.parse(r.out) as { config: { gateway: { port: number } }; sources: string[] };
    expect(body.config.gateway.port).toBe(7002);
    expect(body.sources).toEqual([join(dir, "00-base.yaml"), join(dir, "10-site.json")]);
  });

  it("an invalid configuration prints every problem with its source and path, exit 2, and no secret", async () => {
    await writeFile(
      join(dir, "bad.yaml"),
      `gateway:\n  port: 99999\n  prt: 1\nauth:\n  adminToken: ${CONFIG_TOKEN}\n`,
    );
    const r = await cli(["config", "show", "--config", join(dir, "bad.yaml")], {
      ENCLAVE__GATEWAY__HOSTT: "x",
      ENCLAVE__AUTH__ADMIN_TOKEN: "short",
    });
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^enclave: invalid configuration \(\d+ problems\):/);
    expect(r.err).toContain(`config file ${join(dir, "bad.yaml")}: /gateway/port must be <= 65535`);
    expect(r.err).toContain(`config file ${join(dir, "bad.yaml")}: unknown key "prt" at /gateway`);
    expect(r.err).toContain('environment variable ENCLAVE__GATEWAY__HOSTT: unknown key "HOSTT" at gateway');
    expect(r.err).not.toContain(CONFIG_TOKEN);
    expect(r.err).not.toContain("short");
  });
});

describe("enclave config validate FILE", () => {
  it("a valid file: exit 0 and 'valid'", async () => {
    const file = join(dir, "ok.jsonc");
    await writeFile(file, '// comment\n{ "gateway": { "port": 6420 }, "airgap": { "enforce": true } }\n');
    const r = await cli(["config", "validate", file]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toBe(`${file}: valid\n`);
  });

  it("ignores the environment: it checks the file only", async () => {
    const file = join(dir, "ok.yaml");
    await writeFile(file, "log:\n  level: warn\n");
    const r = await cli(["config", "validate", file], { ENCLAVE__GATEWAY__PORT: "not-a-port" });
    expect(r.code).toBe(EXIT_OK);
  });

  it("an invalid file: exit 2 with every problem and its JSON pointer", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(
      file,
      [
        "gateway:",
        "  port: 99999",
        "  prt: 1",
        "storage:",
        "  driver: floppy",
        "actors:",
        "  sleepTimeoutMs: soon",
        `auth:`,
        `  adminToken: tiny`,
      ].join("\n"),
    );
    const r = await cli(["config", "validate", file]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.out).toBe("");
    const source = `config file ${file}`;
    expect(r.err).toContain(`${source}: /gateway/port must be <= 65535`);
    expect(r.err).toContain(`${source}: unknown key "prt" at /gateway (known keys: host, port)`);
    expect(r.err).toContain(`${source}: /storage/driver must be one of "fileSystem", "memory"`);
    expect(r.err).toContain(`${source}: /actors/sleepTimeoutMs must be an integer`);
    expect(r.err).toMatch(
      new RegExp(`${source.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: /auth/adminToken .*16`),
    );
    expect(r.err).not.toContain("tiny");
  });

  it("checks what only the zod schema knows (URL scheme, token and token file both set)", async () => {
    const file = join(dir, "zod.yaml");
    await writeFile(
      file,
      [
        "telemetry:",
        "  otel:",
        "    endpoint: ftp://collector.internal:4318",
        "auth:",
        "  adminToken: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "  adminTokenFile: /run/secrets/x",
      ].join("\n"),
    );
    const r = await cli(["config", "validate", file]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain("/telemetry/otel/endpoint must be an http:// or https:// URL");
    expect(r.err).toContain("/auth sets both adminToken and adminTokenFile");
    expect(r.err).not.toContain("aaaaaaaaaaaaaaaa");
  });

  it("an unparsable, missing or unsupported file: exit 2 naming it", async () => {
    await writeFile(join(dir, "broken.json"), '{ "gateway": ');
    const broken = await cli(["config", "validate", join(dir, "broken.json")]);
    expect(broken.code).toBe(EXIT_USAGE);
    expect(broken.err).toContain(`config file ${join(dir, "broken.json")}: cannot parse JSON`);

    const missing = await cli(["config", "validate", join(dir, "nope.yaml")]);
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toContain(`${join(dir, "nope.yaml")}: cannot read: no such file or directory`);

    await writeFile(join(dir, "x.toml"), "");
    const toml = await cli(["config", "validate", join(dir, "x.toml")]);
    expect(toml.code).toBe(EXIT_USAGE);
    expect(toml.err).toContain('unsupported file type ".toml"');
  });

  it("a directory: each of its files, problems from all of them", async () => {
    await writeFile(join(dir, "00-ok.yaml"), "gateway:\n  port: 1\n");
    await writeFile(join(dir, "10-bad.json"), '{ "log": { "level": "loud" } }');
    const r = await cli(["config", "validate", dir]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain(`config file ${join(dir, "10-bad.json")}: /log/level must be one of`);
    await rm(join(dir, "10-bad.json"));
    const ok = await cli(["config", "validate", dir]);
    expect(ok.code).toBe(EXIT_OK);
    expect(ok.out).toBe(`${join(dir, "00-ok.yaml")}: valid\n`);
  });
});
