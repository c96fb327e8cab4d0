#!/usr/bin/env node
// Every package's `prepack`: npm puts a package's LICENSE in its tarball only from the package's own
// folder, so copy the repository's one there (ignored by git) right before `npm pack` / `npm publish`.
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

copyFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'LICENSE'), join(process.cwd(), 'LICENSE'));
