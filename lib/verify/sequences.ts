// Do staging's sequences stand where production's do? A copy whose rows are
// equal but whose sequences lag hands out, on staging's next insert, a key a
// copied row already holds: that is not Perfect.
import { qualifiedName, type SequenceState } from '../catalog/types.ts';
import { isFurther, type SequencePlan } from '../plan/sequences.ts';
import type { Database } from '../transport/database.ts';

/** ahead: staging's hands out, next, a number production's has not reached (an upsert keeps it so). */
export type SequenceStatus = 'equal' | 'differs' | 'ahead' | 'missing';

export interface SequenceVerdict {
  sequence: string;
  production: SequenceState | null;
  staging: SequenceState | null;
  status: SequenceStatus;
}

export async function verifySequences(production: Database, staging: Database, plans: SequencePlan[]): Promise<SequenceVerdict[]> {
  const refs = plans.map((plan) => plan.sequence);
  const [fromProduction, fromStaging] = await Promise.all([production.sequenceValues(refs), staging.sequenceValues(refs)]);
  const byName = (states: SequenceState[]) => new Map(states.map((state) => [qualifiedName(state), state]));
  const [productionStates, stagingStates] = [byName(fromProduction), byName(fromStaging)];
  return plans.map((plan) => {
    const sequence = qualifiedName(plan.sequence);
    const p = productionStates.get(sequence) ?? null;
    const s = stagingStates.get(sequence) ?? null;
    const status: SequenceStatus =
      !s || !p ? 'missing' : s.lastValue === p.lastValue && s.isCalled === p.isCalled ? 'equal' : isFurther(s, p, plan.increment) ? 'ahead' : 'differs';
    return { sequence, production: p, staging: s, status };
  });
}
