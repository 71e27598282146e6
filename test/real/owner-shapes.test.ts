// Issue 13, growth by owner at heap scale: the shape index (src/analysis/owner-shapes.ts, one state per path prefix,
// no per-object path) gives every reachable object of real dumps exactly the key its own shortest root path gives
// the slow way (pathTo + collapseChain + the owner on the path), and no key to unreachable objects. The dumps: both
// of the grow pair (a Dictionary of sessions, an event's invocation list, statics arrays), leak-event, many (200,000
// objects) and seed-apm (a full server-GC dump of a service-shaped heap).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OwnerShapes, slowOwnerShapeKey } from '../../src/analysis/owner-shapes';
import { analysisContextOf } from '../../src/cli/commands/analyze';
import { getDump, getDumpPair, MANY_TEST_COUNT } from '../support/dumps';
import { sessionFor } from '../support/run-command';

const TIMEOUT = 10 * 60_000;
const SLOW_CHECKS = 1_500;

async function dumpPaths(): Promise<{ label: string; path: string }[]> {
  const pair = await getDumpPair('grow');
  const event = await getDump('leak-event');
  const many = await getDump('many', { args: [String(MANY_TEST_COUNT)] });
  const seed = await getDump('seed-apm', { dumpType: 'full', serverGc: true });
  return [
    { label: 'grow, first dump', path: pair.first.dumpPath },
    { label: 'grow, second dump', path: pair.second.dumpPath },
    { label: 'leak-event', path: event.dumpPath },
    { label: 'many 200000', path: many.dumpPath },
    { label: 'seed-apm full svr', path: seed.dumpPath },
  ];
}

describe('owner shapes equal the keys of each object’s own path', { timeout: TIMEOUT }, () => {
  it('every object of five real dumps', async () => {
    let total = 0;
    for (const d of await dumpPaths()) {
      const ctx = analysisContextOf(sessionFor(d.path));
      const shapes = new OwnerShapes(ctx);
      const keys = new Set<string>();
      let reachable = 0;
      let checked = 0;
      // Every object's fast key; the slow key (one path each, a few ms on big arrays) of every object of the small
      // dumps and of ~1,500 evenly spaced ones of the others. Descending order: deep objects first, so most states
      // come from walking up, not from an earlier parent.
      const step = Math.max(1, Math.floor(ctx.graph.count / SLOW_CHECKS));
      for (let i = ctx.graph.count - 1; i >= 0; i--) {
        const fast = shapes.key(i);
        if (fast !== undefined) {
          reachable++;
          keys.add(fast);
        }
        if (i % step !== 0) continue;
        checked++;
        const slow = slowOwnerShapeKey(ctx, i);
        if (fast !== slow) assert.fail(`${d.label}: object 0x${ctx.graph.addresses[i]!.toString(16)} (${ctx.typeName(i)}): fast "${fast}", slow "${slow}"`);
      }
      console.log(`${d.label}: ${reachable} reachable objects of ${ctx.graph.count}, ${keys.size} shapes, ${checked} checked the slow way`);
      assert.ok(reachable > 100, `${d.label}: ${reachable} reachable objects`);
      total += checked;
      assert.ok(keys.size > 20, `${d.label}: ${keys.size} distinct shapes`);
      assert.ok([...keys].some((k) => k.startsWith('static Growth.SessionRegistry.s_sessions | ')) || !d.label.startsWith('grow'), `${d.label}: the sessions' owner is among the keys`);
    }
    assert.ok(total > 6_000, `${total} objects checked`);
  });
});
