/**
 * The reproduction packages whose experiments `sift` offers. Each registers itself with
 * @sparse-ift/reproduce's registry when imported. They are loaded one by one so that one package failing to
 * load (say, a missing optional native dependency) leaves the others usable, with a warning that names it.
 */
export const EXPERIMENT_PACKAGES = [
  '@sparse-ift/repro-fashion-mnist',
  '@sparse-ift/repro-cifar100-resnet18',
  '@sparse-ift/repro-imagenet-resnet',
  '@sparse-ift/repro-gpt3-small-wikitext103',
  '@sparse-ift/repro-wallclock-cpu',
] as const;

export interface LoadFailure {
  packageName: string;
  message: string;
}

export async function loadExperiments(packages: readonly string[] = EXPERIMENT_PACKAGES): Promise<LoadFailure[]> {
  const failures: LoadFailure[] = [];
  for (const packageName of packages) {
    try {
      await import(packageName);
    } catch (error) {
      failures.push({ packageName, message: (error as Error).message.split('\n')[0]! });
    }
  }
  return failures;
}
