// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/** Guest `events`: EventEmitter, plus EventTarget, Event, AbortController and AbortSignal. */
export function guestEvents(module) {
  "use strict";
  const kCapture = Symbol("kCapture");
  const errorMonitor = Symbol("events.errorMonitor");
  let defaultMaxListeners = 10;

  function checkListener(listener) {
    if (typeof listener !== "function") {
      const err = new TypeError(
        'The "listener" argument must be of type function. Received ' + typeof listener,
      );
      err.code = "ERR_INVALID_ARG_TYPE";
      throw err;
    }
  }

  function EventEmitter(opts) {
    EventEmitter.init.call(this, opts);
  }
  EventEmitter.init = function (opts) {
    if (this._events === undefined || this._events === Object.getPrototypeOf(this)._events) {
      this._events = Object.create(null);
      this._eventsCount = 0;
    }
    this._maxListeners = this._maxListeners || undefined;
    this[kCapture] = Boolean(opts && opts.captureRejections);
  };
  EventEmitter.prototype._events = undefined;
  EventEmitter.prototype._eventsCount = 0;
  EventEmitter.prototype._maxListeners = undefined;
  Object.defineProperty(EventEmitter, "defaultMaxListeners", {
    enumerable: true,
    get: () => defaultMaxListeners,
    set: (n) => {
      defaultMaxListeners = n;
    },
  });
  EventEmitter.errorMonitor = errorMonitor;
  EventEmitter.captureRejections = false;

  const proto = EventEmitter.prototype;
  proto.setMaxListeners = function (n) {
    this._maxListeners = n;
    return this;
  };
  proto.getMaxListeners = function () {
    return this._maxListeners === undefined ? defaultMaxListeners : this._maxListeners;
  };
  proto.emit = function (type, ...args) {
    const events = this._events;
    if (type === "error" && events !== undefined && events[errorMonitor] !== undefined) {
      this.emit(errorMonitor, ...args);
    }
    const handler = events === undefined ? undefined : events[type];
    if (handler === undefined) {
      if (type === "error") {
        const er = args[0];
        if (er instanceof Error) throw er;
        const err = new Error("Unhandled error." + (er === undefined ? "" : " (" + String(er) + ")"));
        err.code = "ERR_UNHANDLED_ERROR";
        err.context = er;
        throw err;
      }
      return false;
    }
    if (typeof handler === "function") {
      handler.apply(this, args);
    } else {
      const listeners = handler.slice();
      for (let i = 0; i < listeners.length; i++) listeners[i].apply(this, args);
    }
    return true;
  };
  function addListener(target, type, listener, prepend) {
    checkListener(listener);
    let events = target._events;
    if (events === undefined) {
      events = target._events = Object.create(null);
      target._eventsCount = 0;
    } else if (events.newListener !== undefined) {
      target.emit("newListener", type, listener.listener ? listener.listener : listener);
      events = target._events;
    }
    const existing = events[type];
    if (existing === undefined) {
      events[type] = listener;
      target._eventsCount++;
    } else if (typeof existing === "function") {
      events[type] = prepend ? [listener, existing] : [existing, listener];
    } else if (prepend) existing.unshift(listener);
    else existing.push(listener);
    return target;
  }
  proto.addListener = function (type, listener) {
    return addListener(this, type, listener, false);
  };
  proto.on = proto.addListener;
  proto.prependListener = function (type, listener) {
    return addListener(this, type, listener, true);
  };
  function onceWrapper(target, type, listener) {
    const state = { fired: false, target, type, listener };
    const wrapped = function (...args) {
      if (!state.fired) {
        state.target.removeListener(state.type, wrapped);
        state.fired = true;
        return state.listener.apply(state.target, args);
      }
    };
    wrapped.listener = listener;
    return wrapped;
  }
  proto.once = function (type, listener) {
    checkListener(listener);
    this.on(type, onceWrapper(this, type, listener));
    return this;
  };
  proto.prependOnceListener = function (type, listener) {
    checkListener(listener);
    this.prependListener(type, onceWrapper(this, type, listener));
    return this;
  };
  proto.removeListener = function (type, listener) {
    checkListener(listener);
    const events = this._events;
    if (events === undefined) return this;
    const list = events[type];
    if (list === undefined) return this;
    if (list === listener || list.listener === listener) {
      if (--this._eventsCount === 0) this._events = Object.create(null);
      else delete events[type];
      if (events.removeListener) this.emit("removeListener", type, list.listener || listener);
    } else if (typeof list !== "function") {
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i] === listener || list[i].listener === listener) {
          list.splice(i, 1);
          if (list.length === 1) events[type] = list[0];
          if (events.removeListener !== undefined) this.emit("removeListener", type, listener);
          break;
        }
      }
    }
    return this;
  };
  proto.off = proto.removeListener;
  proto.removeAllListeners = function (type) {
    const events = this._events;
    if (events === undefined) return this;
    if (type === undefined) {
      this._events = Object.create(null);
      this._eventsCount = 0;
    } else if (events[type] !== undefined) {
      if (--this._eventsCount === 0) this._events = Object.create(null);
      else delete events[type];
    }
    return this;
  };
  function listenersOf(target, type, unwrap) {
    const events = target._events;
    if (events === undefined || events[type] === undefined) return [];
    const list = events[type];
    const arr = typeof list === "function" ? [list] : list.slice();
    return unwrap ? arr.map((l) => l.listener || l) : arr;
  }
  proto.listeners = function (type) {
    return listenersOf(this, type, true);
  };
  proto.rawListeners = function (type) {
    return listenersOf(this, type, false);
  };
  proto.listenerCount = function (type) {
    const events = this._events;
    if (events === undefined || events[type] === undefined) return 0;
    return typeof events[type] === "function" ? 1 : events[type].length;
  };
  proto.eventNames = function () {
    return this._eventsCount > 0 ? Reflect.ownKeys(this._events) : [];
  };
  EventEmitter.listenerCount = (emitter, type) => emitter.listenerCount(type);
  EventEmitter.once = function (emitter, name) {
    return new Promise((resolve, reject) => {
      const onError = (err) => {
        emitter.removeListener(name, onEvent);
        reject(err);
      };
      const onEvent = (...args) => {
        if (name !== "error") emitter.removeListener("error", onError);
        resolve(args);
      };
      emitter.once(name, onEvent);
      if (name !== "error") emitter.once("error", onError);
    });
  };
  EventEmitter.on = function (emitter, name) {
    const queue = [];
    const waiters = [];
    let error;
    emitter.on(name, (...args) => {
      const w = waiters.shift();
      if (w) w.resolve({ value: args, done: false });
      else queue.push(args);
    });
    emitter.on("error", (err) => {
      const w = waiters.shift();
      if (w) w.reject(err);
      else error = err;
    });
    return {
      next() {
        if (queue.length) return Promise.resolve({ value: queue.shift(), done: false });
        if (error) {
          const e = error;
          error = undefined;
          return Promise.reject(e);
        }
        return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
      },
      return() {
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  };
  EventEmitter.getEventListeners = (emitter, name) =>
    typeof emitter.listeners === "function" ? emitter.listeners(name) : [];
  EventEmitter.setMaxListeners = () => {};

  // ---- EventTarget and AbortController (what fetch-style code and timers/promises use) ----
  class Event {
    constructor(type, init) {
      this.type = String(type);
      this.bubbles = Boolean(init && init.bubbles);
      this.cancelable = Boolean(init && init.cancelable);
      this.defaultPrevented = false;
      this.timeStamp = Date.now();
      this.target = null;
      this.currentTarget = null;
    }
    preventDefault() {
      if (this.cancelable) this.defaultPrevented = true;
    }
    stopPropagation() {}
    stopImmediatePropagation() {
      this._stop = true;
    }
  }
  class EventTarget {
    constructor() {
      Object.defineProperty(this, "_listeners", { value: new Map(), enumerable: false });
    }
    addEventListener(type, listener, options) {
      if (!listener) return;
      let list = this._listeners.get(type);
      if (!list) this._listeners.set(type, (list = []));
      if (list.some((l) => l.listener === listener)) return;
      list.push({ listener, once: Boolean(options && typeof options === "object" && options.once) });
    }
    removeEventListener(type, listener) {
      const list = this._listeners.get(type);
      if (!list) return;
      const i = list.findIndex((l) => l.listener === listener);
      if (i >= 0) list.splice(i, 1);
    }
    dispatchEvent(event) {
      const list = this._listeners.get(event.type);
      event.target = this;
      event.currentTarget = this;
      const handler = this["on" + event.type];
      if (typeof handler === "function") handler.call(this, event);
      if (list) {
        for (const entry of list.slice()) {
          if (entry.once) this.removeEventListener(event.type, entry.listener);
          if (typeof entry.listener === "function") entry.listener.call(this, event);
          else entry.listener.handleEvent(event);
          if (event._stop) break;
        }
      }
      return !event.defaultPrevented;
    }
  }
  class AbortSignal extends EventTarget {
    constructor() {
      super();
      this.aborted = false;
      this.reason = undefined;
      this.onabort = null;
    }
    throwIfAborted() {
      if (this.aborted) throw this.reason;
    }
    static abort(reason) {
      const c = new AbortController();
      c.abort(reason);
      return c.signal;
    }
    static timeout(ms) {
      const c = new AbortController();
      setTimeout(() => {
        const err = new Error("The operation was aborted due to timeout");
        err.name = "TimeoutError";
        err.code = 23;
        c.abort(err);
      }, ms).unref();
      return c.signal;
    }
  }
  class AbortController {
    constructor() {
      this.signal = new AbortSignal();
    }
    abort(reason) {
      const signal = this.signal;
      if (signal.aborted) return;
      signal.aborted = true;
      if (reason === undefined) {
        reason = new Error("This operation was aborted");
        reason.name = "AbortError";
        reason.code = 20;
      }
      signal.reason = reason;
      signal.dispatchEvent(new Event("abort"));
    }
  }

  module.exports = EventEmitter;
  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.default = EventEmitter;
  EventEmitter.Event = Event;
  EventEmitter.EventTarget = EventTarget;
  EventEmitter.AbortController = AbortController;
  EventEmitter.AbortSignal = AbortSignal;
  // async_hooks and diagnostics_channel share this file: the few names libraries probe for.
  EventEmitter.AsyncLocalStorage = class AsyncLocalStorage {
    getStore() {
      return this._store;
    }
    run(store, fn, ...args) {
      const prev = this._store;
      this._store = store;
      try {
        return fn(...args);
      } finally {
        this._store = prev;
      }
    }
    enterWith(store) {
      this._store = store;
    }
    disable() {
      this._store = undefined;
    }
  };
  EventEmitter.AsyncResource = class AsyncResource {
    constructor(type) {
      this.type = type;
    }
    runInAsyncScope(fn, thisArg, ...args) {
      return fn.apply(thisArg, args);
    }
    emitDestroy() {
      return this;
    }
    bind(fn) {
      return fn;
    }
    static bind(fn) {
      return fn;
    }
  };
  EventEmitter.createHook = () => ({ enable() {}, disable() {} });
  EventEmitter.executionAsyncId = () => 1;
  EventEmitter.triggerAsyncId = () => 0;
  EventEmitter.channel = () => ({ hasSubscribers: false, publish() {}, subscribe() {}, unsubscribe() {} });
  EventEmitter.hasSubscribers = () => false;
  EventEmitter.subscribe = () => {};
  EventEmitter.unsubscribe = () => {};
}
