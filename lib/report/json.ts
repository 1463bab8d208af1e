// --json: one JSON object per line, exactly an EventSchema event plus `v` (the schema
// version), so tools can parse the stream with the same zod schema. See README.md.
import { redactDeep } from '../secrets/redact.ts';
import { EVENT_SCHEMA_VERSION, type DroverEvent, type EventSink } from './events.ts';
import type { OutStream } from './format.ts';

export class JsonReporter implements EventSink {
  private readonly out: OutStream;
  constructor(opts: { out?: OutStream } = {}) {
    this.out = opts.out ?? process.stdout;
  }
  emit(event: DroverEvent): void {
    this.out.write(JSON.stringify({ v: EVENT_SCHEMA_VERSION, ...redactDeep(event) }) + '\n');
  }
}
