/**
 * Timer leaks: live, not-cancelled System.Threading.TimerQueueTimers (behind every System.Threading.Timer,
 * System.Timers.Timer and Task.Delay) grouped by the method their callback ends up calling. The runtime's timer
 * queue roots every such timer, so an owner that started a timer and was dropped without Dispose lives forever;
 * the rule counts the timers whose callback target nothing but the timer keeps alive ("self-rooted").
 */
import { NO_OBJECT } from '../../heap/object-graph';
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import type { RuleContext } from './rule-context';
import { bytesText, hex, methodCulprit, methodTablesNamed, plural, readBoolField, readReferenceField, resolveCallback, retainedOfSet, retentionChain, typeName } from './rule-support';

/** Self-rooted timers with one callback method from which on the rule warns. */
export const MIN_LEAKED_TIMERS = 5;
/** Live timers with one callback method from which on the rule reports them (info) even when something else holds
 * their owners. */
export const MANY_LIVE_TIMERS = 100;

// Owner ← (handler delegate ← System.Timers.Timer ←) TimerCallback ← TimerQueueTimer: a few steps up the tree.
const DOMINATOR_STEPS = 6;

interface Group {
  readonly methodDesc: number;
  readonly isUser: boolean;
  readonly timers: number[];
  /** Callback targets (graph indexes) that only their timer keeps alive. */
  readonly leakedOwners: Set<number>;
  readonly leakedTimers: number[];
  readonly ownerTypes: Map<string, number>;
  readonly delegates: number[];
}

/** Finds many live timers whose callbacks call one method, with owners only the timer queue keeps alive. */
export const timerLeakRule: LeakRule<RuleContext> = {
  id: 'timer-leak',
  description: 'Live timers never disposed, grouped by callback method; their owners are kept alive only by the timer queue',
  run(ctx: RuleContext): Finding[] {
    const g = ctx.graph;
    const timerMts = new Set(methodTablesNamed(ctx, 'System.Threading.TimerQueueTimer'));
    if (timerMts.size === 0) return [];
    const groups = new Map<number, Group>();
    for (let i = 0; i < g.count; i++) {
      if (!ctx.live[i] || !timerMts.has(g.mtOf(i))) continue;
      const address = g.addresses[i]!;
      const mt = g.mtOf(i);
      if (readBoolField(ctx, address, mt, '_canceled') !== false) continue;
      const callback = readReferenceField(ctx, address, mt, '_timerCallback');
      if (callback === 0) continue;
      const resolved = resolveCallback(ctx, callback);
      if (!resolved) continue;
      let group = groups.get(resolved.methodDesc);
      if (!group) {
        group = { methodDesc: resolved.methodDesc, isUser: resolved.isUser, timers: [], leakedOwners: new Set(), leakedTimers: [], ownerTypes: new Map(), delegates: [] };
        groups.set(resolved.methodDesc, group);
      }
      group.timers.push(i);
      group.delegates.push(resolved.delegate);
      const owner = resolved.target !== 0 && resolved.target !== resolved.delegate ? g.indexOf(resolved.target) : NO_OBJECT;
      if (owner === NO_OBJECT || !dominatedByTimer(ctx, owner, i)) continue;
      group.leakedOwners.add(owner);
      group.leakedTimers.push(i);
      const ownerType = typeName(ctx, g.mtOf(owner));
      group.ownerTypes.set(ownerType, (group.ownerTypes.get(ownerType) ?? 0) + 1);
    }
    const findings: Finding[] = [];
    for (const group of groups.values()) {
      if (group.leakedTimers.length >= MIN_LEAKED_TIMERS) findings.push(leakFinding(ctx, group));
      else if (group.timers.length >= MANY_LIVE_TIMERS) findings.push(manyFinding(ctx, group));
    }
    return findings;
  },
};

function dominatedByTimer(ctx: RuleContext, owner: number, timer: number): boolean {
  let v = owner;
  for (let k = 0; k < DOMINATOR_STEPS; k++) {
    const d = ctx.dominators.idom[v]!;
    if (d < 0) return false;
    if (d === timer) return true;
    v = d;
  }
  return false;
}

function leakFinding(ctx: RuleContext, group: Group): Finding {
  const g = ctx.graph;
  const method = ctx.code.methodDescs.name(group.methodDesc);
  const n = group.leakedTimers.length;
  const ownerType = [...group.ownerTypes.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  const retainedBytes = retainedOfSet(ctx, group.leakedOwners);
  const owners = [...group.leakedOwners];
  const timer = g.addresses[group.leakedTimers[0]!]!;
  const examples = owners.slice(0, 5).map((o) => g.addresses[o]!);
  const path = retentionChain(ctx, owners[0]!);
  return {
    rule: timerLeakRule.id,
    title: `Timer leak: ${plural(n, 'undisposed timer')} calling ${method}`,
    severity: group.isUser ? 'warning' : 'info',
    verdict:
      `${plural(n, 'live timer')} call ${method} on ${ownerType} objects that nothing but the timer queue keeps alive:` +
      ` they were never disposed, so they and their owners (${bytesText(retainedBytes)}) live until the process ends.`,
    objectCount: n,
    retainedBytes,
    ...(group.isUser ? { culprit: methodCulprit(ctx, group.methodDesc, `callback of ${plural(n, 'timer')} that were never disposed`) } : {}),
    chain: path.chain,
    examples,
    verify: [`do ${hex(timer)}`, `dumpdelegate ${hex(group.delegates[0]!)}`, `gcroot ${hex(examples[0]!)}`, 'dumpheap -stat -type System.Threading.TimerQueueTimer'],
    confidence: group.isUser ? 'high' : 'medium',
    details: {
      ...(path.root ? { root: path.root } : {}),
      callback: method,
      ownerTypes: Object.fromEntries(group.ownerTypes),
      liveTimers: group.timers.length,
      timers: group.leakedTimers.slice(0, 5).map((t) => hex(g.addresses[t]!)),
    },
  };
}

function manyFinding(ctx: RuleContext, group: Group): Finding {
  const g = ctx.graph;
  const method = ctx.code.methodDescs.name(group.methodDesc);
  const n = group.timers.length;
  const examples = group.timers.slice(0, 5).map((t) => g.addresses[t]!);
  const path = retentionChain(ctx, group.timers[0]!);
  return {
    rule: timerLeakRule.id,
    title: `${plural(n, 'live timer')} calling ${method}`,
    severity: 'info',
    verdict: `${plural(n, 'live timer')} call ${method}; their owners are also held elsewhere, so this may be by design.`,
    objectCount: n,
    retainedBytes: 0,
    chain: path.chain,
    examples,
    verify: [`do ${hex(examples[0]!)}`, `dumpdelegate ${hex(group.delegates[0]!)}`],
    confidence: 'low',
    details: { ...(path.root ? { root: path.root } : {}), callback: method },
  };
}
