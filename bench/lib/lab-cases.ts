// The lab part's scenarios and the lab-first part's cases, by the ids the command line takes
// (--lab-scenarios, --first-cases). Here, not in lab.ts, so bench/run.ts can check the flags
// without loading the lab part (roles, the K3s double) for other parts.
export type LabScenarioId = 'one' | 'python' | 'all';
export const LAB_SCENARIOS: readonly LabScenarioId[] = ['one', 'python', 'all'];
export type FirstCaseId = 'drover-1' | 'drover-all' | 'ansible-1' | 'ansible-python';
export const FIRST_CASES: readonly FirstCaseId[] = ['drover-1', 'drover-all', 'ansible-1', 'ansible-python'];
