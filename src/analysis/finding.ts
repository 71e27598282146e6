/**
 * What `analyze` reports: one finding per problem, ordered by impact, each with the evidence a person can check.
 * The JSON shape is the one issue 6 specifies; rules add their own facts under `details`.
 */

/** How bad a finding is: `error` for a leak the dump proves, `warning` for a likely one, `info` for waste. */
export type Severity = 'error' | 'warning' | 'info';

/** How sure the rule is that the finding is real and its culprit right. */
export type Confidence = 'high' | 'medium' | 'low';

/** The user method a finding blames, with the module that holds it. */
export interface Culprit {
  /** Full name `Namespace.Type.Method`, optionally followed by the signature in parentheses. */
  readonly method: string;
  readonly type: string;
  /** The module's file name (e.g. `Debuggees.dll`). */
  readonly module: string;
  /** One sentence: why this method (e.g. "target of the AsyncCallback passed to BeginReceive"). */
  readonly evidence: string;
}

/** One link of a retention chain, root first: the type, and the field of the previous object that holds it. */
export interface ChainStep {
  readonly type: string;
  readonly field?: string;
  /** True when `field` is a static field (`Namespace.Type.field`) held in the runtime's statics storage. */
  readonly static?: boolean;
  /** The object at this step on the representative path (absent for a collapsed run of several objects). */
  readonly address?: number;
}

/** One finding of one rule. */
export interface Finding {
  readonly rule: string;
  readonly title: string;
  readonly severity: Severity;
  /** One sentence a person reads first. */
  readonly verdict: string;
  /** The symptom objects (dead threads, leaked subscribers, live timers, pinned buffers...). */
  readonly objectCount: number;
  /** Bytes those objects retain (dominator-tree retained size, deduplicated). */
  readonly retainedBytes: number;
  readonly culprit?: Culprit;
  /** Root → ... → symptom object, collapsed the way the cluster was formed. */
  readonly chain: readonly ChainStep[];
  /** A few symptom object addresses. */
  readonly examples: readonly number[];
  /** SOS-style commands that prove each link by hand (`gcroot 0x..`, `do 0x..`, `dumpdelegate 0x..`, `ip2md 0x..`). */
  readonly verify: readonly string[];
  readonly confidence: Confidence;
  /** Rule-specific facts (counts by state, the pending operation's type, the callback's target...). */
  readonly details?: Readonly<Record<string, unknown>>;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Orders findings by impact: severity first, then retained bytes, then object count. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.retainedBytes - a.retainedBytes || b.objectCount - a.objectCount,
  );
}

/** A chain link as JSON: type, field, and the object's address as a hex string when the step is one object. */
export function chainStepJson(s: ChainStep): Record<string, string | boolean> {
  return {
    type: s.type,
    ...(s.field !== undefined ? { field: s.field } : {}),
    ...(s.static === true ? { static: true } : {}),
    ...(s.address !== undefined ? { address: '0x' + s.address.toString(16) } : {}),
  };
}

/** How a chain link reads in text: `.field → Type`, `static Namespace.Type.field → Type`, or the bare root type. */
export function chainStepText(s: ChainStep): string {
  if (s.field === undefined) return s.type;
  return `${s.static === true ? `static ${s.field}` : `.${s.field}`} → ${s.type}`;
}

/** The JSON form of a finding (addresses as hex strings), as `analyze --json` prints it. */
export function findingJson(f: Finding): Record<string, unknown> {
  return {
    rule: f.rule,
    title: f.title,
    severity: f.severity,
    verdict: f.verdict,
    objectCount: f.objectCount,
    retainedBytes: f.retainedBytes,
    culprit: f.culprit ?? null,
    chain: f.chain.map(chainStepJson),
    examples: f.examples.map((a) => '0x' + a.toString(16)),
    verify: f.verify,
    confidence: f.confidence,
    ...(f.details ? { details: f.details } : {}),
  };
}
