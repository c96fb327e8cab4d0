/**
 * Node module-resolution hook (node:module `register`), installed by bin.ts before anything loads
 * tf.js. Some packages import `@tensorflow/tfjs-core/dist/register_all_gradients.js`, which is a
 * browser-ESM file (extension-less relative imports) that plain Node cannot load. This redirects that
 * one specifier to `register-gradients.js`, which registers the same gradients through tfjs-layers'
 * Node bundle. Remove once no package imports that file.
 */
interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

const GRADIENTS = /^@tensorflow\/tfjs-core\/dist\/register_all_gradients(\.js)?$/;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string; shortCircuit?: boolean }> {
  if (GRADIENTS.test(specifier)) return { url: new URL('./register-gradients.js', import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
