import { MemoryStore } from "./memory.js";
import { storeContract } from "./testing/contract.js";

storeContract("MemoryStore", { open: async () => new MemoryStore() });
