// Issue 13, the culprit of growth with no delegate on its path (src/analysis/holder-culprit.ts), on the leak-cache
// dump: a Leaks.ProductRecord is held through static CatalogCache.s_instance → CatalogCache._items (an instance
// field of a user type) → Dictionary → entries. LeaksCache.cs: the only method that adds to _items is
// CatalogCache.Get (`_items[sku] = record`; its `_order.Enqueue` is on another field), so the holder is the
// instance field _items and the culprit Get — named through the MethodDesc the runtime made when Get was compiled.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holderCulprit } from '../../src/analysis/holder-culprit';
import { analysisContextOf } from '../../src/cli/commands/analyze';
import { getDump } from '../support/dumps';
import { sessionFor } from '../support/run-command';

describe('the adding method of the field that holds a growing collection', { timeout: 10 * 60_000 }, () => {
  it('leak-cache: CatalogCache._items, added to by CatalogCache.Get', async () => {
    const dump = await getDump('leak-cache');
    const ctx = analysisContextOf(sessionFor(dump.dumpPath));
    let record = -1;
    for (let i = 0; i < ctx.graph.count && record < 0; i++) if (ctx.typeName(i) === 'Leaks.ProductRecord' && ctx.isReachable(i)) record = i;
    assert.ok(record >= 0, 'a reachable Leaks.ProductRecord');
    const path = ctx.pathTo(record)!;
    const found = holderCulprit(ctx, path);
    assert.equal(found.note, undefined, found.note);
    assert.deepEqual([found.holder?.name, found.holder?.isStatic], ['Leaks.CatalogCache._items', false]);
    assert.equal(found.culprit?.method, 'Leaks.CatalogCache.Get(System.String)');
    assert.equal(found.culprit?.module, 'Debuggees.dll');
    assert.match(found.culprit?.evidence ?? '', /loads Leaks\.CatalogCache\._items, .* calls set_Item \(the only method of Leaks\.CatalogCache that does\)/);
  });
});
