/**
 * .NET 11's Monitor state: a SyncBlock whose Monitor was inflated holds a handle to a managed `System.Threading.Lock`,
 * whose `_state`, `_owningThreadId` and `_recursionCount` say who holds it (SyncBlock contract c1, TryGetLockInfo).
 */
import { LayoutCheckError } from '../errors';
import type { ManagedLockReader } from '../runtime/sync-block-table';
import type { TypeNameResolver } from '../runtime/type-names';
import { readIntPath } from './managed-fields';
import type { ObjectReader } from './object-reader';

/** Reads a System.Threading.Lock's state fields by name. The reader throws LayoutCheckError for another type. */
export function managedLockReader(objects: ObjectReader, names: TypeNameResolver): ManagedLockReader {
  return (lock) => {
    const name = names.clrmdName(objects.readObject(lock, false).mt.address);
    if (name !== 'System.Threading.Lock') throw new LayoutCheckError(`the sync block's lock object 0x${lock.toString(16)} is a ${name}, not a System.Threading.Lock`);
    const int = (field: string) => Number(readIntPath(objects, lock, [field]));
    return { state: int('_state'), owningThreadId: int('_owningThreadId'), recursionCount: int('_recursionCount') };
  };
}
