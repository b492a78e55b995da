/**
 * The example vendor app: a counter, a chat room and an agent workspace (`vm`). README, the Compose file and the chart
 * tests use it; it is also what `npm start` serves.
 */
import { actor, setup, UserError } from "enclave";
import { workspace } from "enclave/workspace";

export const counter = actor({
  state: { count: 0 },
  actions: {
    increment: (c, amount: number = 1) => {
      if (!Number.isFinite(amount))
        throw new UserError("amount must be a number", { code: "invalid_amount" });
      c.state.count += amount;
      c.broadcast("changed", c.state.count);
      return c.state.count;
    },
    get: (c) => c.state.count,
    reset: (c) => {
      c.state.count = 0;
      c.broadcast("changed", 0);
      return 0;
    },
    /** Adds `amount` after `ms` milliseconds, even if the counter is asleep by then. */
    incrementLater: async (c, ms: number, amount: number = 1) => c.schedule.after(ms, "increment", amount),
  },
});

export interface ChatMessage {
  id: number;
  sender: string;
  text: string;
  at: number;
}

const MAX_HISTORY = 100;

export const chatRoom = actor({
  state: { nextId: 1, messages: [] as ChatMessage[] },
  createConnState: (_c, params) => {
    const name = (params as { name?: unknown } | undefined)?.name;
    return { name: typeof name === "string" && name.length > 0 ? name.slice(0, 64) : "anonymous" };
  },
  actions: {
    send: (c, text: string, sender?: string) => {
      if (typeof text !== "string" || text.trim() === "") {
        throw new UserError("a message needs text", { code: "empty_message" });
      }
      const message: ChatMessage = {
        id: c.state.nextId++,
        sender: sender ?? c.conn?.state.name ?? "anonymous",
        text: text.slice(0, 2000),
        at: Date.now(),
      };
      c.state.messages.push(message);
      if (c.state.messages.length > MAX_HISTORY)
        c.state.messages.splice(0, c.state.messages.length - MAX_HISTORY);
      c.broadcast("message", message);
      return message;
    },
    history: (c, limit: number = 50) => c.state.messages.slice(-Math.max(1, Math.min(limit, MAX_HISTORY))),
  },
});

/** One small computer per key: files in /home/user persist, `exec` runs shell commands. */
export const vm = workspace();

export const registry = setup({ use: { counter, chatRoom, vm } });
