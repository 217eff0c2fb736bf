// Foreign-key order. A table's level is one more than the highest level of
// the tables it references, so loading level by level never meets a missing
// parent. Tables that reference each other (a cycle) share one level and are
// loaded together with FK checks off; a self-reference does not raise a level.
import { qualifiedName, type Table, type TableRef } from '../catalog/types.ts';

export interface DependencyOrder {
  /** Level per qualified table name; level 0 references nothing selected. */
  levels: Map<string, number>;
  /** Groups of two or more tables that reference each other, directly or not. */
  cycles: TableRef[][];
  /** Tables with a foreign key to themselves. */
  selfReferencing: TableRef[];
}

export function orderByDependencies(tables: Table[]): DependencyOrder {
  const byName = new Map(tables.map((table) => [qualifiedName(table), table]));
  const parentsOf = (name: string): string[] => {
    const table = byName.get(name);
    if (!table) return [];
    const parents = table.foreignKeys.map((fk) => `${fk.referencedSchema}.${fk.referencedTable}`).filter((parent) => parent !== name && byName.has(parent));
    return [...new Set(parents)].sort();
  };

  const components = stronglyConnected([...byName.keys()].sort(), parentsOf);
  const componentOf = new Map<string, number>();
  components.forEach((members, index) => members.forEach((member) => componentOf.set(member, index)));

  // Tarjan's algorithm emits a component only after every component it
  // reaches (its parents), so one pass in emission order settles the levels.
  const componentLevel: number[] = [];
  components.forEach((members, index) => {
    let level = 0;
    for (const member of members) {
      for (const parent of parentsOf(member)) {
        const parentComponent = componentOf.get(parent);
        if (parentComponent !== undefined && parentComponent !== index) {
          level = Math.max(level, (componentLevel[parentComponent] ?? 0) + 1);
        }
      }
    }
    componentLevel[index] = level;
  });

  const levels = new Map<string, number>();
  for (const [name, index] of componentOf) levels.set(name, componentLevel[index] ?? 0);
  const toRef = (name: string): TableRef => {
    const table = byName.get(name) as Table;
    return { schema: table.schema, name: table.name };
  };
  return {
    levels,
    cycles: components.filter((members) => members.length > 1).map((members) => members.sort().map(toRef)),
    selfReferencing: tables
      .filter((table) => table.foreignKeys.some((fk) => fk.referencedSchema === table.schema && fk.referencedTable === table.name))
      .map((table) => ({ schema: table.schema, name: table.name })),
  };
}

/** Tarjan's strongly connected components, iterative so deep chains cannot overflow the stack. */
function stronglyConnected(nodes: string[], edges: (node: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    lowLink.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1] as { node: string; next: number };
      const targets = edges(frame.node);
      if (frame.next < targets.length) {
        const target = targets[frame.next++] as string;
        if (!index.has(target)) {
          index.set(target, counter);
          lowLink.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          lowLink.set(frame.node, Math.min(lowLink.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) lowLink.set(parent.node, Math.min(lowLink.get(parent.node)!, lowLink.get(frame.node)!));
      if (lowLink.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}
