// `drover/testing`: what a role's unit tests need, no host required. The project's own role
// tests use the same pieces.
//   const { ctx, transport } = makeHostCtx(myRole, { vars: { web_port: 8080 } });
//   transport.on('systemctl show', { stdout: 'ActiveState=active\n' });
//   const r = await taskOf(myRole, 'config').run(ctx);
export { FakeTransport, type RecordedExec, type Responder } from './fake-transport.ts';
export { almaFacts, containerFacts, debianFacts } from './facts.ts';
export { makeHostCtx, taskOf, type TestCtx, type TestCtxOptions } from './context.ts';
// Record a real run's execs and answers, replay them without the host (e.g. to count the
// round trips a converged role costs: test/unit/roles/round-trips.test.ts does it for ours).
export { RecordingTransport } from './recording-transport.ts';
export { Replay, ReplayTransport, NotRecordedError, REPLAY_ROUND_TRIPS, type ReplayOptions, type ReplayStats } from './replay-transport.ts';
export { hostRecordingSchema, execKey, getKey, type HostRecording, type RecordingExec, type RecordedGet, type RecordedAnswer, type Seen } from './recording.ts';
