/** The workspace kernel: filesystem, processes, file descriptors, pipes, sockets and guest permissions. */
export type * from "./types.js";
export { KernelError, errnoNumber, errnoCode, isKernelError } from "./errno.js";
export { resolvePath, splitPath, dirname, basename, PATH_MAX, NAME_MAX } from "./path.js";
export { Inode, Mount, MemoryMount, toStat, USER_ID, GROUP_ID } from "./inode.js";
export { KernelVfs, type VfsLimits } from "./vfs.js";
export { SoftwareMount, createSoftwareMount, type SoftwareFile } from "./software-mount.js";
export { StoreMount } from "./store-mount.js";
export { CHUNK_SIZE } from "./store-codec.js";
export { createPipe, PIPE_CAPACITY } from "./pipe.js";
export { FdTableImpl, MAX_FDS } from "./fd-table.js";
export { DeviceHandle } from "./handles.js";
export { CpuSemaphore, CPU_QUANTUM_MS } from "./cpu.js";
export { Kernel, DEFAULT_PATH, SIGNAL_NUMBERS, signalStatus, type KernelOptions } from "./kernel.js";
export { SocketTable, SocketEnd, socketPair, DEFAULT_BACKLOG, type SocketTableOptions } from "./net.js";
export {
  NetworkPermissions,
  FilesystemPermissions,
  listenRange,
  checkListenPort,
  parseHostPattern,
  globToRegExp,
  type Verdict,
  type ListenRange,
} from "./permissions.js";
export {
  parseIp,
  parseCidr,
  cidrContains,
  classify,
  type IpAddress,
  type Cidr,
  type AddressClass,
} from "./ip.js";
