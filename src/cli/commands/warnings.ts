/**
 * Turns what a command could not read into warnings, so no answer silently omits data.
 */
import type { WalkProblem } from '../../heap/heap-walker';
import type { Session } from '../session';

const SHOWN_PROBLEMS = 5;

/** One warning per heap-walk problem (the first few), plus a count. */
export function reportWalkProblems(session: Session, problems: readonly WalkProblem[]): void {
  for (const p of problems.slice(0, SHOWN_PROBLEMS)) {
    session.warn(`heap walk stopped in segment 0x${p.segment.address.toString(16)} (${p.segment.kind}) at 0x${p.address.toString(16)}: ${p.reason}; the rest of that segment is not counted`);
  }
  if (problems.length > SHOWN_PROBLEMS) session.warn(`${problems.length - SHOWN_PROBLEMS} more segments could not be walked to their end`);
}

/** One warning per module whose metadata could not be read (names shown as <unknown type @mt>). */
export function reportNameProblems(session: Session): void {
  for (const msg of session.names.problems.values()) session.warn(msg);
}
