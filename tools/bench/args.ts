// Command-line flags of the tools' scripts: `--name` switches and `--name value` options.
const args = process.argv.slice(2);

export const argv: readonly string[] = args;
export const flag = (name: string): boolean => args.includes(name);
export const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
