// The rivetkit peer: the same counter actor as Enclave's benchmark. Run by bench/peer.ts.
import { actor, setup } from "rivetkit";

const counter = actor({
  state: { count: 0 },
  actions: {
    increment: (c, n) => (c.state.count += n),
    get: (c) => c.state.count,
  },
});

export const registry = setup({ use: { counter } });
registry.start();
