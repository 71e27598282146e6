/**
 * The persistent per-dump index: what the graph commands (gcroot, retained, dominators, analyze, ...) build from a
 * dump — the object graph, the roots, the reverse edges, the dominator tree — kept in the cache folder so the next
 * process on the same dump reads it instead of walking the heap again. One folder per dump, one file per part
 * (index-file.ts), every part keyed by the dump's identity and the code's version (dump-identity.ts); parts derived
 * from the graph also name the graph file's digest. Anything that does not check out (missing, stale, truncated,
 * corrupt, over the size cap) is rebuilt from the dump and, when it fits the cap, written again. The index never
 * lands beside the dump, and the dump is only read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HeavyParts } from '../../analysis/analysis-context';
import { dominatorChildren } from '../../analysis/dominator-children';
import { computeRetainedSizes, type DominatorTree } from '../../analysis/dominators';
import { DumpsleuthError } from '../../errors';
import { ObjectGraph, type GraphProblems } from '../../heap/object-graph';
import type { GcRoot } from '../../heap/roots';
import type { Session } from '../session';
import { dumpIdentity, type DumpIdentity } from './dump-identity';
import { IndexFile, IndexFileError, writeIndexFile, type SectionData } from './index-file';
import { PagedGraph } from './paged-graph';

/** Where the index lives and how big it may grow. */
export interface IndexSettings {
  /** The folder holding one sub-folder per dump. */
  readonly dir: string;
  /** Largest total size of one dump's index files; a part that would go over it is not written (said on stderr). */
  readonly maxBytes: number;
  /** Say on stderr which parts were read or written (tests use it to know the index was used). */
  readonly log?: boolean;
}

/** The parts, in the order they are written (derived parts after the graph they come from). */
type Part = 'graph' | 'roots' | 'reverse' | 'dominators';
const PARTS: readonly Part[] = ['graph', 'roots', 'reverse', 'dominators'];

/** A command's whole answer as the index keeps it (`analyze`'s findings): its text, its JSON and its warnings. */
export interface StoredAnswer {
  readonly text: string;
  readonly json: unknown;
  readonly warnings: readonly string[];
}

/** The file of stored answers (not a part of the graph: keyed by the dump's identity alone). */
const ANSWERS = 'answers';

/** Roots as RootCache keeps them. */
export interface StoredRoots {
  readonly nonStack: GcRoot[];
  readonly stack: GcRoot[];
}

/** The index of one session's dump. RootCache and the analysis context ask it for parts and tell it what they
 * built; `persist` (after each command) writes what is new. */
export class SessionIndex {
  private identityValue?: DumpIdentity | null;
  private graph?: ObjectGraph;
  private graphDigest?: string;
  private graphStored = false;
  private roots?: () => StoredRoots;
  private rootsStored = false;
  private reverseStored = false;
  private heavy?: HeavyParts;
  private treeComputed = false;
  private treeStored = false;
  private paged = new Map<string, PagedGraph | null>();
  /** Answers computed by this process, by `answerKey`, not yet written. */
  private readonly newAnswers = new Map<string, StoredAnswer>();
  /** Lines for stderr: parts rebuilt because they did not check out, parts not written (cap, disk). */
  readonly notes: string[] = [];

  constructor(
    private readonly session: Session,
    readonly settings: IndexSettings,
  ) {}

  /** The object graph from the index, or undefined (then build it and call `graphBuilt`). */
  loadGraph(): ObjectGraph | undefined {
    const file = this.open('graph');
    if (file === undefined) return undefined;
    try {
      const s = this.session;
      const graph = ObjectGraph.fromStored(
        {
          addresses: file.f64('addresses'),
          typeIndexes: file.u32('typeIndexes'),
          methodTables: file.f64('methodTables'),
          sizes: file.typeOf('sizes') === 'f64' ? file.f64('sizes') : file.u32('sizes'),
          edgeStart: file.u32('edgeStart'),
          edgeTarget: file.u32('edgeTarget'),
          problems: file.json('problems') as GraphProblems,
        },
        s.methodTables,
        s.runtime.memory,
      );
      this.graph = graph;
      this.graphDigest = file.digest;
      this.graphStored = true;
      this.attachReverse(graph);
      this.log(`read graph (${graph.count} objects, ${graph.edgeCount} edges)`);
      return graph;
    } catch (e) {
      this.rejected('graph', e);
      return undefined;
    } finally {
      file.close();
    }
  }

  /** The stored graph read page by page, with its reverse edges (`reverse`) or its dominator answers
   * (`dominators`), or undefined when the index lacks them or they do not check out (said in the notes). For a
   * one-object answer before the session has loaded the whole graph. */
  pagedGraph(derived: 'reverse' | 'dominators'): PagedGraph | undefined {
    const known = this.paged.get(derived);
    if (known !== undefined) return known ?? undefined;
    let result: PagedGraph | null = null;
    const graphFile = this.open('graph');
    if (graphFile !== undefined) {
      const files = [graphFile];
      try {
        if (this.graphDigest !== undefined && this.graphDigest !== graphFile.digest) throw new IndexFileError('the graph file changed while the session was open');
        this.graphDigest = graphFile.digest;
        this.graphStored = true;
        const other = this.openDerived(derived);
        if (other !== undefined) {
          files.push(other);
          const s = this.session;
          const sizes = graphFile.paged('sizes', graphFile.typeOf('sizes') === 'f64' ? 'f64' : 'u32');
          result = new PagedGraph(
            graphFile.paged('addresses', 'f64'),
            graphFile.paged('typeIndexes', 'u32'),
            graphFile.f64('methodTables'),
            sizes,
            graphFile.paged('edgeStart', 'u32'),
            graphFile.paged('edgeTarget', 'u32'),
            graphFile.json('problems') as GraphProblems,
            derived === 'reverse' ? other.paged('start', 'u32') : undefined,
            derived === 'reverse' ? other.paged('source', 'u32') : undefined,
            derived === 'dominators'
              ? { idom: other.paged('idom', 'i32'), retained: other.paged('retained', 'f64'), subtree: other.paged('subtree', 'u32'), childStart: other.paged('childStart', 'u32'), children: other.paged('children', 'u32') }
              : undefined,
            files,
            s.methodTables,
            s.runtime.memory,
          );
        }
      } catch (e) {
        this.rejected(derived, e);
        result = null;
      } finally {
        if (result === null) for (const f of files) f.close();
      }
    }
    this.paged.set(derived, result);
    return result ?? undefined;
  }

  /** A one-object answer read from `graph` failed (a corrupt page): says so; the caller answers from the whole graph,
   * whose load checks every page again and rebuilds what does not check out. */
  pagedReadFailed(graph: PagedGraph, derived: 'reverse' | 'dominators', e: unknown): void {
    this.rejected(derived, e);
    for (const [k, g] of this.paged) if (g === graph) this.paged.set(k, null);
    graph.close();
  }

  /** Says in the index log that `command` answered from index pages. */
  answeredFromPages(command: string, graph: PagedGraph): void {
    this.log(`${command} answered from index pages (${graph.pagesRead} pages read)`);
  }

  /** Records a graph built from the dump (written by `persist`). */
  graphBuilt(graph: ObjectGraph): void {
    this.graph = graph;
    this.graphDigest = undefined;
    this.graphStored = false;
    this.attachReverse(graph);
  }

  /** The roots from the index (only with a graph from the index), or undefined. */
  loadRoots(): StoredRoots | undefined {
    const file = this.openDerived('roots');
    if (file === undefined) return undefined;
    try {
      const roots = file.json('roots') as StoredRoots;
      if (!Array.isArray(roots.nonStack) || !Array.isArray(roots.stack)) throw new IndexFileError('roots section is malformed');
      this.rootsStored = true;
      this.log(`read roots (${roots.nonStack.length} handle and finalizer, ${roots.stack.length} stack)`);
      return roots;
    } catch (e) {
      this.rejected('roots', e);
      return undefined;
    } finally {
      file.close();
    }
  }

  /** Tells the index how to get both root lists when it writes them (called when roots were collected here). */
  rootsCollected(all: () => StoredRoots): void {
    if (!this.rootsStored) this.roots = all;
  }

  /** The analysis context's shared heap-sized parts, with the dominator tree read from the index on first use. */
  heavyParts(): HeavyParts {
    if (this.heavy !== undefined) return this.heavy;
    let tree: DominatorTree | undefined;
    let tried = false;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the accessors below are not methods of this class
    const index = this;
    const heavy: HeavyParts = {
      get tree(): DominatorTree | undefined {
        if (tree === undefined && !tried) {
          tried = true;
          tree = index.loadTree();
        }
        return tree;
      },
      set tree(value: DominatorTree | undefined) {
        tree = value;
        tried = true;
        index.treeComputed = value !== undefined;
      },
    };
    return (this.heavy = heavy);
  }

  /** The stored answer of `command` with `args` (the words that change it), or undefined. */
  storedAnswer(command: string, args: readonly string[]): StoredAnswer | undefined {
    const file = this.openPart(ANSWERS);
    if (file === undefined) return undefined;
    try {
      const all = file.json('answers') as Record<string, StoredAnswer>;
      const found = Object.prototype.hasOwnProperty.call(all, answerKey(command, args)) ? all[answerKey(command, args)] : undefined;
      if (found === undefined) return undefined;
      if (typeof found.text !== 'string' || !Array.isArray(found.warnings)) throw new IndexFileError(`stored ${command} answer is malformed`);
      this.log(`read ${command} answer`);
      return found;
    } catch (e) {
      this.rejectedFile(ANSWERS, e);
      return undefined;
    } finally {
      file.close();
    }
  }

  /** Records an answer computed by this process (written by `persist`). */
  answerComputed(command: string, args: readonly string[], answer: StoredAnswer): void {
    this.newAnswers.set(answerKey(command, args), answer);
  }

  /** Writes the parts built by this process that the index lacks; failures and the cap become notes. */
  persist(): void {
    this.persistParts();
    // After the graph: a new graph file removes the answers of an older one.
    this.persistAnswers();
  }

  private persistParts(): void {
    const graph = this.graph;
    if (graph === undefined || this.identity() === undefined) return;
    for (const part of PARTS) {
      const sections = this.pendingSections(part, graph);
      if (sections === undefined) continue;
      if (part !== 'graph' && this.graphDigest === undefined) return; // the graph itself was not written
      try {
        this.write(part, sections);
      } catch (e) {
        this.notes.push(`index: ${part} not written: ${(e as Error).message}`);
        return;
      }
    }
  }

  /** Adds this process's new answers to the stored ones (read again: another process may have added some). */
  private persistAnswers(): void {
    if (this.newAnswers.size === 0 || this.identity() === undefined) return;
    const id = this.identity()!;
    const folder = path.join(this.settings.dir, id.folder);
    let all: Record<string, StoredAnswer> = {};
    const existing = this.openPart(ANSWERS);
    if (existing !== undefined) {
      try {
        all = existing.json('answers') as Record<string, StoredAnswer>;
      } catch (e) {
        this.rejectedFile(ANSWERS, e);
      } finally {
        existing.close();
      }
    }
    for (const [k, a] of this.newAnswers) all[k] = a;
    this.newAnswers.clear();
    try {
      const text = JSON.stringify(all);
      const kept = PARTS.reduce((sum, p) => sum + fileSize(path.join(folder, `${p}.dsi`)), 0);
      if (kept + text.length > this.settings.maxBytes) {
        throw new IndexFileError(`it would take ${mib(kept + text.length)} for this dump, over the index size cap of ${mib(this.settings.maxBytes)} (--index-max-size or DUMPSLEUTH_INDEX_MAX_SIZE)`);
      }
      fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
      const written = writeIndexFile(path.join(folder, `${ANSWERS}.dsi`), { part: ANSWERS, key: id.key, meta: { dump: id.realPath } }, [{ name: 'answers', type: 'json', data: all }]);
      this.log(`wrote answers (${mib(written.bytes)})`);
    } catch (e) {
      this.notes.push(`index: answers not written: ${(e as Error).message}`);
    }
  }

  /** The sections of `part` when this process built it and the index lacks it, else undefined. */
  private pendingSections(part: Part, graph: ObjectGraph): SectionData[] | undefined {
    switch (part) {
      case 'graph': {
        if (this.graphStored) return undefined;
        const g = graph.toStored();
        return [
          { name: 'addresses', type: 'f64', data: g.addresses },
          { name: 'typeIndexes', type: 'u32', data: g.typeIndexes },
          { name: 'methodTables', type: 'f64', data: g.methodTables },
          g.sizes instanceof Float64Array ? { name: 'sizes', type: 'f64', data: g.sizes } : { name: 'sizes', type: 'u32', data: g.sizes },
          { name: 'edgeStart', type: 'u32', data: g.edgeStart },
          { name: 'edgeTarget', type: 'u32', data: g.edgeTarget },
          { name: 'problems', type: 'json', data: g.problems },
        ];
      }
      case 'roots':
        return this.rootsStored || this.roots === undefined ? undefined : [{ name: 'roots', type: 'json', data: this.roots() }];
      case 'reverse': {
        const r = graph.reverseIfBuilt;
        if (this.reverseStored || r === undefined) return undefined;
        return [
          { name: 'start', type: 'u32', data: r.start },
          { name: 'source', type: 'u32', data: r.source },
        ];
      }
      case 'dominators': {
        if (this.treeStored || !this.treeComputed || this.heavy?.tree === undefined) return undefined;
        const t = this.heavy.tree;
        // What `retained <addr>` reads for one object (paged-graph.ts), so the next process need not load the tree.
        const retained = this.heavy.retained ?? computeRetainedSizes(t, graph.sizes);
        const c = dominatorChildren(t, graph.count);
        return [
          { name: 'idom', type: 'i32', data: t.idom },
          { name: 'preorder', type: 'i32', data: t.preorder },
          { name: 'retained', type: 'f64', data: retained },
          { name: 'subtree', type: 'u32', data: c.subtree },
          { name: 'childStart', type: 'u32', data: c.childStart },
          { name: 'children', type: 'u32', data: c.children },
        ];
      }
    }
  }

  private write(part: Part, sections: SectionData[]): void {
    const id = this.identity()!;
    const folder = path.join(this.settings.dir, id.folder);
    const bytes = sections.reduce((sum, s) => sum + (s.type === 'json' ? JSON.stringify(s.data).length : s.data.byteLength), 0);
    // Parts of this dump already on disk that stay (a new graph replaces every part).
    const kept = part === 'graph' ? 0 : PARTS.filter((p) => p !== part).reduce((sum, p) => sum + fileSize(path.join(folder, `${p}.dsi`)), 0);
    if (kept + bytes > this.settings.maxBytes) {
      throw new IndexFileError(
        `it would take ${mib(kept + bytes)} for this dump, over the index size cap of ${mib(this.settings.maxBytes)} (--index-max-size or DUMPSLEUTH_INDEX_MAX_SIZE)`,
      );
    }
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    if (part === 'graph') for (const p of [...PARTS, ANSWERS]) fs.rmSync(path.join(folder, `${p}.dsi`), { force: true });
    const meta: Record<string, unknown> = { dump: id.realPath, graph: part === 'graph' ? undefined : this.graphDigest, objects: this.graph!.count };
    if (part === 'dominators') meta.reachableCount = this.heavy!.tree!.reachableCount;
    const written = writeIndexFile(path.join(folder, `${part}.dsi`), { part, key: id.key, meta }, sections);
    if (part === 'graph') this.graphDigest = written.digest;
    if (part === 'graph') this.graphStored = true;
    if (part === 'roots') this.rootsStored = true;
    if (part === 'reverse') this.reverseStored = true;
    if (part === 'dominators') this.treeStored = true;
    this.log(`wrote ${part} (${mib(written.bytes)})`);
  }

  private loadTree(): DominatorTree | undefined {
    const file = this.openDerived('dominators');
    if (file === undefined) return undefined;
    try {
      const n = this.graph!.count;
      const idom = file.i32('idom');
      const preorder = file.i32('preorder');
      const reachableCount = file.header.meta.reachableCount;
      if (idom.length !== n || preorder.length !== reachableCount) throw new IndexFileError(`dominator arrays (${idom.length}, ${preorder.length}) do not fit the graph (${n} objects)`);
      this.treeStored = true;
      this.log(`read dominators (${reachableCount} reachable objects)`);
      return { idom, preorder, reachableCount };
    } catch (e) {
      this.rejected('dominators', e);
      return undefined;
    } finally {
      file.close();
    }
  }

  /** Reverse edges come from the index on the graph's first `reverse()` when they are stored for this graph. */
  private attachReverse(graph: ObjectGraph): void {
    graph.reverseSource = () => {
      const file = this.openDerived('reverse');
      if (file === undefined) return undefined;
      try {
        const r = { start: file.u32('start'), source: file.u32('source') };
        if (r.start.length !== graph.count + 1 || r.source.length !== graph.edgeCount) throw new IndexFileError('reverse edges do not fit the graph');
        this.reverseStored = true;
        this.log(`read reverse edges (${r.source.length})`);
        return r;
      } catch (e) {
        this.rejected('reverse', e);
        return undefined;
      } finally {
        file.close();
      }
    };
  }

  /** A derived part of the graph read from the index (same key and graph digest), or undefined. */
  private openDerived(part: Part): IndexFile | undefined {
    if (this.graphDigest === undefined) return undefined;
    const file = this.open(part);
    if (file !== undefined && file.header.meta.graph !== this.graphDigest) {
      file.close();
      this.rejected(part, new IndexFileError('it was derived from another graph (stale)'));
      return undefined;
    }
    return file;
  }

  private open(part: Part): IndexFile | undefined {
    return this.openPart(part);
  }

  private openPart(part: string): IndexFile | undefined {
    const id = this.identity();
    if (id === undefined) return undefined;
    const file = path.join(this.settings.dir, id.folder, `${part}.dsi`);
    if (!fs.existsSync(file)) return undefined;
    try {
      return IndexFile.open(file, id.key, part);
    } catch (e) {
      this.rejectedFile(part, e);
      return undefined;
    }
  }

  private identity(): DumpIdentity | undefined {
    if (this.identityValue === undefined) {
      try {
        const o = this.session.options;
        this.identityValue = dumpIdentity(this.session, {
          imagePath: o.imagePath ?? null,
          ignoreImagePagesInDump: o.ignoreImagePagesInDump === true,
          managedImagesFromImagePathOnly: o.managedImagesFromImagePathOnly === true,
        });
      } catch (e) {
        this.notes.push(`index: not used: ${(e as Error).message}`);
        this.identityValue = null;
      }
    }
    return this.identityValue ?? undefined;
  }

  private rejected(part: Part, e: unknown): void {
    this.rejectedFile(part, e);
  }

  private rejectedFile(part: string, e: unknown): void {
    if (!(e instanceof DumpsleuthError)) throw e;
    // The paged and the whole-graph reads of one command may both find the same stale file: say it once.
    const note = `index: ${part} rebuilt: ${e.message}`;
    if (!this.notes.includes(note)) this.notes.push(note);
  }

  private log(message: string): void {
    if (this.settings.log) this.notes.push(`index: ${message}`);
  }
}

const indexes = new WeakMap<Session, SessionIndex | null>();

/** The session's index, or undefined when the session has none (`--no-index`, library use). */
export function sessionIndexOf(session: Session): SessionIndex | undefined {
  let index = indexes.get(session);
  if (index === undefined) {
    const settings = session.options.index;
    index = settings === undefined ? null : new SessionIndex(session, settings);
    indexes.set(session, index);
    if (index !== null) {
      const created = index;
      // After each command: write what it built; the notes (rebuilt or unwritten parts) go to stderr.
      session.afterCommand.push(() => {
        created.persist();
        return created.notes.splice(0);
      });
    }
  }
  return index ?? undefined;
}

/** The key of a stored answer: the command and the words that change its answer. */
function answerKey(command: string, args: readonly string[]): string {
  return JSON.stringify([command, ...args]);
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
