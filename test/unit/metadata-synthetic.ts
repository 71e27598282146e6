/**
 * One small assembly's metadata, written by hand from ECMA-335 II.22, shared by the metadata tests.
 *
 *   TestAsm (1.2.3.4), module test.dll, AssemblyRef System.Runtime 10.0.0.0
 *   TypeRef  System.Object  (scope: AssemblyRef 1)
 *   TypeDef  <Module>
 *   TypeDef  MyNs.Outer`1<T> : System.Object      fields _count: int, _items: !0[]   methods Run(int, ref string), Main(string[])
 *     TypeDef  Inner (nested in Outer`1)           field _name: string                method M Get<M>(Outer`1<!0>) : !!0
 *   TypeSpec MyNs.Outer`1<int>
 */
import { Cell, MetadataSpec, buildMetadata } from './metadata-builders';

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

/** MVID of the synthetic module, as bytes and as the registry-form string. */
export const SYNTHETIC_MVID_BYTES = b(0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33, 0x44);
export const SYNTHETIC_MVID = '12345678-1234-5678-9abc-def011223344';

/** The spec of the synthetic metadata (tables keyed by number). */
export function syntheticSpec(): MetadataSpec {
  const tables: Record<number, Cell[][]> = {
    0x00: [[0, 'test.dll', 1, 0, 0]],
    // ResolutionScope coded index: AssemblyRef tag 2 -> (1 << 2) | 2.
    0x01: [[(1 << 2) | 2, 'Object', 'System']],
    // Extends: TypeDefOrRef, TypeRef tag 1 -> (1 << 2) | 1.
    0x02: [
      [0, '<Module>', '', 0, 1, 1],
      [0x00100001, 'Outer`1', 'MyNs', (1 << 2) | 1, 1, 1],
      [0x00100002, 'Inner', '', (1 << 2) | 1, 3, 3],
    ],
    0x04: [
      [0x1, '_count', b(0x06, 0x08)],
      [0x1, '_items', b(0x06, 0x1d, 0x13, 0x00)],
      [0x11, '_name', b(0x06, 0x0e)],
    ],
    0x06: [
      [0x2050, 0, 0x86, 'Run', b(0x20, 0x02, 0x01, 0x08, 0x10, 0x0e), 1],
      [0x2060, 0, 0x96, 'Main', b(0x00, 0x01, 0x01, 0x1d, 0x0e), 3],
      // HASTHIS|GENERIC, 1 generic param, 1 param, returns !!0, takes GENERICINST CLASS TypeDef 2 <!0>.
      [0x2070, 0, 0x86, 'Get', b(0x30, 0x01, 0x01, 0x1e, 0x00, 0x15, 0x12, 2 << 2, 0x01, 0x13, 0x00), 4],
    ],
    0x08: [
      [0, 1, 'count'],
      [2, 2, 'name'],
      [0, 1, 'args'],
    ],
    0x1b: [[b(0x15, 0x12, 2 << 2, 0x01, 0x08)]],
    0x20: [[0x8004, 1, 2, 3, 4, 0, 0, 'TestAsm', '']],
    0x23: [[10, 0, 0, 0, 0, 0, 'System.Runtime', '', 0]],
    0x29: [[3, 2]],
    // Owner: TypeOrMethodDef, TypeDef 2 -> 2 << 1; MethodDef 3 -> (3 << 1) | 1.
    0x2a: [
      [0, 0, 2 << 1, 'T'],
      [0, 0, (3 << 1) | 1, 'M'],
    ],
  };
  return { tables, sorted: [0x29, 0x2a], guids: [SYNTHETIC_MVID_BYTES], userStrings: ['hi'] };
}

/** The synthetic metadata bytes (optionally with overrides of the spec). */
export function syntheticMetadata(patch: Partial<MetadataSpec> = {}): Uint8Array {
  return buildMetadata({ ...syntheticSpec(), ...patch });
}
