import { expect, it } from "vitest";
import { Kernel, MemoryMount, StoreMount, createSoftwareMount, type SoftwareFile } from "./index.js";

// Boot time is measured by bench/workspace.ts; this checks what a boot lays out.
it("boots with a shared software mount whose applets are hard links of one file", async () => {
  const toybox = new Uint8Array(1024 * 1024);
  toybox.set([0, 0x61, 0x73, 0x6d]);
  const files: SoftwareFile[] = [{ path: "bin/toybox", data: toybox }];
  for (let i = 0; i < 150; i++) files.push({ path: `bin/applet${i}`, linkTo: "bin/toybox" });
  const usr = createSoftwareMount(files);
  const backend = { load: async () => [], commit: async () => {} };
  const boot = async () =>
    new Kernel({
      mounts: [
        { path: "/usr", mount: usr },
        { path: "/tmp", mount: new MemoryMount() },
        { path: "/home/user", mount: await StoreMount.open(backend) },
      ],
    });
  const [a, b] = [await boot(), await boot()];
  for (const k of [a, b]) {
    expect(k.vfs.stat("/usr/bin/applet9").nlink).toBe(151);
    expect(k.vfs.stat("/usr/bin/applet9").ino).toBe(k.vfs.stat("/usr/bin/toybox").ino);
  }
  // One VM's files are not another's.
  a.vfs.writeFile("/tmp/only-a", "x");
  expect(b.vfs.exists("/tmp/only-a")).toBe(false);
  expect(a.vfs.readFile("/usr/bin/toybox")).toEqual(b.vfs.readFile("/usr/bin/toybox"));
});
