import { writeFile } from 'node:fs/promises';
import { CONTRACT_PATH, formattedContract } from './contract-generator.ts';

// `npm run generate -w @conifer/sdk`: rewrites src/contract.ts from the server's router.
await writeFile(CONTRACT_PATH, await formattedContract());
console.log(`wrote ${CONTRACT_PATH}`);
