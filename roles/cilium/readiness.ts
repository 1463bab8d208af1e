// Did the nodes go Ready? With flannel off, a node stays NotReady ("cni plugin not
// initialized") until Cilium's agent has written its CNI config on it, so every node Ready is
// the sign that Cilium runs everywhere. Read from `k3s kubectl get nodes -o json`; pure: the
// JSON in, the problems out; the polling lives in index.ts. (Cilium's own DaemonSet and
// operator are not read: the lab's K3s double serves Nodes only, so that check could not be
// tested here.)

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Obj) : {});
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);

/** `get nodes -o json`: each node that is not Ready, with the reason the kubelet gives. */
export function nodeProblems(list: unknown): string[] {
  const items = arr(obj(list).items);
  if (!items.length) return ['no nodes registered yet'];
  const out: string[] = [];
  for (const n of items) {
    const name = String(obj(obj(n).metadata).name ?? '?');
    const ready = arr(obj(obj(n).status).conditions)
      .map(obj)
      .find((c) => c.type === 'Ready');
    if (ready?.status === 'True') continue;
    const why = ready ? [ready.reason, ready.message].filter((x) => typeof x === 'string' && x).join(': ') : 'no Ready condition';
    out.push(`node ${name} not Ready${why ? ` (${why})` : ''}`);
  }
  return out;
}

/**
 * What helm-controller says about the HelmChart (`get helmchart cilium -o json`), for the
 * timeout message: its Failed condition, else the install job it created.
 */
export function helmChartNote(chart: unknown): string {
  const st = obj(obj(chart).status);
  const conds = arr(st.conditions).map(obj);
  const failed = conds.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return `HelmChart cilium Failed${[failed.reason, failed.message].filter((x) => typeof x === 'string' && x).map((x) => `: ${String(x)}`).join('')}`;
  if (typeof st.jobName === 'string' && st.jobName) return `HelmChart cilium applied, install job ${st.jobName}`;
  return 'HelmChart cilium applied, no install job yet';
}
