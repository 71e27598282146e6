/**
 * Turns what a command could not read into warnings, so no answer silently omits data.
 */
import type { WalkProblem } from '../../heap/heap-walker';
import type { Session } from '../session';

const SHOWN_PROBLEMS = 5;

/** One warning per heap-walk problem (the first few), plus a count: a bad object the walk stepped over costs the bytes
 * up to the next object it could trust; one it could not step over costs the rest of its segment. */
export function reportWalkProblems(session: Session, problems: readonly WalkProblem[]): void {
  for (const p of problems.slice(0, SHOWN_PROBLEMS)) {
    const where = `segment 0x${p.segment.address.toString(16)} (${p.segment.kind}) at 0x${p.address.toString(16)}`;
    if (p.resumedAt !== undefined) {
      session.warn(`heap walk skipped an unreadable object in ${where}: ${p.reason}; ${(p.resumedAt - p.address).toLocaleString('en-US')} bytes skipped up to the next valid object at 0x${p.resumedAt.toString(16)}`);
    } else {
      session.warn(`heap walk stopped in ${where}: ${p.reason}; the rest of that segment is not counted`);
    }
  }
  if (problems.length > SHOWN_PROBLEMS) {
    const resumed = problems.slice(SHOWN_PROBLEMS).filter((p) => p.resumedAt !== undefined).length;
    session.warn(`${problems.length - SHOWN_PROBLEMS} more unreadable objects (${resumed} stepped over, ${problems.length - SHOWN_PROBLEMS - resumed} ending their segment's walk)`);
  }
}

/** One warning per module whose metadata could not be read (names shown as <unknown type @mt>). */
export function reportNameProblems(session: Session): void {
  for (const msg of session.names.problems.values()) session.warn(msg);
}
