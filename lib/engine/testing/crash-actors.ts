/** The actor the kill -9 test runs, shared by the child process and the test that reopens its data. */
import { actor } from "../../actor/index.js";

export const crashCounter = actor({
  state: { count: 0 },
  actions: {
    /** State only. */
    inc: (c) => ++c.state.count,
    /** KV only, not awaited: the output gate must still cover it. */
    put: (c, key: string, value: string) => {
      void c.kv.put(key, value);
      return key;
    },
    /** Both in one action, the KV write again not awaited. */
    both: (c, key: string, value: string) => {
      void c.kv.put(key, value);
      return ++c.state.count;
    },
    count: (c) => c.state.count,
    texts: async (c, keys: string[]) => {
      const values = await c.kv.getMany(keys);
      const decoder = new TextDecoder();
      return values.map((v) => (v === undefined ? null : decoder.decode(v)));
    },
  },
});
