/**
 * The timers of .NET's `TimerQueue`s as .NET keeps them in C#: each queue holds two linked lists of
 * `TimerQueueTimer` (`_shortTimers`, `_longTimers`, linked by `_next`), each timer its due time and period in ms,
 * its state object and its `TimerCallback` delegate (System.Threading/Timer.cs).
 */
import { LimitExceededError } from '../errors';
import { readIntPath, readRefPath } from './managed-fields';
import type { ObjectReader } from './object-reader';

/** One `TimerQueueTimer`. */
export interface TimerQueueTimerInfo {
  readonly address: number;
  /** True on the queue's `_shortTimers` list (SOS prints `(S)`), false on `_longTimers` (`(L)`). */
  readonly isShort: boolean;
  /** `_dueTime`, ms (a uint; 0xffffffff = infinite). */
  readonly dueTime: number;
  /** `_period`, ms (a uint; 0xffffffff = not periodic). */
  readonly period: number;
  readonly canceled: boolean;
  /** `_state`, 0 when null. */
  readonly state: number;
  /** `_timerCallback`, 0 when null. */
  readonly callback: number;
}

/** The uint .NET stores for "never" in `_dueTime`/`_period` (Timeout.UnsignedInfinite). */
export const TIMER_INFINITE = 0xffffffff;

const MAX_TIMERS = 10_000_000;

/** The timers of the `TimerQueue` at `queue`: its short list, then its long list, each in link order (SOS's order).
 * @throws LayoutCheckError when the fields are not .NET Core 3.0+'s; LimitExceededError for a list that does not end. */
export function readTimerQueue(objects: ObjectReader, queue: number): TimerQueueTimerInfo[] {
  const out: TimerQueueTimerInfo[] = [];
  for (const [field, isShort] of [['_shortTimers', true], ['_longTimers', false]] as const) {
    let timer = readRefPath(objects, queue, [field]);
    const seen = new Set<number>();
    while (timer !== 0) {
      if (seen.has(timer) || out.length >= MAX_TIMERS) throw new LimitExceededError(`TimerQueue 0x${queue.toString(16)}: the ${field} list does not end`);
      seen.add(timer);
      out.push({
        address: timer,
        isShort,
        dueTime: Number(readIntPath(objects, timer, ['_dueTime'])),
        period: Number(readIntPath(objects, timer, ['_period'])),
        canceled: Boolean(readIntPath(objects, timer, ['_canceled'])),
        state: readRefPath(objects, timer, ['_state']),
        callback: readRefPath(objects, timer, ['_timerCallback']),
      });
      timer = readRefPath(objects, timer, ['_next']);
    }
  }
  return out;
}
