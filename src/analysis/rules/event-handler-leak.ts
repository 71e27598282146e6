/**
 * Event-handler leaks (dotMemory's inspection): a live multicast delegate — the backing field of an event — whose
 * invocation list holds many handlers on instances of one type that nothing but that list keeps alive. Those
 * subscribers were dropped by their owners without unsubscribing; the event holds them (and all they reference)
 * for as long as the publisher lives. A subscriber that something else also retains is not counted: a long-lived
 * view legitimately subscribed is not a leak.
 */
import { DumpsleuthError } from '../../errors';
import { NO_OBJECT } from '../../heap/object-graph';
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import { firstEdgeBetween } from '../path-to';
import type { RuleContext } from './rule-context';
import { bytesText, hex, isUserMethod, methodCulprit, plural, readReferenceField, retainedOfSet, retentionChain, typeName } from './rule-support';

/** Subscribers of one type, retained only by one event, from which on the rule reports. */
export const MIN_EVENT_SUBSCRIBERS = 10;

// Subscriber (← closure) ← handler delegate ← invocation list ← the event's multicast delegate.
const DOMINATOR_STEPS = 4;
// C# compiles a lambda that captures locals into a method of a closure class; `<>4__this` is the captured `this`.
const CLOSURE_TYPE = /<>c__DisplayClass/;
const CLOSURE_THIS = '<>4__this';

interface Group {
  readonly targetMt: number;
  readonly methodDesc: number;
  readonly targets: Set<number>;
  readonly delegates: number[];
}

/** Finds events whose handler lists are the only thing keeping many subscribers of one type alive. */
export const eventHandlerLeakRule: LeakRule<RuleContext> = {
  id: 'event-handler-leak',
  description: 'Events (multicast delegates) whose handler lists alone keep many subscribers of one type alive',
  run(ctx: RuleContext): Finding[] {
    const g = ctx.graph;
    const findings: Finding[] = [];
    const isMulticastMt = new Map<number, boolean>();
    for (let i = 0; i < g.count; i++) {
      if (!ctx.live[i]) continue;
      const mt = g.mtOf(i);
      let delegateType = isMulticastMt.get(mt);
      if (delegateType === undefined) {
        delegateType = ctx.delegates.isDelegateType(mt);
        isMulticastMt.set(mt, delegateType);
      }
      if (!delegateType) continue;
      const address = g.addresses[i]!;
      // .NET 11 keeps a multicast delegate's invocation list in Delegate._helperObject (see runtime/code/delegates.ts).
      const list = readReferenceField(ctx, address, mt, '_invocationList') || readReferenceField(ctx, address, mt, '_helperObject');
      if (list === 0) continue;
      const listIndex = g.indexOf(list);
      if (listIndex === NO_OBJECT || !ctx.objects.tryReadMethodTable(g.mtOf(listIndex))?.isArray) continue;
      let invocations;
      try {
        invocations = ctx.delegates.read(address).invocations;
      } catch (e) {
        if (e instanceof DumpsleuthError) continue;
        throw e;
      }
      if (invocations.length < MIN_EVENT_SUBSCRIBERS) continue;
      const groups = new Map<string, Group>();
      for (const inv of invocations) {
        if (inv.target === 0 || inv.target === inv.delegate) continue; // static handlers hold no subscriber
        const t = subscriberOf(ctx, g.indexOf(inv.target));
        if (t === NO_OBJECT) continue;
        // Only subscribers that the event alone keeps alive count.
        let v = t;
        let owned = false;
        for (let k = 0; k < DOMINATOR_STEPS; k++) {
          const d = ctx.dominators.idom[v]!;
          if (d < 0) break;
          if (d === i || d === listIndex) {
            owned = true;
            break;
          }
          v = d;
        }
        if (!owned) continue;
        const key = `${g.mtOf(t)}:${inv.methodDesc}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { targetMt: g.mtOf(t), methodDesc: inv.methodDesc, targets: new Set(), delegates: [] }));
        group.targets.add(t);
        group.delegates.push(inv.delegate);
      }
      for (const group of groups.values()) {
        if (group.targets.size < MIN_EVENT_SUBSCRIBERS) continue;
        findings.push(groupFinding(ctx, i, listIndex, invocations.length, group));
      }
    }
    return findings;
  },
};

/** The object a handler really keeps alive: its target, or for a lambda's closure the `this` it captured (a closure
 * exists only to be held by its delegate, so a closure alone is no subscriber); NO_OBJECT when there is none. */
function subscriberOf(ctx: RuleContext, target: number): number {
  if (target === NO_OBJECT) return NO_OBJECT;
  const g = ctx.graph;
  const mt = g.mtOf(target);
  if (!CLOSURE_TYPE.test(typeName(ctx, mt))) return target;
  const captured = readReferenceField(ctx, g.addresses[target]!, mt, CLOSURE_THIS);
  return captured === 0 ? NO_OBJECT : g.indexOf(captured);
}

function groupFinding(ctx: RuleContext, eventIndex: number, listIndex: number, handlerCount: number, group: Group): Finding {
  const g = ctx.graph;
  const eventAddress = g.addresses[eventIndex]!;
  const subscriberType = typeName(ctx, group.targetMt);
  const eventType = typeName(ctx, g.mtOf(eventIndex));
  const holder = holderOf(ctx, eventIndex);
  const targets = [...group.targets];
  const examples = targets.slice(0, 5).map((t) => g.addresses[t]!);
  const retainedBytes = retainedOfSet(ctx, targets);
  const method = group.methodDesc !== 0 ? ctx.code.methodDescs.name(group.methodDesc) : '(unknown method)';
  const culprit =
    group.methodDesc !== 0 && isUserMethod(ctx, group.methodDesc)
      ? methodCulprit(ctx, group.methodDesc, `handler subscribed ${plural(group.targets.size, 'time')} to the ${eventType} ${holder} and never unsubscribed`)
      : undefined;
  const path = retentionChain(ctx, targets[0]!);
  return {
    rule: eventHandlerLeakRule.id,
    title: `Event handler leak: ${plural(group.targets.size, 'subscriber')} of type ${subscriberType}`,
    severity: 'warning',
    verdict:
      `${plural(group.targets.size, subscriberType + ' instance')} are kept alive only by the ${eventType} ${holder}` +
      ` (handler ${method}); they subscribed and were never unsubscribed, retaining ${bytesText(retainedBytes)}.`,
    objectCount: group.targets.size,
    retainedBytes,
    ...(culprit ? { culprit } : {}),
    chain: path.chain,
    examples,
    verify: [`dumpdelegate ${hex(eventAddress)}`, `gcroot ${hex(examples[0]!)}`, `do ${hex(examples[0]!)}`, `dumpobj ${hex(g.addresses[listIndex]!)}`],
    confidence: culprit ? 'high' : 'medium',
    details: {
      ...(path.root ? { root: path.root } : {}),
      event: hex(eventAddress),
      eventType,
      holder,
      invocationList: hex(g.addresses[listIndex]!),
      handlers: handlerCount,
      subscriberType,
      handler: method,
    },
  };
}

/** Where the event delegate is stored: `field Type._name` of the object that holds it, or a static slot. */
function holderOf(ctx: RuleContext, index: number): string {
  const g = ctx.graph;
  const rev = g.reverse();
  for (let k = rev.start[index]!; k < rev.start[index + 1]!; k++) {
    const s = rev.source[k]!;
    if (!ctx.live[s]) continue;
    // The first forward edge from s to the delegate is the one `rev.edge[k]` names, without its 4 bytes per edge.
    const edge = firstEdgeBetween(g, s, index);
    const staticField = ctx.staticFieldName?.(s, edge);
    if (staticField !== undefined) return `held in the static field ${staticField}`;
    const field = ctx.referenceNames.name(g.mtOf(s), g.edgeOffsetOf(edge));
    const info = ctx.objects.tryReadMethodTable(g.mtOf(s));
    // .NET 10 keeps statics in object[] buckets held by handles: a slot there is a static field.
    if (info?.isArray) return `held in static storage (${typeName(ctx, g.mtOf(s))} ${hex(g.addresses[s]!)}${field})`;
    return `field ${typeName(ctx, g.mtOf(s))}.${field}`;
  }
  return 'rooted directly';
}
