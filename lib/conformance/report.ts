/** The reports: JSON (the whole run) and JUnit XML (for CI systems), and the progress lines. */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CaseResult, ConformanceReport, GroupName } from "./types.js";

export const JSON_REPORT = "conformance-report.json";
export const JUNIT_REPORT = "conformance-junit.xml";

/** `✓ group › name (12 ms)`, then the reason or warnings on indented lines. */
export function progressLine(r: CaseResult): string {
  const mark = r.status === "passed" ? "✓" : r.status === "failed" ? "✗" : "–";
  const ms = `(${Math.round(r.durationMs)} ms)`;
  const lines = [`${mark} ${r.group} › ${r.name} ${ms}`];
  if (r.status === "not-applicable")
    lines[0] = `${mark} ${r.group} › ${r.name}: not applicable: ${r.reason ?? ""} ${ms}`;
  if (r.status === "failed" && r.reason) lines.push(`    ${r.reason}`);
  if (r.status === "failed" && r.details) {
    for (const l of r.details.split("\n").slice(0, 12)) lines.push(`      ${l}`);
  }
  for (const w of r.warnings ?? []) lines.push(`    ⚠ warning: ${w}`);
  return lines.join("\n");
}

// Characters XML 1.0 does not allow, even escaped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function xmlEscape(text: string): string {
  return text
    .replace(INVALID_XML, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function toJUnit(report: ConformanceReport): string {
  const groups = new Map<GroupName, CaseResult[]>();
  for (const c of report.cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  const count = (list: CaseResult[], s: CaseResult["status"]) => list.filter((c) => c.status === s).length;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="enclave conformance (${xmlEscape(report.profile)})" tests="${report.cases.length}" ` +
      `failures="${report.summary.failed}" errors="0" skipped="${report.summary.notApplicable}" ` +
      `time="${seconds(report.durationMs)}" timestamp="${xmlEscape(report.startedAt)}">`,
  );
  for (const [group, list] of groups) {
    const time = list.reduce((s, c) => s + c.durationMs, 0);
    out.push(
      `  <testsuite name="${xmlEscape(group)}" tests="${list.length}" failures="${count(list, "failed")}" ` +
        `errors="0" skipped="${count(list, "not-applicable")}" time="${seconds(time)}" timestamp="${xmlEscape(report.startedAt)}">`,
    );
    out.push("    <properties>");
    const props: [string, string][] = [
      ["profile", report.profile],
      ["engine.version", report.engine.version ?? "unknown"],
      ["engine.apiVersion", String(report.engine.apiVersion ?? "unknown")],
      ["target", `${report.target.kind} ${report.target.url}`],
      ["isolation", report.target.isolation],
      ["suite.version", report.suiteVersion],
    ];
    for (const [k, v] of props) out.push(`      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`);
    out.push("    </properties>");
    for (const c of list) {
      out.push(
        `    <testcase classname="conformance.${xmlEscape(group)}" name="${xmlEscape(`${c.id}: ${c.name}`)}" time="${seconds(c.durationMs)}">`,
      );
      if (c.status === "failed") {
        out.push(
          `      <failure message="${xmlEscape(c.reason ?? "failed")}" type="conformance">${xmlEscape(
            [c.reason ?? "", c.details ?? ""].filter(Boolean).join("\n"),
          )}</failure>`,
        );
      } else if (c.status === "not-applicable") {
        out.push(`      <skipped message="${xmlEscape(`not applicable: ${c.reason ?? ""}`)}"/>`);
      }
      if (c.warnings?.length) {
        out.push(
          `      <system-out>${xmlEscape(c.warnings.map((w) => `warning: ${w}`).join("\n"))}</system-out>`,
        );
      }
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}

/** Writes the JSON and JUnit reports (and extra files, e.g. logs) into `dir`; returns the paths. */
export async function writeReports(
  dir: string,
  report: ConformanceReport,
  extra: Record<string, string> = {},
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    [JSON_REPORT, `${JSON.stringify(report, null, 2)}\n`],
    [JUNIT_REPORT, toJUnit(report)],
    ...Object.entries(extra),
  ];
  const written: string[] = [];
  for (const [name, content] of files) {
    const file = path.join(dir, name);
    await writeFile(file, content);
    written.push(file);
  }
  return written;
}
