/**
 * The suite against the project's own engine, spawned by the suite itself: the whole
 * disruptive profile through the CLI (in a network namespace when the tests run as root on
 * Linux), and the airgap profile with enforcement instead of a namespace. It must pass, the
 * not-applicable cases must be exactly the unbuilt features (never passes), and the JUnit and
 * JSON reports must be valid.
 */
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runConformance } from "./suite.js";
import { runCli } from "./testing/cli.js";
import { checkWellFormedXml } from "./testing/xml.js";
import type { ConformanceReport } from "./types.js";
import { NOT_BUILT } from "./case.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), "enclave-conformance-test-"));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The cases that must be not applicable (features not built), never passed. */
const UNBUILT = ["no-outbound.drive.sessions", "persistence.session-transcripts"];

function failures(r: ConformanceReport): string {
  return r.cases
    .filter((c) => c.status === "failed")
    .map((c) => `${c.id}: ${c.reason}\n${c.details ?? ""}`)
    .join("\n");
}

describe("enclave conformance against a local engine it spawns", () => {
  it("the disruptive profile passes (core + kill -9), reports valid JUnit and JSON", async () => {
    const dir = await tempDir();
    const r = await runCli(["conformance", "--profile", "disruptive", "--report-dir", dir]);
    const report = JSON.parse(
      await readFile(path.join(dir, "conformance-report.json"), "utf8"),
    ) as ConformanceReport;
    expect(failures(report), r.out + r.err).toBe("");
    expect(r.code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.profile).toBe("disruptive");
    expect(report.engine.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.target.kind).toBe("local");
    expect(report.target.runner).toBe("suite");
    expect(report.target.isolation).toBe(
      process.platform === "linux" && process.getuid?.() === 0 ? "netns" : "enforce",
    );

    // Not applicable: exactly the unbuilt features, each with its reason; nothing else.
    const na = report.cases.filter((c) => c.status === "not-applicable");
    expect(na.map((c) => c.id).sort()).toEqual([...UNBUILT].sort());
    for (const c of na) expect(c.reason).toContain(NOT_BUILT);
    for (const id of [
      "persistence.kill-9",
      "persistence.alarm-while-killed",
      "persistence.workspace-files",
      "persistence.workspace-files-restart",
      "persistence.workspace-files-kill-9",
      "no-outbound.drive.workspaces",
      "no-outbound.drive.exec",
      "no-outbound.drive.preview-urls",
      "tokens.preview",
      "persistence.preview-tokens",
      "no-outbound.canary",
      "tokens.not-on-disk",
    ]) {
      expect(report.cases.find((c) => c.id === id)?.status).toBe("passed");
    }

    // One progress line per case.
    for (const c of report.cases) {
      const mark = c.status === "passed" ? "✓" : c.status === "failed" ? "✗" : "–";
      expect(r.out).toContain(`${mark} ${c.group} › ${c.name}`);
    }

    const xml = await readFile(path.join(dir, "conformance-junit.xml"), "utf8");
    const names = checkWellFormedXml(xml);
    expect(names.filter((n) => n === "testcase")).toHaveLength(report.cases.length);
    expect(names.filter((n) => n === "skipped")).toHaveLength(UNBUILT.length);
    expect(names).not.toContain("failure");

    // The files written: reports and logs, and none of them holds the admin token.
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(["conformance-junit.xml", "conformance-report.json", "engine.log", "runner.log"]);
    const log = await readFile(path.join(dir, "engine.log"), "utf8");
    expect(log).toContain("enclave listening on");
  }, 120_000);

  it("the airgap profile passes with airgap.enforce instead of a namespace (the OTel canary is refused)", async () => {
    const out: string[] = [];
    const report = await runConformance({
      profile: "airgap",
      isolation: "enforce",
      focus: "^smoke|no-outbound\\.(canary|drive\\.(actions|websocket)|audit|sockets)|airgap",
      out: { write: (s: string) => out.push(s) },
    });
    expect(failures(report), out.join("")).toBe("");
    expect(report.target.isolation).toBe("enforce");
    const byId = (id: string) => report.cases.find((c) => c.id === id)?.status;
    expect(byId("no-outbound.canary")).toBe("passed");
    expect(byId("airgap.enforcing")).toBe("passed");
    expect(byId("airgap.refused-and-recorded")).toBe("passed");
    expect(byId("no-outbound.audit-final")).toBe("passed");
  }, 60_000);
});
