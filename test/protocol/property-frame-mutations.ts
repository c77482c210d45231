/** fast-check arbitraries of the frame mutations in chaos/lib/fuzz-mutations.ts. */
import fc from 'fast-check';
import type { Mutation } from '../../chaos/lib/fuzz-mutations.ts';

export { applyMutation, type Mutation } from '../../chaos/lib/fuzz-mutations.ts';

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), tail: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('retag' as const), which: fc.nat(), field: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 2 ** 29 - 1 })), wire: fc.integer({ min: 0, max: 7 }) }),
);

