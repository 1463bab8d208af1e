// `drover/testing`: what a role's unit tests need, no host required. The project's own role
// tests use the same pieces.
//   const { ctx, transport } = makeHostCtx(myRole, { vars: { web_port: 8080 } });
//   transport.on('systemctl show', { stdout: 'ActiveState=active\n' });
//   const r = await taskOf(myRole, 'config').run(ctx);
export { FakeTransport, type RecordedExec, type Responder } from './fake-transport.ts';
export { almaFacts, containerFacts, debianFacts } from './facts.ts';
export { makeHostCtx, taskOf, type TestCtx, type TestCtxOptions } from './context.ts';
