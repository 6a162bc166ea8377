/**
 * Quota counter failures seen by this isolate, per project: how often the
 * counter could not answer, and how many units went through uncounted
 * (fail open) or were refused (fail closed). Read by the admin API.
 */
export interface CounterFailures {
  calls: number;
  unitsAdmittedUncounted: number;
  unitsRefused: number;
  lastError?: string;
  lastAt?: string;
}

const byProject = new Map<string, CounterFailures>();

export function recordCounterFailure(projectId: string, failure: "open" | "closed", units: number, error: string, now: number): void {
  const entry = byProject.get(projectId) ?? { calls: 0, unitsAdmittedUncounted: 0, unitsRefused: 0 };
  entry.calls++;
  if (failure === "open") entry.unitsAdmittedUncounted += units;
  else entry.unitsRefused += units;
  entry.lastError = error;
  entry.lastAt = new Date(now).toISOString();
  byProject.set(projectId, entry);
}

export function counterFailures(projectId: string): CounterFailures {
  return byProject.get(projectId) ?? { calls: 0, unitsAdmittedUncounted: 0, unitsRefused: 0 };
}
