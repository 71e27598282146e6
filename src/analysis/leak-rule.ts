/**
 * The contract between `analyze` and its rules: each rule reads the shared analysis context and returns findings.
 * Rules are generic: no type or method names of our debuggees appear in them, only runtime and framework types.
 */
import type { Finding } from './finding';

/** One leak or waste rule. `Context` is the analysis context the analyze command builds (graph, roots, dominators,
 * names, object and delegate readers, clusters, culprit attribution); rules receive it read-only. */
export interface LeakRule<Context> {
  /** Stable id used in JSON (`rule`) and in `analyze -rule <id>`. */
  readonly id: string;
  /** One line for `analyze -list`. */
  readonly description: string;
  run(context: Context): Finding[];
}
