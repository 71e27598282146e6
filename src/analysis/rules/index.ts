/**
 * The leak and waste rules `analyze` runs besides its own (finished-but-alive, never-completed-async), all reading
 * the RuleContext interface; each rule is generic: only runtime and framework types are named in it.
 */
import type { LeakRule } from '../leak-rule';
import { accumulationPointRule } from './accumulation-point';
import { duplicateStringsRule } from './duplicate-strings';
import { eventHandlerLeakRule } from './event-handler-leak';
import { finalizerBacklogRule } from './finalizer-backlog';
import { gcHandleGrowthRule } from './gc-handle-growth';
import { heapFragmentationRule } from './heap-fragmentation';
import type { RuleContext } from './rule-context';
import { sparseArraysRule } from './sparse-arrays';
import { timerLeakRule } from './timer-leak';
import { deadlockRule } from './deadlock';
import { threadpoolStarvationRule } from './threadpool-starvation';
import { unhandledExceptionRule } from './unhandled-exception';
import { stuckAsyncRule } from './stuck-async';

export type { RuleContext } from './rule-context';

/** The rules of this folder, leaks first, then waste (severity info). */
export const RULES: readonly LeakRule<RuleContext>[] = [
  eventHandlerLeakRule,
  timerLeakRule,
  gcHandleGrowthRule,
  finalizerBacklogRule,
  accumulationPointRule,
  duplicateStringsRule,
  sparseArraysRule,
  heapFragmentationRule,
  deadlockRule,
  threadpoolStarvationRule,
  unhandledExceptionRule,
  stuckAsyncRule,
];
