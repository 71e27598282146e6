// The dominator-tree helpers the leak rules share (src/analysis/rules/rule-support.ts), on small graphs whose answers
// are worked out by hand: a set's retained bytes count an object once even when another member dominates it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeDominators, computeRetainedSizes } from '../../src/analysis/dominators';
import type { RuleContext } from '../../src/analysis/rules/rule-context';
import { isDominatedBy, retainedOfSet } from '../../src/analysis/rules/rule-support';
import { ObjectGraph } from '../../src/heap/object-graph';

/** A context with only what the dominator helpers read. */
function contextOf(sizes: number[], edges: number[][], roots: number[]): RuleContext {
  const graph = ObjectGraph.fromAdjacency(
    sizes.map((_, i) => 0x1000 + i * 0x100),
    sizes,
    edges,
  );
  const dominators = computeDominators({ nodeCount: graph.count, offsets: graph.edgeStart, edges: graph.edgeTarget }, roots);
  return { graph, dominators, retained: computeRetainedSizes(dominators, graph.sizes) } as unknown as RuleContext;
}

describe('rule support: dominator helpers', () => {
  // 0 (root) → 1 → 2 → 3, 1 → 4; 5 (root) → 4: node 4 has two owners, so 1 does not dominate it.
  const ctx = contextOf([1, 10, 100, 1000, 10000, 5], [[1], [2, 4], [3], [], [], [4]], [0, 5]);

  it('retainedOfSet counts a member dominated by another member once', () => {
    assert.equal(retainedOfSet(ctx, [1, 2]), 1110); // 1 retains 2 and 3, not 4
    assert.equal(retainedOfSet(ctx, [2, 3]), 1100);
    assert.equal(retainedOfSet(ctx, [3, 4]), 11000);
    assert.equal(retainedOfSet(ctx, []), 0);
  });

  it('isDominatedBy looks a bounded number of steps up the tree', () => {
    assert.equal(isDominatedBy(ctx, 3, 1, 2), true);
    assert.equal(isDominatedBy(ctx, 3, 1, 1), false);
    assert.equal(isDominatedBy(ctx, 4, 1, 5), false);
    assert.equal(isDominatedBy(ctx, 3, new Set([0, 9]), 5), true);
  });
});
