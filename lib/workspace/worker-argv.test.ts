import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { evalWorkerExecArgv } from "./worker-argv.js";

describe("evalWorkerExecArgv", () => {
  it("inherits as Node does unless --input-type is there, then passes no flags", () => {
    expect(evalWorkerExecArgv(["--expose-gc", "--import", "tsx"])).toBeUndefined();
    expect(evalWorkerExecArgv(["--input-type=module", "--expose-gc"])).toEqual([]);
    expect(evalWorkerExecArgv(["--input-type", "module"])).toEqual([]);
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
    // --expose-gc too: a process-wide flag that an explicit worker execArgv may not carry.
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(JSON.parse(out)).toMatchObject({ exitCode: 0, stdout: "HI\n2\n" });
  });
});
