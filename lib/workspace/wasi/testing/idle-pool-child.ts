/**
 * Child process for the pool test: runs one program on a warm pool and then simply returns.
 * The process must exit on its own: idle workers may not keep it alive.
 */
import { Kernel } from "../../kernel/kernel.js";
import { createSoftwareMount } from "../../kernel/software-mount.js";
import { WasiExecutor } from "../executor.js";
import { WorkerPool } from "../pool.js";
import { testProgram } from "./test-program.js";

const pool = new WorkerPool({ idle: 2 });
await pool.warm();
const software = createSoftwareMount([{ path: "bin/wtest", data: testProgram(), mode: 0o755 }]);
const ref: { kernel?: Kernel } = {};
const executor = new WasiExecutor({ kernel: () => ref.kernel!, pool });
const kernel = (ref.kernel = new Kernel({
  executors: { wasm: executor },
  mounts: [{ path: "/opt", mount: software }],
}));
const nul = kernel.nullHandle();
const status = await kernel
  .spawn({ argv: ["wtest", "exit", "5"], env: { PATH: "/opt/bin" }, cwd: "/", stdio: [nul, nul, nul] })
  .wait();
console.log(`exit ${status.exitCode} idle ${pool.idleCount}`);
