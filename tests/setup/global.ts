// Boots the Supabase-like stack once for the whole run and stops it at the
// end, whatever happened in between.
import type { TestProject } from 'vitest/node';
import { startStack, type Project, type Stack } from '../../stack/index.ts';
import { bundleScripts } from './script-bundle.ts';
import type { ProjectInfo } from './stack.ts';

let stack: Stack | undefined;
let projects: Project[] = [];

export async function setup(project: TestProject): Promise<void> {
  await bundleScripts();
  stack = await startStack();
  const production = await stack.createProject('production', { fill: 'tiny' });
  const staging = await stack.createProject('staging');
  projects = [production, staging];
  project.provide('stack', {
    info: stack.info,
    majorVersion: stack.majorVersion,
    production: describe(production),
    staging: describe(staging),
  });
}

export async function teardown(): Promise<void> {
  for (const project of projects) await project.stop().catch(() => undefined);
  await stack?.stop();
}

function describe(project: Project): ProjectInfo {
  const { stop: _stop, gateway: _gateway, ...info } = project;
  return info;
}
