// The one place secrets are scrubbed from events: the runner wraps its sink with this
// once, so every reporter behind it (plain, JSON, UI, tests) only ever sees redacted text.
import { redactDeep } from '../secrets/redact.ts';
import type { DroverEvent, EventSink } from './events.ts';

const WRAPPED = Symbol('drover.redacting');

export function redactingSink(sink: EventSink): EventSink {
  if ((sink as { [WRAPPED]?: boolean })[WRAPPED]) return sink;
  const wrapped: EventSink & { [WRAPPED]: true } = {
    [WRAPPED]: true,
    emit: (event: DroverEvent) => sink.emit(redactDeep(event)),
    close: () => sink.close?.(),
  };
  return wrapped;
}

/** Fan one event stream out to several sinks (e.g. a reporter and a test recorder). */
export function teeSink(...sinks: EventSink[]): EventSink {
  return {
    emit: (event) => {
      for (const s of sinks) s.emit(event);
    },
    close: async () => {
      await Promise.all(sinks.map((s) => s.close?.()));
    },
  };
}
