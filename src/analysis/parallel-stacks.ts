/**
 * Merged call stacks (Visual Studio's Parallel Stacks, dotnet-dump's `parallelstacks`): every thread's managed
 * frames from the outermost in, merged into a tree where threads share a node while their frames agree. Built
 * iteratively over plain arrays; depth is bounded by the longest stack.
 */

/** One node: the frame threads agree on, the threads that reached it, and where they went next. */
export interface StackNode {
  /** The frame's identity (its full method name); '' for the root. */
  readonly key: string;
  /** The frame as displayed. */
  readonly text: string;
  /** Threads that passed through this frame, in the order they were added. */
  readonly threads: number[];
  /** Children in the order their first thread was added. */
  readonly children: StackNode[];
}

/** One frame of a thread's stack. */
export interface MergeFrame {
  readonly key: string;
  readonly text: string;
}

/** Merges stacks (each listed outermost frame first) into a tree; threads with no frame are left out. */
export function mergeStacks(stacks: readonly { readonly thread: number; readonly frames: readonly MergeFrame[] }[]): StackNode {
  const root: StackNode = { key: '', text: '', threads: [], children: [] };
  for (const { thread, frames } of stacks) {
    if (frames.length === 0) continue;
    root.threads.push(thread);
    let node = root;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      let next = node.children.find((c) => c.key === frame.key);
      if (!next) node.children.push((next = { key: frame.key, text: frame.text, threads: [], children: [] }));
      // A thread joins each node on its path once, the last one included.
      next.threads.push(thread);
      node = next;
    }
  }
  return root;
}

/** How dotnet-dump renders a tree (ParallelStacks.Runtime's renderer): each root under a rule; within a node, its
 * children by ascending thread count (a child with as many threads as its parent keeps the indentation, others
 * indent by 5), a leaf headed by `~~~~ <thread ids>` (an inner node too, by the ids of the threads that end
 * there), then the node's own frame with its count. */
export function renderStackTree(root: StackNode, formatThreads: (threads: readonly number[]) => string): string[] {
  const out: string[] = [''];
  for (const top of root.children) {
    // dotnet-dump writes the rule and then a newline before the first line of the tree.
    let current = '________________________________________________';
    const emit = (line: string) => {
      out.push(current);
      current = line;
    };
    // Iterative post-order: children (sorted) first, then the node's own frame.
    const stack: { node: StackNode; indent: number; expanded: boolean }[] = [{ node: top, indent: 0, expanded: false }];
    while (stack.length > 0) {
      const item = stack.pop()!;
      const pad = ' '.repeat(5 * item.indent);
      if (item.node.children.length === 0) {
        emit(`${pad} ~~~~ ${formatThreads(item.node.threads)}`);
        emit(`${pad}${String(item.node.threads.length).padStart(5)} ${item.node.text}`);
        continue;
      }
      if (item.expanded) {
        emit(`${pad}${String(item.node.threads.length).padStart(5)} ${item.node.text}`);
        continue;
      }
      stack.push({ ...item, expanded: true });
      // Threads whose stack ends at this frame while others go deeper: dotnet-dump heads the node with their ids.
      const deeper = new Set(item.node.children.flatMap((c) => c.threads));
      const ended = item.node.threads.filter((t) => !deeper.has(t));
      if (ended.length > 0) emit(`${pad} ~~~~ ${formatThreads(ended)}`);
      const sorted = item.node.children.map((c, i) => ({ c, i })).sort((a, b) => a.c.threads.length - b.c.threads.length || a.i - b.i);
      for (let k = sorted.length - 1; k >= 0; k--) {
        const child = sorted[k]!.c;
        stack.push({ node: child, indent: child.threads.length === item.node.threads.length ? item.indent : item.indent + 1, expanded: false });
      }
    }
    out.push(current, '', '');
  }
  out.push(`==> ${root.threads.length} threads with ${root.children.length} roots`);
  return out;
}
