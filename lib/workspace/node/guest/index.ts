/**
 * The guest's JavaScript, as source text for the engine. Each part is written as a function in
 * TypeScript (so the build ships it with the package and tools check its syntax) and handed to
 * QuickJS by `toString()`; none of it runs in Node.
 */
import { guestBuffer } from "./buffer.js";
import { guestCrypto } from "./crypto.js";
import { guestEvents } from "./events.js";
import { guestFs } from "./fs.js";
import { guestHttp } from "./http.js";
import {
  guestAssert,
  guestChildProcess,
  guestOs,
  guestProcessModule,
  guestStringDecoder,
  guestTimers,
  guestUnsupported,
} from "./misc.js";
import { guestNet } from "./net.js";
import { guestPath } from "./path.js";
import { guestPrelude as prelude } from "./prelude.js";
import { guestStream } from "./stream.js";
import { guestQuerystring, guestUrl } from "./url.js";
import { guestUtil } from "./util.js";

/** The runtime core the worker evaluates before a job arrives. */
export function guestPrelude(): string {
  return prelude.toString();
}

/** Built-in module sources by file name (aliases such as "fs/promises" map onto these in the prelude). */
export function guestBuiltins(): Record<string, string> {
  const modules: Record<string, { toString(): string }> = {
    assert: guestAssert,
    buffer: guestBuffer,
    child_process: guestChildProcess,
    crypto: guestCrypto,
    events: guestEvents,
    fs: guestFs,
    http: guestHttp,
    net: guestNet,
    os: guestOs,
    path: guestPath,
    process: guestProcessModule,
    querystring: guestQuerystring,
    stream: guestStream,
    string_decoder: guestStringDecoder,
    timers: guestTimers,
    unsupported: guestUnsupported,
    url: guestUrl,
    util: guestUtil,
  };
  const out: Record<string, string> = {};
  for (const [name, fn] of Object.entries(modules)) out[name] = fn.toString();
  return out;
}
