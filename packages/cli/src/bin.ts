#!/usr/bin/env node
import { endQuietlyOnBrokenPipe } from './output.js';
import { main } from './program.js';

endQuietlyOnBrokenPipe();
process.exitCode = await main(process.argv);
