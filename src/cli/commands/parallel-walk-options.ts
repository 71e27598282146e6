/**
 * The heap walk's threads for a session (`--workers N` or $DUMPSLEUTH_WORKERS): the same setting as the graph
 * build's, one thread when unset.
 */
import type { ParallelWalk } from '../../heap/parallel-walk';
import type { Session } from '../session';

/** The parallel-walk settings of the session's options, or undefined for the one-thread walk. */
export function parallelWalkOf(session: Session): ParallelWalk | undefined {
  const o = session.options;
  if (o.workers === undefined || o.workers <= 1) return undefined;
  // Tests and the bench lower the size below which the walk stays on one thread, to split small dumps too.
  const min = Number(process.env.DUMPSLEUTH_PARALLEL_WALK_MIN_BYTES ?? NaN);
  return {
    workers: o.workers,
    ...(Number.isSafeInteger(min) && min >= 0 ? { minBytes: min } : {}),
    dumpPath: session.dump.path,
    openOptions: {
      ...(o.imagePath ? { imagePath: o.imagePath } : {}),
      ...(o.ignoreImagePagesInDump === true ? { ignoreImagePagesInDump: true } : {}),
      ...(o.managedImagesFromImagePathOnly === true ? { managedImagesFromImagePathOnly: true } : {}),
    },
  };
}
