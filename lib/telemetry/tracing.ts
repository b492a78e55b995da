/**
 * What the engine and the actor runtime report for tracing: a small hook object, separate from
 * `EngineMetrics`, with `noopTracer` when tracing is off so call sites never branch. The
 * OpenTelemetry implementation is in otel.ts and is loaded only when configured.
 *
 * The hooks receive only what a span may carry: the actor's type name and id, the action name
 * and how it ended. Never arguments, outputs, state, connection parameters or credentials.
 */

/** Ends a span: with no argument it succeeded; with the error it failed (only its code is kept). */
export type SpanEnd = (error?: unknown) => void;

/** The actor a span is about (an `ActorRecord` fits; only these two fields are read). */
export interface TracedActor {
  readonly name: string;
  readonly actorId: string;
}

/** Every method is cheap and sync, never throws, and returns the function that ends its span. */
export interface EngineTracer {
  /** An action started; end it when its answer settles (after its writes are durable). */
  action(actor: TracedActor, action: string): SpanEnd;
  /** An actor is waking (its instance starting: createState/onCreate, onWake). */
  wake(actor: TracedActor): SpanEnd;
  /** An actor is stopping: `reason` is `sleep`, `destroy` or `shutdown`. */
  sleep(actor: TracedActor, reason: string): SpanEnd;
}

const noEnd: SpanEnd = () => {};

/** Tracing off: every call does nothing. */
export const noopTracer: EngineTracer = Object.freeze({
  action: () => noEnd,
  wake: () => noEnd,
  sleep: () => noEnd,
});
