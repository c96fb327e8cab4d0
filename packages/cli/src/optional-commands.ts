/**
 * `sift plan` (model zoo) and `sift data` (data verification) live in command modules owned by other
 * packages' engineers; they are wired in when present, so the CLI builds with or without them.
 */
import type { Command } from 'commander';

type Register = (program: Command) => void;

export async function registerOptionalCommands(program: Command): Promise<void> {
  const modules: [string, string][] = [
    ['./commands/plan.js', 'registerPlanCommand'],
    ['./commands/data.js', 'registerDataCommand'],
  ];
  for (const [path, exportName] of modules) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(path)) as Record<string, unknown>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(path.slice(2, -3))) continue;
      throw error;
    }
    const register = mod[exportName];
    if (typeof register === 'function') (register as Register)(program);
  }
}
