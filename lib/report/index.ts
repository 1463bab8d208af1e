// Consumers of the runner's event stream.
export { PlainReporter, type PlainReporterOptions } from './plain.ts';
export { JsonReporter } from './json.ts';
export { formatRecap, SlowestTasks, type RecapSummary, type SlowTaskLine } from './recap-format.ts';
export { redactingSink, teeSink } from './redacting-sink.ts';
export { unifiedDiff, unifiedDiffLines, renderFileDiff, diffLines, type DiffLine } from './diff.ts';
export { formatDuration, type OutStream } from './format.ts';
export { EventSchema, EVENT_SCHEMA_VERSION, type DroverEvent, type EventSink } from './events.ts';
