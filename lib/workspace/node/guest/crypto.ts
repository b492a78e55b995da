// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/**
 * Guest `crypto`: hashes and HMACs (computed by the worker's Node crypto in one call at digest
 * time: the guest only collects the input), random bytes, UUIDs and timingSafeEqual. Ciphers,
 * key pairs and subtle crypto are not available.
 */
export function guestCrypto(module, exports, require, internal) {
  "use strict";
  const { Buffer } = require("buffer");
  const E = internal.E;
  const HASHES = [
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512-256",
    "sha3-256",
    "sha3-512",
    "ripemd160",
  ];

  function toBytes(data, encoding) {
    if (typeof data === "string") return Buffer.from(data, encoding || "utf8");
    if (data instanceof Uint8Array) return data;
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    const err = new TypeError(
      'The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.',
    );
    err.code = "ERR_INVALID_ARG_TYPE";
    throw err;
  }
  function checkAlgorithm(alg) {
    const a = String(alg).toLowerCase();
    if (!HASHES.includes(a)) {
      const err = new Error("Digest method not supported");
      err.code = "ERR_CRYPTO_INVALID_DIGEST";
      throw err;
    }
    return a;
  }

  class Hash {
    constructor(alg, key) {
      this._alg = alg;
      this._key = key;
      this._chunks = [];
      this._done = false;
    }
    update(data, encoding) {
      if (this._done) {
        const err = new Error("Digest already called");
        err.code = "ERR_CRYPTO_HASH_FINALIZED";
        throw err;
      }
      this._chunks.push(Buffer.from(toBytes(data, encoding)));
      return this;
    }
    digest(encoding) {
      if (this._done) {
        const err = new Error("Digest already called");
        err.code = "ERR_CRYPTO_HASH_FINALIZED";
        throw err;
      }
      this._done = true;
      const input = Buffer.concat(this._chunks);
      this._chunks = [];
      const out = Buffer.from(
        E.hash(
          this._alg,
          internal.toAB(input),
          this._key === undefined ? undefined : internal.toAB(this._key),
        ),
      );
      return encoding && encoding !== "buffer" ? out.toString(encoding) : out;
    }
    copy() {
      const h = new Hash(this._alg, this._key);
      h._chunks = this._chunks.slice();
      return h;
    }
    // Hash objects are streams in Node; the common uses are write/end then read/digest.
    write(data, encoding) {
      this.update(data, encoding);
      return true;
    }
    end(data, encoding) {
      if (data !== undefined) this.update(data, encoding);
      this._result = this.digest();
      return this;
    }
    read() {
      return this._result === undefined ? null : this._result;
    }
    on() {
      return this;
    }
  }

  function randomBytes(size, cb) {
    const out = Buffer.alloc(size);
    for (let off = 0; off < size; off += 65536) {
      const part = new Uint8Array(E.random(Math.min(65536, size - off)));
      out.set(part, off);
    }
    if (typeof cb === "function") {
      process.nextTick(cb, null, out);
      return undefined;
    }
    return out;
  }
  function getRandomValues(array) {
    const bytes = randomBytes(array.byteLength);
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(bytes);
    return array;
  }
  function randomUUID() {
    const b = randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString("hex");
    return (
      h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20)
    );
  }
  function randomInt(min, max, cb) {
    if (max === undefined || typeof max === "function") {
      cb = max;
      max = min;
      min = 0;
    }
    const range = max - min;
    const limit = Math.floor(0x1000000000000 / range) * range;
    let v;
    do {
      v = randomBytes(6).readUIntBE(0, 6);
    } while (v >= limit);
    const result = min + (v % range);
    if (typeof cb === "function") {
      process.nextTick(cb, null, result);
      return undefined;
    }
    return result;
  }
  function timingSafeEqual(a, b) {
    if (a.byteLength !== b.byteLength) {
      const err = new RangeError("Input buffers must have the same byte length");
      err.code = "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH";
      throw err;
    }
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
    return diff === 0;
  }
  const unavailable = (what) => () => {
    const err = new Error("crypto." + what + " is not available in this workspace");
    err.code = "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM";
    throw err;
  };

  module.exports = {
    createHash: (alg) => new Hash(checkAlgorithm(alg)),
    createHmac: (alg, key) => new Hash(checkAlgorithm(alg), Buffer.from(toBytes(key))),
    hash: (alg, data, encoding = "hex") => new Hash(checkAlgorithm(alg)).update(data).digest(encoding),
    getHashes: () => HASHES.slice(),
    randomBytes,
    pseudoRandomBytes: randomBytes,
    randomFillSync: (buf, offset = 0, size) => {
      const view = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      const n = size === undefined ? view.length - offset : size;
      view.set(randomBytes(n), offset);
      return buf;
    },
    randomFill: (buf, offset, size, cb) => {
      if (typeof offset === "function") {
        cb = offset;
        offset = 0;
        size = undefined;
      } else if (typeof size === "function") {
        cb = size;
        size = undefined;
      }
      module.exports.randomFillSync(buf, offset, size);
      process.nextTick(cb, null, buf);
    },
    randomUUID,
    randomInt,
    getRandomValues,
    timingSafeEqual,
    webcrypto: {
      getRandomValues,
      randomUUID,
      subtle: new Proxy(
        {},
        { get: (t, k) => (typeof k === "string" ? unavailable("subtle." + k) : undefined) },
      ),
    },
    createCipheriv: unavailable("createCipheriv"),
    createDecipheriv: unavailable("createDecipheriv"),
    createSign: unavailable("createSign"),
    createVerify: unavailable("createVerify"),
    generateKeyPairSync: unavailable("generateKeyPairSync"),
    generateKeyPair: unavailable("generateKeyPair"),
    pbkdf2Sync: unavailable("pbkdf2Sync"),
    pbkdf2: unavailable("pbkdf2"),
    scryptSync: unavailable("scryptSync"),
    scrypt: unavailable("scrypt"),
    createPublicKey: unavailable("createPublicKey"),
    createPrivateKey: unavailable("createPrivateKey"),
    createSecretKey: unavailable("createSecretKey"),
    constants: {},
  };
}
