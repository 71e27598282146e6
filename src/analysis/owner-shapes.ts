/**
 * Owner shapes at heap scale: for many objects at once, the key `diff` matches growth by — the owner on the shortest
 * root path (static field or root kind + root type) and the path's collapsed shape (retention-clusters.ts) — without
 * building any path or string per object. Shortest paths form a tree (`parentOf`), and a path's key depends only on
 * its prefix's state (the key so far, the run of collapsible framework links, the owner, the depth), so each object's
 * state is its parent's state plus one link, and the number of distinct states is the number of distinct path
 * shapes: states are interned once, objects hold a state id in a typed array, and a node's children are all given
 * their states in one scan of its edges (the first edge to a child is the link its path names, as `pathTo` does).
 * `slowOwnerShapeKey` builds the same key the slow way (pathTo + collapseChain) for checks.
 */
import { LimitExceededError } from '../errors';
import { DEPENDENT_EDGE, type ObjectGraph } from '../heap/object-graph';
import { staticSlotsOf, type StaticSlotMap } from '../runtime/static-slots';
import { PATH_ROOT, PATH_UNREACHED, type AnalysisContext, type RetentionPath } from './analysis-context';
import { collapseChain } from './retention-clusters';

const POINTER = 8;
/** Distinct link parts (field + type + kept) one dump may have; far above any real program's type/field pairs. */
const MAX_PARTS = 1 << 21;
const NO_STATE = -1;
/** The owner is looked for in the first links of a path only (statics arrays are root objects). */
const OWNER_DEPTH = 3;

/** What a path prefix has accumulated; interned, one per distinct shape. */
interface PrefixState {
  /** The key through the last kept link. */
  readonly committed: string;
  /** Collapsible links after it: 0, 1 or 2+ (2+ becomes one `…`). */
  readonly runLength: 0 | 1 | 2;
  /** The single collapsible link's part when runLength is 1. */
  readonly runPart: string;
  /** The parent's key, resolved as if this node ended the path, and this node's own part: a path that ends here
   * keys as `parentResolved / ownPart` (the last link is always kept). */
  readonly parentResolved: string;
  readonly ownPart: string;
  /** `static Type.field` once found, else ''. */
  readonly staticOwner: string;
  readonly rootOwner: string;
  /** Links from the root object (capped above OWNER_DEPTH). */
  readonly depth: number;
  /** This node is a `System.Object[]` (a statics array's slots name the owner). */
  readonly objectArray: boolean;
  /** This node's type name id (a user node right after one of its own type is not kept: collapseChain). */
  readonly typeId: number;
}

/** Per-MethodTable facts the keys need. */
interface TypeFacts {
  readonly nameId: number;
  readonly name: string;
  readonly kept: boolean;
  readonly objectArray: boolean;
  /** For arrays: element size and where element 0 starts; undefined for other types. */
  readonly array?: { readonly elementSize: number; readonly dataStart: number };
}

/** Owner-and-shape keys of a context's objects (one instance per context; arrays sized by the graph). */
export class OwnerShapes {
  private readonly graph: ObjectGraph;
  private readonly parent: Int32Array;
  private readonly stateOf: Int32Array;
  private readonly expanded: Uint8Array;
  private readonly states: PrefixState[] = [];
  private readonly stateIds = new Map<string, number>();
  private readonly transitions = new Map<number, number>();
  private readonly finalKeys = new Map<number, string>();
  private readonly types = new Map<number, TypeFacts>();
  private readonly typeNames: string[] = [];
  private readonly typeNameIds = new Map<string, number>();
  private readonly fields: string[] = [];
  private readonly fieldIds = new Map<string, number>();
  private readonly fieldByMtOffset = new Map<number, Map<number, number>>();
  private readonly parts: { fieldId: number; typeId: number; kept: boolean }[] = [];
  private readonly partIds = new Map<number, number>();
  private statics?: StaticSlotMap;
  private readonly upStack: number[] = [];

  constructor(private readonly ctx: AnalysisContext) {
    this.graph = ctx.graph;
    this.parent = ctx.parentOf;
    this.stateOf = new Int32Array(this.graph.count).fill(NO_STATE);
    this.expanded = new Uint8Array(this.graph.count);
  }

  /** The key of object `index` (`owner | shape`, as `slowOwnerShapeKey`), or undefined when no root reaches it. */
  key(index: number): string | undefined {
    const s = this.state(index);
    if (s === NO_STATE) return undefined;
    let k = this.finalKeys.get(s);
    if (k === undefined) {
      const st = this.states[s]!;
      k = `${st.staticOwner || st.rootOwner} | ${st.parentResolved} / ${st.ownPart}`;
      this.finalKeys.set(s, k);
    }
    return k;
  }

  /** The interned state of object `index` (NO_STATE when unreachable): walks up to the first ancestor with a state
   * (or the root object) and gives states downwards, each node's children all at once. */
  private state(index: number): number {
    const parent = this.parent;
    if (parent[index] === PATH_UNREACHED) return NO_STATE;
    const known = this.stateOf[index]!;
    if (known !== NO_STATE) return known;
    const up = this.upStack;
    up.length = 0;
    let v = index;
    while (this.stateOf[v] === NO_STATE && parent[v] !== PATH_ROOT) {
      up.push(v);
      v = parent[v]!;
    }
    if (this.stateOf[v] === NO_STATE) this.stateOf[v] = this.rootState(v);
    // v has a state; expand down the recorded chain (each parent's scan gives the next node its state).
    for (let k = up.length - 1; k >= 0; k--) {
      this.expand(parent[up[k]!]!);
      if (this.stateOf[up[k]!] === NO_STATE) throw new Error(`owner shapes: object ${up[k]} got no state from its parent`);
    }
    return this.stateOf[index]!;
  }

  /** Gives every tree child of `p` (objects whose shortest path comes through p) its state, by p's first edge to it. */
  private expand(p: number): void {
    if (this.expanded[p]) return;
    this.expanded[p] = 1;
    const g = this.graph;
    const parent = this.parent;
    const stateOf = this.stateOf;
    const from = stateOf[p]!;
    const pFacts = this.facts(g.mtOf(p));
    const first = g.edgeStart[p]!;
    let offsets: Float64Array | undefined;
    for (let e = first; e < g.edgeStart[p + 1]!; e++) {
      const t = g.edgeTarget[e]!;
      if (parent[t] !== p || stateOf[t] !== NO_STATE) continue;
      offsets ??= g.edgeOffsetsOf(p);
      const field = this.fieldId(p, pFacts, e, offsets[e - first]!);
      const tFacts = this.facts(g.mtOf(t));
      const partKey = field * 2 ** 22 + tFacts.nameId * 2 + (tFacts.kept ? 1 : 0);
      let part = this.partIds.get(partKey);
      if (part === undefined) {
        part = this.parts.length;
        if (part >= MAX_PARTS) throw new LimitExceededError(`more than ${MAX_PARTS} distinct field/type links on root paths`);
        this.parts.push({ fieldId: field, typeId: tFacts.nameId, kept: tFacts.kept });
        this.partIds.set(partKey, part);
      }
      const tKey = from * MAX_PARTS + part;
      let next = this.transitions.get(tKey);
      if (next === undefined) {
        next = this.transition(from, part, tFacts.objectArray);
        this.transitions.set(tKey, next);
      }
      stateOf[t] = next;
    }
  }

  private transition(fromId: number, partId: number, objectArray: boolean): number {
    const from = this.states[fromId]!;
    const part = this.parts[partId]!;
    const field = this.fields[part.fieldId]!;
    const ownPart = `${field.replace(/^\[\d*\]/, '[]')}:${this.typeNames[part.typeId]!}`;
    const parentResolved = resolve(from);
    const depth = Math.min(from.depth + 1, OWNER_DEPTH + 1);
    let staticOwner = from.staticOwner;
    if (!staticOwner && depth <= OWNER_DEPTH && from.objectArray && !field.startsWith('[') && field.includes('.')) staticOwner = `static ${field}`;
    const typeId = part.typeId;
    const next: PrefixState =
      part.kept && typeId !== from.typeId
      ? { committed: `${parentResolved} / ${ownPart}`, runLength: 0, runPart: '', parentResolved, ownPart, staticOwner, rootOwner: from.rootOwner, depth, objectArray, typeId }
      : {
          committed: from.committed,
          runLength: from.runLength === 0 ? 1 : 2,
          runPart: from.runLength === 0 ? ownPart : '',
          parentResolved,
          ownPart,
          staticOwner,
          rootOwner: from.rootOwner,
          depth,
          objectArray,
          typeId,
        };
    return this.intern(next);
  }

  private rootState(v: number): number {
    const path: RetentionPath | undefined = this.ctx.pathTo(v);
    if (!path) throw new Error(`owner shapes: root object ${v} has no path`);
    const facts = this.facts(this.graph.mtOf(v));
    const ownPart = `:${facts.name}`;
    return this.intern({
      committed: `${path.root.kind} / ${ownPart}`,
      runLength: 0,
      runPart: '',
      parentResolved: path.root.kind,
      ownPart,
      staticOwner: '',
      rootOwner: `${path.root.kind} root → ${facts.name}`,
      depth: 0,
      objectArray: facts.objectArray,
      typeId: facts.nameId,
    });
  }

  private intern(s: PrefixState): number {
    const k = [s.committed, s.runLength, s.runPart, s.parentResolved, s.ownPart, s.staticOwner, s.rootOwner, s.depth, s.objectArray ? 1 : 0, s.typeId].join('\u0000');
    let id = this.stateIds.get(k);
    if (id === undefined) {
      id = this.states.length;
      this.states.push(s);
      this.stateIds.set(k, id);
    }
    return id;
  }

  private facts(mt: number): TypeFacts {
    let f = this.types.get(mt);
    if (!f) {
      const ctx = this.ctx;
      const name = ctx.names.clrmdName(mt);
      let nameId = this.typeNameIds.get(name);
      if (nameId === undefined) {
        nameId = this.typeNames.length;
        this.typeNames.push(name);
        this.typeNameIds.set(name, nameId);
      }
      const info = ctx.parts.methodTables.tryRead(mt);
      const array = info?.isArray ? { elementSize: info.componentSize || POINTER, dataStart: info.isSzArray ? 2 * POINTER : info.baseSize - POINTER } : undefined;
      f = { nameId, name, kept: ctx.isUserType(mt) || ctx.isDelegate(mt), objectArray: name === 'System.Object[]', ...(array ? { array } : {}) };
      this.types.set(mt, f);
    }
    return f;
  }

  /** The interned, normalised name of the slot edge `e` of object `p` comes from (what `ctx.slotName` names, with
   * array indexes dropped), computed once per MethodTable and offset (per element offset for arrays). */
  private fieldId(p: number, facts: TypeFacts, e: number, offset: number): number {
    const g = this.graph;
    const mt = g.mtOf(p);
    if (offset !== DEPENDENT_EDGE && facts.objectArray) {
      const slot = (this.statics ??= staticSlotsOf(this.ctx.runtime, this.ctx.parts.methodTables, this.ctx.modules, (m) => this.ctx.names.moduleMetadata(m))).at(g.addresses[p]! + offset);
      if (slot) return this.internField(`${this.ctx.names.clrmdName(slot.declaringMT)}.${slot.field}`);
    }
    // Array elements differ only by index: key them by the offset within one element.
    const local = offset !== DEPENDENT_EDGE && facts.array ? (offset - facts.array.dataStart) % facts.array.elementSize : offset;
    let byOffset = this.fieldByMtOffset.get(mt);
    if (!byOffset) this.fieldByMtOffset.set(mt, (byOffset = new Map()));
    let id = byOffset.get(local);
    if (id === undefined) {
      id = this.internField(this.ctx.slotName(p, e).replace(/^\[\d+\]/, '[]'));
      byOffset.set(local, id);
    }
    return id;
  }

  private internField(name: string): number {
    let id = this.fieldIds.get(name);
    if (id === undefined) {
      id = this.fields.length;
      this.fields.push(name);
      this.fieldIds.set(name, id);
    }
    return id;
  }
}

function resolve(s: PrefixState): string {
  if (s.runLength === 0) return s.committed;
  return s.runLength === 1 ? `${s.committed} / ${s.runPart}` : `${s.committed} / …`;
}

/** The same key built from the object's own path (pathTo + collapseChain + owner), for checks. */
export function slowOwnerShapeKey(ctx: AnalysisContext, index: number): string | undefined {
  const path = ctx.pathTo(index);
  if (!path) return undefined;
  return `${ownerOfPath(ctx, path)} | ${collapseChain(ctx, path).key}`;
}

/** The static field that holds a path (the first link out of a statics array), else its root kind and root type
 * (root addresses differ between processes, so they are left out of the match). */
export function ownerOfPath(ctx: AnalysisContext, path: RetentionPath): string {
  const { nodes, edges } = path;
  for (let k = 1; k < nodes.length && k <= OWNER_DEPTH; k++) {
    if (ctx.typeName(nodes[k - 1]!) !== 'System.Object[]') continue;
    const slot = ctx.slotName(nodes[k - 1]!, edges[k]!);
    if (!slot.startsWith('[') && slot.includes('.')) return `static ${slot}`;
  }
  return `${path.root.kind} root → ${ctx.typeName(nodes[0]!)}`;
}
