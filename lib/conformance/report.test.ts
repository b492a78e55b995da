/** The reports and the selection of cases: unit tests, no engine. */
import { describe, expect, it } from "vitest";
import { progressLine, toJUnit } from "./report.js";
import { ConformanceUsageError, selectCases } from "./suite.js";
import { runCli } from "./testing/cli.js";
import { checkWellFormedXml } from "./testing/xml.js";
import type { ConformanceReport } from "./types.js";
import { ALL_CASES } from "./groups/index.js";

const report: ConformanceReport = {
  tool: "enclave conformance",
  suiteVersion: "0.1.0",
  engine: { name: "enclave", version: "0.1.0", apiVersion: 1, runnerProtocolVersion: 1 },
  profile: "core",
  target: {
    kind: "remote",
    url: "http://e:1",
    namespace: "default",
    isolation: "none",
    runner: "suite",
    restarts: "none",
  },
  focus: null,
  skip: null,
  startedAt: "2030-01-01T00:00:00.000Z",
  durationMs: 1234,
  summary: { total: 3, passed: 1, failed: 1, notApplicable: 1, warnings: 1 },
  ok: false,
  cases: [
    {
      id: "a.one",
      group: "smoke",
      name: 'ok <&> "quoted"',
      status: "passed",
      durationMs: 5,
      warnings: ["slow & odd <x>"],
    },
    {
      id: "b.two",
      group: "tokens",
      name: "fails",
      status: "failed",
      durationMs: 7,
      reason: "expected 401, got 200 \u0001 & <b>",
      details: 'body: {"a":"<&>"}',
    },
    {
      id: "c.three",
      group: "tokens",
      name: "n/a",
      status: "not-applicable",
      durationMs: 0,
      reason: "no workspaces",
    },
  ],
};

describe("JUnit XML", () => {
  it("is well-formed, escapes everything, and maps statuses to failure/skipped", () => {
    const xml = toJUnit(report);
    const names = checkWellFormedXml(xml);
    expect(names.filter((n) => n === "testcase")).toHaveLength(3);
    expect(names.filter((n) => n === "testsuite")).toHaveLength(2);
    expect(names.filter((n) => n === "failure")).toHaveLength(1);
    expect(names.filter((n) => n === "skipped")).toHaveLength(1);
    expect(xml).toContain('failures="1"');
    expect(xml).toContain('skipped="1"');
    expect(xml).toContain("not applicable: no workspaces");
    expect(xml).not.toContain("\u0001");
    expect(xml).toContain("warning: slow &amp; odd &lt;x&gt;");
  });

  it("the checker itself rejects broken XML", () => {
    expect(() => checkWellFormedXml('<?xml version="1.0"?><a><b></a></b>')).toThrow();
    expect(() => checkWellFormedXml('<?xml version="1.0"?><a>x & y</a>')).toThrow();
    expect(() => checkWellFormedXml('<?xml version="1.0"?><a b=c></a>')).toThrow();
  });
});

describe("progress lines", () => {
  it("one line per case: ✓, ✗ with the reason, – with why not applicable", () => {
    expect(progressLine(report.cases[0]!)).toMatch(/^✓ smoke › ok .* \(5 ms\)\n {4}⚠ warning: slow/);
    expect(progressLine(report.cases[1]!)).toMatch(/^✗ tokens › fails \(7 ms\)\n {4}expected 401, got 200/);
    expect(progressLine(report.cases[2]!)).toBe("– tokens › n/a: not applicable: no workspaces (0 ms)");
  });
});

describe("selecting cases", () => {
  it("ids are unique and every profile is a superset of smoke", () => {
    expect(new Set(ALL_CASES.map((c) => c.id)).size).toBe(ALL_CASES.length);
    const smoke = selectCases("smoke").map((c) => c.id);
    for (const p of ["core", "airgap", "disruptive"] as const) {
      const ids = selectCases(p).map((c) => c.id);
      for (const id of smoke) expect(ids).toContain(id);
    }
    expect(smoke.every((id) => id.startsWith("smoke.") || id === "tokens.never-echoed")).toBe(true);
    expect(selectCases("core").some((c) => c.profile === "disruptive" || c.profile === "airgap")).toBe(false);
    expect(selectCases("disruptive").some((c) => c.id === "persistence.kill-9")).toBe(true);
    expect(selectCases("airgap").some((c) => c.id === "airgap.refused-and-recorded")).toBe(true);
  });

  it("--focus and --skip are case-insensitive regular expressions on id, group and name", () => {
    expect(selectCases("core", "^tokens\\.").every((c) => c.group === "tokens")).toBe(true);
    expect(selectCases("core", "SMOKE", "health").map((c) => c.id)).not.toContain("smoke.health");
    expect(() => selectCases("core", "(")).toThrow(ConformanceUsageError);
  });
});

describe("enclave conformance: flags and environment (the CLI as a child process)", () => {
  it("every flag has an ENCLAVE_CONFORMANCE_* variable, and bad values are usage errors (exit 2)", async () => {
    const [help, main, ...usage] = await Promise.all([
      runCli(["conformance", "--help"]),
      runCli(["--help"]),
      runCli(["conformance", "--profile", "nope"]),
      runCli(["conformance"], { ENCLAVE_CONFORMANCE_PROFILE: "nope" }),
      runCli(["conformance"], { ENCLAVE_CONFORMANCE_RESTART_HOOK: "true" }),
      runCli(["conformance"], {
        ENCLAVE_CONFORMANCE_ENDPOINT: "http://127.0.0.1:9",
        ENCLAVE_CONFORMANCE_FOCUS: "(",
      }),
    ]);
    expect(help!.code).toBe(0);
    for (const flag of [
      "endpoint",
      "admin-token-file",
      "profile",
      "focus",
      "skip",
      "report-dir",
      "restart-hook",
      "isolation",
    ]) {
      expect(help!.out).toContain(`--${flag} `);
      expect(help!.out).toContain(`ENCLAVE_CONFORMANCE_${flag.toUpperCase().replace(/-/g, "_")}`);
    }
    expect(main!.out).toMatch(/^ {2}conformance\b/m);
    for (const r of usage) expect(r.code, r.err).toBe(2);
    expect(usage[0]!.err).toMatch(/--profile/);
    expect(usage[1]!.err).toMatch(/unknown profile "nope"/);
    expect(usage[2]!.err).toMatch(/restart-hook/);
    expect(usage[3]!.err).toMatch(/regular expression/);
  });
});
