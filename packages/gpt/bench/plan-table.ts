/**
 * Params and forward FLOPs of GPT-3 Small (or other registered GPTs) for every family × sparsity, from the op
 * lists (no weights allocated). Paper convention = MACs; official = the Cerebras counter's
 * multiplies + adds (attention matmuls invisible to it, docs/flops.md#official-counter). The table is `printPlanTable` of ./common.ts.
 *
 *   npx tsx packages/gpt/bench/plan-table.ts [--models gpt3-small,gpt-mini]
 */
import '@sparse-ift/gpt';
import { printPlanTable } from '../../transformer/bench/common.js';

printPlanTable('gpt3-small');
