import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { evalWorkerExecArgv } from "./worker-argv.js";

describe("evalWorkerExecArgv", () => {
  it("drops --input-type in both spellings and keeps every other flag", () => {
    expect(
      evalWorkerExecArgv(["--input-type=module", "--expose-gc", "--input-type", "module", "--x"]),
    ).toEqual(["--expose-gc", "--x"]);
  });

  it("an engine embedded with node --input-type=module -e still runs WASI programs and node", () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const script = `
      const { bootKernel } = await import("./lib/workspace/boot.ts");
      const { baseSoftware } = await import("./lib/workspace/software/index.ts");
      const { runShellCommand } = await import("./lib/workspace/shell/index.ts");
      const empty = { load: async () => [], commit: async () => undefined };
      const k = await bootKernel({ software: [baseSoftware], mounts: [], limits: {}, persistence: () => empty });
      const r = await runShellCommand(k, "echo hi | tr a-z A-Z && node -e 'console.log(1 + 1)'", { cwd: "/", env: { PATH: "/usr/bin" } });
      process.stdout.write(JSON.stringify(r));
      process.exit(0);
    `;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(JSON.parse(out)).toMatchObject({ exitCode: 0, stdout: "HI\n2\n" });
  });
});
