import { readFileSync } from 'node:fs';

/** flexq's version, from package.json (written into .fq files and exported models). */
export const FLEXQ_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
